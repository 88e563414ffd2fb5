"""The campaign file: its schema, its loader, and every check `campaign validate` makes.

A campaign file is YAML (config/campaigns/<key>.yaml). Loading it yields a `CampaignSpec`
and its resolved phase dates, or a SpecError whose problems read `FILE:LINE: field: message`.
"""

from __future__ import annotations

import difflib
import hashlib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pendulum
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from config.settings import known_timezone
from config.yaml_lines import (
    LoadedYaml,
    Loc,
    YamlLoadError,
    format_loc,
    load_yaml_text,
    read_text_file,
)
from models.domain.date_rules import DateRule, format_rule, parse_rule, resolve
from models.domain.permissions import FALLBACK_RESPONSIBLE_ROLES
from models.domain.text_safety import unsafe_characters
from models.domain.working_days import RollPolicy, WorkCalendar
from models.errors import CampaignError, DateRuleError, SpecError

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
UnitKind = Literal["district", "town", "street", "village", "community", "enterprise", "department"]
UNIT_KINDS: tuple[str, ...] = typing.get_args(UnitKind)
RECTIFY_PREFIX = "rectification-"
Cadence = Literal[
    "week",
    "month",
    "two-months",
    "quarter",
    "half-year",
    "year",
    # once a year, due on the last working day before the festival
    "spring-festival",
    "july-first",
    "national-day",
]


def _rule(value: object) -> DateRule:
    try:
        return parse_rule(value)
    except DateRuleError as exc:
        raise ValueError(str(exc)) from exc


# Parsed on the way in, written back as text on the way out (stored obligations round-trip).
Rule = Annotated[Any, BeforeValidator(_rule), PlainSerializer(format_rule, return_type=str)]


def _no_control(value: str) -> str:
    """A name or title with no control character or bidirectional override: a newline
    would forge a line in a digest, an ESC kill a workbook (models/domain/text_safety.py)."""
    bad = unsafe_characters(value)
    if bad:
        raise ValueError(f"holds a control character ({', '.join(bad)})")
    return value


Text = Annotated[str, AfterValidator(_no_control)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class UnitSubject(Strict):
    kinds: list[UnitKind] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list, description="the unit must carry all of them")
    codes: list[str] = Field(default_factory=list, description="only these units")


class PersonSubject(Strict):
    roles: list[Slug] = Field(min_length=1)
    unit_kinds: list[UnitKind] = Field(
        default_factory=list, description="only people of units of these kinds"
    )


class PairingSubject(Strict):
    kinds: list[Slug] = Field(min_length=1)


