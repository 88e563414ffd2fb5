"""A campaign as the domain sees it: the schema of a campaign file (pydantic models over
plain values), its phases' resolved dates, the organization's vocabulary it may name, and a
campaign as loaded. Reading a file and turning its errors into lines is config/spec.py's."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pendulum
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from models.domain.date_rules import DateRule, format_rule, parse_rule
from models.domain.permissions import FALLBACK_RESPONSIBLE_ROLES
from models.domain.text_safety import unsafe_characters
from models.domain.working_days import RollPolicy
from models.errors import DateRuleError


def known_timezone(value: str) -> str:
    """The value, when it names an IANA timezone; ValueError otherwise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"没有时区 {value}（应如 Asia/Shanghai）") from exc
    return value


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
        raise ValueError(f"含有控制字符（{'、'.join(bad)}）")
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
            raise ValueError(f"units、persons、pairings 须且只须写一个（写了 {len(given)} 个）")
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

    @property
    def submissions_needed(self) -> int:
        """How many submissions make one of its items done: a recurring one's `at_least` in
        each window, else one, which a later submission then replaces."""
        return self.recurrence.at_least if self.recurrence else 1


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
    select: WaveSelect | None = Field(
        None,
        description="absent: every unit of the kinds the waves before select, not picked by them",
    )
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
            raise ValueError("fraction、count 须且只须写一个")
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
            inspected = by_key.get(inspection.obligation)
            if inspected is not None:
                yield inspected, self.rectification(inspection)

    def obligations_by_key(self) -> dict[str, Obligation]:
        """Every obligation by its key, rectifications included: what an item's
        `obligation_key` names (a lookup in the phases alone misses a rectification's)."""
        return {ob.key: ob for _, ob in self.obligations()}

    def policy_of(self, obligation: Obligation) -> ReminderPolicy:
        """The reminder policy an obligation follows: its own, else the campaign's."""
        return obligation.reminders or self.reminders

    def policies_by_key(self) -> dict[str, ReminderPolicy]:
        """The policy each obligation's items follow, by the obligation's key: two versions
        of a campaign remind alike when these are equal."""
        return {ob.key: self.policy_of(ob) for _, ob in self.obligations()}

    def supervising(self, obligation: Obligation) -> frozenset[str]:
        """The roles that answer for an obligation's items: their holders are reminded of
        them, may submit for the units below, see them on their list and in 进度."""
        return frozenset(self.policy_of(obligation).responsible_roles or ())

    def responsible_roles(self) -> frozenset[str]:
        """Every role that answers for some item of the campaign: the union of its
        obligations' (the campaign's own roles count only through the obligations that
        take its policy, as `may_submit` counts them)."""
        return frozenset(r for _, ob in self.obligations() for r in self.supervising(ob))

    def district_roles(self) -> frozenset[str]:
        """Every role the campaign's district escalations reach: the union of its
        obligations' policies, as `responsible_roles` is."""
        return frozenset(
            r for _, ob in self.obligations() for r in self.policy_of(ob).district_roles or ()
        )

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

    @property
    def first_day(self) -> pendulum.Date:
        """The day the campaign's first phase opens."""
        return min(d.starts for d in self.phase_dates.values())

    @property
    def last_day(self) -> pendulum.Date:
        """The day its last phase closes."""
        return max(d.ends for d in self.phase_dates.values())