class Subject(Strict):
    """Who an obligation falls on: exactly one of units, persons or pairings."""

    units: UnitSubject | None = None
    persons: PersonSubject | None = None
    pairings: PairingSubject | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Subject:
        given = [n for n in ("units", "persons", "pairings") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of units, persons, pairings (got {len(given)})")
        return self

    @property
    def kind(self) -> str:
        """The subject type its checklist items carry: unit, person or pairing."""
        return "unit" if self.units else "person" if self.persons else "pairing"


class CountSpec(Strict):
    key: Slug
    name: Text
    target: Slug | None = Field(None, description="the campaign target this count adds to")
    min: int | None = Field(None, ge=0, description="the least a subject must report")


class SignOff(Strict):
    role: Slug
    by: Literal["supervisor", "same-unit", "district"] = "supervisor"


class EvidenceRule(Strict):
    note: bool = False
    counts: list[CountSpec] = Field(default_factory=list)
    files: int = Field(0, ge=0)
    sign_off: SignOff | None = None


class Recurrence(Strict):
    every: Cadence
    at_least: int = Field(
        1, ge=1, description="submissions dated inside one window that satisfy its item"
    )
    from_: Rule | None = Field(None, alias="from")
    until: Rule | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ReminderPolicy(Strict):
    before: int = Field(3, ge=0, description="working days before the due date")
    on_due: bool = True
    overdue_every: int = Field(2, ge=1, description="working days between overdue repeats")
    overdue_repeats: int = Field(3, ge=0, description="how many overdue reminders at most")
    escalate_after: int = Field(5, ge=1, description="working days overdue before escalating")
    district_after: int = Field(10, ge=1, description="working days overdue before the district")
    at: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # Absent: an obligation's policy takes the campaign's, the campaign's its organization's
    # defaults (filled in when the file is loaded, so that a loaded spec always names them).
    responsible_roles: list[Slug] | None = Field(
        None, description="who answers for a unit, in order of preference"
    )
    district_roles: list[Slug] | None = None


# Used when an organization names no defaults of its own: the roles of these codes it has.
FALLBACK_DISTRICT_ROLES = ("org-dept-head",)


class Obligation(Strict):
    key: Slug
    title: Text = Field(min_length=1)
    subject: Subject
    due: Rule | None = Field(None, description="default: the phase's end")
    recurrence: Recurrence | None = None
    evidence: EvidenceRule = Field(default_factory=EvidenceRule)
    reminders: ReminderPolicy | None = None
    detail: str | None = None


class Phase(Strict):
    key: Slug
    name: Text = Field(min_length=1)
    start: Rule
    end: Rule
    parallel: bool = Field(
        False,
        description="a standing duty that runs alongside the other phases: its dates are not "
        "checked for order against theirs",
    )
    detail: str | None = None
    obligations: list[Obligation] = Field(default_factory=list)


class WaveSelect(Strict):
    kinds: list[UnitKind] = Field(min_length=1)
    per: Literal["town", "district"] = "town"
    count: int = Field(1, ge=1)
    prefer_tags: list[str] = Field(default_factory=list)


class Wave(Strict):
    key: Slug
    name: Text
    select: WaveSelect | None = Field(None, description="absent: every unit not in an earlier wave")
    phases: list[Slug] = Field(
        min_length=1, description="the phases whose unit obligations fall on this wave's units"
    )
    after_gate: Slug | None = None


class Gate(Strict):
    key: Slug
    name: Text
    approvers: list[Slug] = Field(min_length=1)
    detail: str | None = None


class Sample(Strict):
    fraction: float | None = Field(None, gt=0, le=1)
    count: int | None = Field(None, ge=1)
    stratify: Literal["town", "none"] = "town"
    seed: int = 0
    repeat: bool = Field(
        False, description="may a subject checked last time be drawn again at once"
    )

    @model_validator(mode="after")
    def _one_size(self) -> Sample:
        if (self.fraction is None) == (self.count is None):
            raise ValueError("give exactly one of fraction, count")
        return self


class Inspection(Strict):
    key: Slug
    name: Text
    obligation: Slug
    cadence: Literal["once", "monthly", "quarterly", "phase-end"]
    sample: Sample
    inspectors: list[Slug] = Field(min_length=1)
    rectify_within: int = Field(30, ge=1, description="days a rectification is given")


class Target(Strict):
    key: Slug
    name: Text
    unit: Text = ""
    value: int = Field(ge=0)


class CampaignSpec(Strict):
    key: Slug
    name: Text = Field(min_length=1)
    organization: Slug
    timezone: str = "Asia/Shanghai"
    deadline_roll: RollPolicy = RollPolicy.PREVIOUS
    source: str | None = None
    detail: str | None = None
    reminders: ReminderPolicy = Field(default_factory=ReminderPolicy)
    targets: list[Target] = Field(default_factory=list)
    phases: list[Phase] = Field(min_length=1)
    waves: list[Wave] = Field(default_factory=list)
    gates: list[Gate] = Field(default_factory=list)
    inspections: list[Inspection] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return known_timezone(value)

    def obligations(self) -> Iterable[tuple[Phase, Obligation]]:
        """Every obligation with its phase, the rectifications that inspections raise
        included (they are never planned: a failed check creates their items)."""
        by_key = {}
        for phase in self.phases:
            for obligation in phase.obligations:
                by_key[obligation.key] = phase
                yield phase, obligation
        for inspection in self.inspections:
            phase = by_key.get(inspection.obligation)
            if phase is not None:
                yield phase, self.rectification(inspection)

    def inspected(self, inspection: Inspection) -> tuple[Phase, Obligation]:
        """The phase and obligation an inspection checks (the file is validated: it exists)."""
        return next(
            (p, o) for p in self.phases for o in p.obligations if o.key == inspection.obligation
        )

    def rectification(self, inspection: Inspection) -> Obligation:
        """The obligation a failed check puts on its subject: rectify by the deadline, with a
        note of what was done; an inspector's passing re-inspection accepts it."""
        _, inspected = self.inspected(inspection)
        return Obligation(
            key=f"{RECTIFY_PREFIX}{inspection.key}",
            title=f"限期整改：{inspection.name}",
            subject=inspected.subject,
            evidence=EvidenceRule(
                note=True, sign_off=SignOff(role=inspection.inspectors[0], by="district")
            ),
            reminders=inspected.reminders,
        )


@dataclass(frozen=True)
class PhaseDates:
    key: str
    starts: pendulum.Date
    ends: pendulum.Date


@dataclass(frozen=True)
class OrgVocabulary:
    """What a campaign may name of its organization: roles and pairing kinds, and whom its
    campaigns remind when they name nobody."""

    key: str
    roles: frozenset[str]
    pairing_kinds: frozenset[str]
    responsible_roles: tuple[str, ...] = ()
    district_roles: tuple[str, ...] = ()

    def default_roles(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(responsible, district) roles for a campaign that names none."""
        responsible = self.responsible_roles or tuple(
            r for r in FALLBACK_RESPONSIBLE_ROLES if r in self.roles
        )
        district = self.district_roles or tuple(
            r for r in FALLBACK_DISTRICT_ROLES if r in self.roles
        )
        return responsible, district


def with_default_roles(
    spec: CampaignSpec, responsible: Sequence[str], district: Sequence[str]
) -> CampaignSpec:
    """The spec with every reminder policy naming its roles: an obligation's absent ones are
    the campaign's, the campaign's absent ones the organization's."""

    def filled(policy: ReminderPolicy, r: Sequence[str], d: Sequence[str]) -> ReminderPolicy:
        return policy.model_copy(
            update={
                "responsible_roles": list(
                    policy.responsible_roles if policy.responsible_roles is not None else r
                ),
                "district_roles": list(
                    policy.district_roles if policy.district_roles is not None else d
                ),
            }
        )

    top = filled(spec.reminders, responsible, district)
    r, d = top.responsible_roles or [], top.district_roles or []
    phases = [
        phase.model_copy(
            update={
                "obligations": [
                    ob.model_copy(update={"reminders": filled(ob.reminders, r, d)})
                    if ob.reminders is not None
                    else ob
                    for ob in phase.obligations
                ]
            }
        )
        for phase in spec.phases
    ]
    return spec.model_copy(update={"reminders": top, "phases": phases})


@dataclass(frozen=True)
class LoadedCampaign:
    spec: CampaignSpec
    path: Path
    content_hash: str
    text: str
    phase_dates: dict[str, PhaseDates]


# ---------------------------------------------------------------- pydantic errors → lines


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that the location points into, to list its fields."""
    current: Any = CampaignSpec
    for part in loc:
        if isinstance(part, int):  # an item of a list: the list's model, already unwrapped
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) or next(
                (f for f in current.model_fields.values() if f.alias == part), None
            )
            if field is None:
                return None
            current = field.annotation
        elif isinstance(part, int):
            pass
        else:
            return None
        current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """list[X] and X | None to X."""
    while True:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        origin = typing.get_origin(annotation)
        if origin in (list, typing.Union, types.UnionType) and len(args) == 1:
            annotation = args[0]
            continue
        return annotation


def _message(error: dict[str, Any]) -> str:
    kind, loc, msg = error["type"], error["loc"], error["msg"]
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        names = [f.alias or n for n, f in parent.model_fields.items()] if parent else []
        near = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        allowed = f" (expected one of: {', '.join(names)}{hint})" if names else ""
        return f"unknown field {loc[-1]!r}{allowed}"
    if kind == "missing":
        return "required field is missing"
    msg = msg.removeprefix("Value error, ")
    if kind in ("value_error", "assertion_error"):
        return msg
    value = error.get("input")
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return f"{msg}, got {shown}"


# ---------------------------------------------------------------- checks after the schema


def resolve_phase_dates(
    spec: CampaignSpec, calendar: WorkCalendar
) -> tuple[dict[str, PhaseDates], list[tuple[Loc, str]]]:
    """Phase dates in order: starts roll forward to a working day, ends by the roll policy."""
    known: dict[str, tuple[pendulum.Date | None, pendulum.Date | None]] = {}
    out: dict[str, PhaseDates] = {}
    problems: list[tuple[Loc, str]] = []
    for i, phase in enumerate(spec.phases):
        if phase.key in known:
            continue  # a duplicate key, reported on its own
        known[phase.key] = (None, None)
        try:
            start = calendar.next_working_day(
                resolve(phase.start, calendar, phases=known, current_phase=phase.key)
            )
        except CampaignError as exc:
            problems.append((("phases", i, "start"), str(exc)))
            continue
        known[phase.key] = (start, None)
        try:
            end = calendar.roll(
                resolve(phase.end, calendar, phases=known, current_phase=phase.key),
                spec.deadline_roll,
            )
        except CampaignError as exc:
            problems.append((("phases", i, "end"), str(exc)))
            continue
        known[phase.key] = (start, end)
        out[phase.key] = PhaseDates(phase.key, start, end)
    return out, problems


def check_campaign(
    spec: CampaignSpec, calendar: WorkCalendar, org: OrgVocabulary | None
) -> tuple[dict[str, PhaseDates], list[tuple[Loc, str]]]:
    """Every check beyond the schema: references, dates, order, years the calendar covers."""
    problems: list[tuple[Loc, str]] = []

    def unique(items: Sequence[Any], loc: Loc, what: str) -> set[str]:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.key in seen:
                problems.append(((*loc(i), "key"), f"duplicate {what} key {item.key!r}"))
            seen.add(item.key)
        return seen

    phase_keys = unique(spec.phases, lambda i: ("phases", i), "phase")
    target_keys = unique(spec.targets, lambda i: ("targets", i), "target")
    gate_keys = unique(spec.gates, lambda i: ("gates", i), "gate")
    unique(spec.waves, lambda i: ("waves", i), "wave")
    unique(spec.inspections, lambda i: ("inspections", i), "inspection")
    obligation_keys: set[str] = set()
    for p, phase in enumerate(spec.phases):
        for o, ob in enumerate(phase.obligations):
            if ob.key.startswith(RECTIFY_PREFIX):
                problems.append(
                    (
                        ("phases", p, "obligations", o, "key"),
                        f"obligation keys starting {RECTIFY_PREFIX!r} are kept for the "
                        "rectifications that inspections raise",
                    )
                )
            if ob.key in obligation_keys:
                problems.append(
                    (("phases", p, "obligations", o, "key"), f"duplicate obligation key {ob.key!r}")
                )
            obligation_keys.add(ob.key)

    if org is not None and org.key != spec.organization:
        problems.append((("organization",), f"expected {org.key!r}"))

    def role(loc: Loc, name: str) -> None:
        if org is not None and name not in org.roles:
            problems.append(
                (
                    loc,
                    f"unknown role {name!r} in organization {org.key!r} "
                    f"(known: {', '.join(sorted(org.roles))})",
                )
            )

    dates, date_problems = resolve_phase_dates(spec, calendar)
    problems += date_problems
    previous: tuple[int, PhaseDates] | None = None
    for i, phase in enumerate(spec.phases):
        pd = dates.get(phase.key)
        if pd is None:
            continue
        if pd.ends < pd.starts:
            problems.append(
                (("phases", i, "end"), f"phase ends {pd.ends} before it starts {pd.starts}")
            )
        if phase.parallel:
            continue
        if previous is not None and pd.starts <= previous[1].ends:
            j, before = previous
            problems.append(
                (
                    ("phases", i, "start"),
                    f"phase starts {pd.starts}, not after phase {spec.phases[j].key!r} "
                    f"ends {before.ends}: phases must be in order and must not overlap "
                    "(a standing duty that runs alongside others says parallel: true)",
                )
            )
        previous = (i, pd)

    if dates:
        first = min(d.starts for d in dates.values()).year
        last = max(d.ends for d in dates.values()).year
        for year in range(first, last + 1):
            if not calendar.covers(year):
                try:
                    calendar.check_year(year)
                except CampaignError as exc:
                    problems.append((("phases",), str(exc)))

    for p, phase in enumerate(spec.phases):
        pd = dates.get(phase.key)
        for o, ob in enumerate(phase.obligations):
            loc = ("phases", p, "obligations", o)
            subject = ob.subject
            if subject.persons is not None:
                for r, name in enumerate(subject.persons.roles):
                    role((*loc, "subject", "persons", "roles", r), name)
            if subject.pairings is not None and org is not None:
                for k, kind in enumerate(subject.pairings.kinds):
                    if kind not in org.pairing_kinds:
                        problems.append(
                            (
                                (*loc, "subject", "pairings", "kinds", k),
                                f"unknown pairing kind {kind!r} (known: "
                                f"{', '.join(sorted(org.pairing_kinds)) or 'none'})",
                            )
                        )
            if ob.evidence.sign_off is not None:
                role((*loc, "evidence", "sign_off", "role"), ob.evidence.sign_off.role)
            for c, count in enumerate(ob.evidence.counts):
                if count.target is not None and count.target not in target_keys:
                    problems.append(
                        (
                            (*loc, "evidence", "counts", c, "target"),
                            f"unknown target {count.target!r} (known: "
                            f"{', '.join(sorted(target_keys)) or 'none'})",
                        )
                    )
            if pd is None:
                continue
            rules: list[tuple[Loc, Any]] = [((*loc, "due"), ob.due)]
            if ob.recurrence is not None:
                rules += [
                    ((*loc, "recurrence", "from"), ob.recurrence.from_),
                    ((*loc, "recurrence", "until"), ob.recurrence.until),
                ]
            for field_loc, rule in rules:
                if rule is None:
                    continue
                try:
                    when = resolve(rule, calendar, phases=_known(dates), current_phase=phase.key)
                    if field_loc[-1] == "due":
                        when = calendar.roll(when, spec.deadline_roll)
                except CampaignError as exc:
                    problems.append((field_loc, str(exc)))
                    continue
                if not pd.starts <= when <= pd.ends:
                    problems.append(
                        (
                            field_loc,
                            f"{when} is outside phase {phase.key!r} ({pd.starts} to {pd.ends})",
                        )
                    )

    for w, wave in enumerate(spec.waves):
        if wave.after_gate is not None and wave.after_gate not in gate_keys:
            problems.append(
                (
                    ("waves", w, "after_gate"),
                    f"unknown gate {wave.after_gate!r} "
                    f"(known: {', '.join(sorted(gate_keys)) or 'none'})",
                )
            )
        for p, phase_key in enumerate(wave.phases):
            if phase_key not in phase_keys:
                problems.append((("waves", w, "phases", p), f"unknown phase {phase_key!r}"))
        if wave.select is None and w != len(spec.waves) - 1:
            problems.append((("waves", w), "only the last wave may take the rest (no select)"))
    policies: list[tuple[Loc, ReminderPolicy]] = [(("reminders",), spec.reminders)]
    policies += [
        (("phases", p, "obligations", o, "reminders"), ob.reminders)
        for p, phase in enumerate(spec.phases)
        for o, ob in enumerate(phase.obligations)
        if ob.reminders is not None
    ]
    for loc, policy in policies:
        for field in ("responsible_roles", "district_roles"):
            for r, name in enumerate(getattr(policy, field) or ()):
                role((*loc, field, r), name)
    for g, gate in enumerate(spec.gates):
        for a, name in enumerate(gate.approvers):
            role(("gates", g, "approvers", a), name)
    for n, inspection in enumerate(spec.inspections):
        if inspection.obligation not in obligation_keys:
            problems.append(
                (("inspections", n, "obligation"), f"unknown obligation {inspection.obligation!r}")
            )
        for a, name in enumerate(inspection.inspectors):
            role(("inspections", n, "inspectors", a), name)
    return dates, problems


def _known(dates: dict[str, PhaseDates]) -> dict[str, tuple[pendulum.Date, pendulum.Date]]:
    return {k: (v.starts, v.ends) for k, v in dates.items()}


# ---------------------------------------------------------------- loading


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_campaign(
    loaded: LoadedYaml,
    *,
    calendar: WorkCalendar,
    org_lookup: typing.Callable[[str], OrgVocabulary | str],
    text: str,
) -> LoadedCampaign:
    """Schema and checks over parsed YAML; SpecError carries every problem found."""
    data = loaded.data
    if data is None:
        raise SpecError([loaded.problem((), "empty file, expected a campaign mapping")])
    if not isinstance(data, dict):
        raise SpecError(
            [loaded.problem((), f"expected a mapping at the top level, found {_kind_of(data)}")]
        )
    try:
        spec = CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(
            [loaded.problem(e["loc"], _message(e)) for e in exc.errors(include_url=False)]
        ) from None
    org = org_lookup(spec.organization)
    problems: list[tuple[Loc, str]] = []
    if isinstance(org, str):
        problems.append((("organization",), org))
        org = None
    else:
        responsible, district = org.default_roles()
        spec = with_default_roles(spec, responsible, district)
        if not spec.reminders.responsible_roles:
            problems.append(
                (
                    ("reminders",),
                    f"organization {org.key!r} names no roles to remind for a unit: give "
                    "reminders.responsible_roles here, or responsible_roles (责任角色) in the "
                    "organization's file",
                )
            )
    dates, more = check_campaign(spec, calendar, org)
    problems += more
    if problems:
        raise SpecError([loaded.problem(loc, msg) for loc, msg in problems])
    return LoadedCampaign(spec, loaded.path, content_hash(text), text, dates)


def load_campaign(
    path: Path,
    *,
    calendar: WorkCalendar,
    org_lookup: typing.Callable[[str], OrgVocabulary | str],
) -> LoadedCampaign:
    """Read and check a campaign file; SpecError lists every problem as FILE:LINE: ..."""
    try:
        text = read_text_file(path)
        loaded = load_yaml_text(text, path)
    except YamlLoadError as exc:
        raise SpecError([f"{path}:{exc.line}: {format_loc(())}: {exc}"]) from None
    return parse_campaign(loaded, calendar=calendar, org_lookup=org_lookup, text=text)


def _kind_of(value: object) -> str:
    return {
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
    }.get(type(value), type(value).__name__)
