"""The campaign file: its loader and every check `campaign validate` makes (the schema it
loads into is models/domain/campaign.py).

A campaign file is YAML (config/campaigns/<key>.yaml). Loading it yields a `CampaignSpec`
and its resolved phase dates, or a SpecError whose problems read `FILE:LINE: field: message`.
"""

from __future__ import annotations

import difflib
import hashlib
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pendulum
from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic_core import ErrorDetails

from config.pydantic_zh import message_zh
from config.yaml_lines import (
    LoadedYaml,
    Loc,
    YamlLoadError,
    format_loc,
    load_yaml_text,
    read_text_file,
)
from models.domain.campaign import (
    RECTIFY_PREFIX,
    CampaignSpec,
    LoadedCampaign,
    OrgVocabulary,
    PhaseDates,
    ReminderPolicy,
    with_default_roles,
)
from models.domain.date_rules import resolve
from models.domain.working_days import WorkCalendar
from models.errors import CampaignError, SpecError

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


def _message(error: ErrorDetails) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        names = _field_names(_model_at(loc[:-1]))
        near = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
        hint = f"；是不是 {near[0]}？" if near else ""
        allowed = f"（可用的有：{'、'.join(names)}{hint}）" if names else ""
        return f"不认识的字段 {loc[-1]}{allowed}"
    if kind in ("missing", "value_error", "assertion_error"):
        return message_zh(error)
    value = error.get("input")
    shown = repr(value) if not isinstance(value, dict | list) else _kind_of(value)
    if kind in ("model_type", "model_attributes_type") and (names := _field_names(_model_at(loc))):
        # `sign_off: org-committee` for `sign_off: {role: …, by: …}`: say what the mapping holds
        return f"应为映射（可用的有：{'、'.join(names)}），而不是 {shown}"
    return f"{message_zh(error)}，而不是 {shown}"


def _field_names(model: type[BaseModel] | None) -> list[str]:
    """The names a campaign file writes a model's fields by."""
    return [f.alias or n for n, f in model.model_fields.items()] if model else []


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

    def unique(items: Sequence[Any], loc: Callable[[int], Loc], what: str) -> set[str]:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.key in seen:
                problems.append(((*loc(i), "key"), f"{what}的 key {item.key} 重复"))
            seen.add(item.key)
        return seen

    phase_keys = unique(spec.phases, lambda i: ("phases", i), "环节")
    target_keys = unique(spec.targets, lambda i: ("targets", i), "目标")
    gate_keys = unique(spec.gates, lambda i: ("gates", i), "闸门")
    unique(spec.waves, lambda i: ("waves", i), "批次")
    unique(spec.inspections, lambda i: ("inspections", i), "抽查")
    obligation_keys: set[str] = set()
    for p, phase in enumerate(spec.phases):
        for o, ob in enumerate(phase.obligations):
            if ob.key.startswith(RECTIFY_PREFIX):
                problems.append(
                    (
                        ("phases", p, "obligations", o, "key"),
                        f"以 {RECTIFY_PREFIX} 开头的事项 key 留给抽查发现问题后的整改使用",
                    )
                )
            if ob.key in obligation_keys:
                problems.append(
                    (("phases", p, "obligations", o, "key"), f"事项的 key {ob.key} 重复")
                )
            obligation_keys.add(ob.key)

    if org is not None and org.key != spec.organization:
        problems.append((("organization",), f"应为 {org.key}"))

    def role(loc: Loc, name: str) -> None:
        if org is not None and name not in org.roles:
            problems.append(
                (
                    loc,
                    f"组织 {org.key} 中没有角色 {name}（已有：{'、'.join(sorted(org.roles))}）",
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
            problems.append((("phases", i, "end"), f"环节结束于 {pd.ends}，早于开始的 {pd.starts}"))
        if phase.parallel:
            continue
        if previous is not None and pd.starts <= previous[1].ends:
            j, before = previous
            problems.append(
                (
                    ("phases", i, "start"),
                    f"环节开始于 {pd.starts}，不在环节 {spec.phases[j].key} 结束的 "
                    f"{before.ends} 之后：环节须按先后排列、互不重叠"
                    "（与其他环节并行的常态工作写 parallel: true）",
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
            loc: Loc = ("phases", p, "obligations", o)
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
                                f"没有结对类型 {kind}（已有："
                                f"{'、'.join(sorted(org.pairing_kinds)) or '无'}）",
                            )
                        )
            if ob.evidence.sign_off is not None:
                role((*loc, "evidence", "sign_off", "role"), ob.evidence.sign_off.role)
            for c, count in enumerate(ob.evidence.counts):
                if count.target is not None and count.target not in target_keys:
                    problems.append(
                        (
                            (*loc, "evidence", "counts", c, "target"),
                            f"没有目标 {count.target}（已有："
                            f"{'、'.join(sorted(target_keys)) or '无'}）",
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
                    # A phase written to start on a holiday (10-01) starts on the next working
                    # day; a recurrence counted from the same written day is inside it.
                    inside = calendar.next_working_day(when) if field_loc[-1] == "from" else when
                except CampaignError as exc:
                    problems.append((field_loc, str(exc)))
                    continue
                if not pd.starts <= inside <= pd.ends:
                    problems.append(
                        (
                            field_loc,
                            f"{when} 不在环节 {phase.key} 之内（{pd.starts} 至 {pd.ends}）",
                        )
                    )

    for w, wave in enumerate(spec.waves):
        if wave.after_gate is not None and wave.after_gate not in gate_keys:
            problems.append(
                (
                    ("waves", w, "after_gate"),
                    f"没有闸门 {wave.after_gate}（已有：{'、'.join(sorted(gate_keys)) or '无'}）",
                )
            )
        for p, phase_key in enumerate(wave.phases):
            if phase_key not in phase_keys:
                problems.append((("waves", w, "phases", p), f"没有环节 {phase_key}"))
        if wave.select is None and w != len(spec.waves) - 1:
            problems.append((("waves", w), "只有最后一个批次可以不写 select（包揽其余）"))
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
            problems.append((("inspections", n, "obligation"), f"没有事项 {inspection.obligation}"))
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
        raise SpecError([loaded.problem((), "文件是空的，应为一个活动的映射")])
    if not isinstance(data, dict):
        raise SpecError([loaded.problem((), f"顶层应为映射（名称: 值），而不是{_kind_of(data)}")])
    try:
        spec = CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(
            [loaded.problem(e["loc"], _message(e)) for e in exc.errors(include_url=False)]
        ) from None
    found = org_lookup(spec.organization)
    problems: list[tuple[Loc, str]] = []
    org: OrgVocabulary | None = None
    if isinstance(found, str):
        problems.append((("organization",), found))
    else:
        org = found
        responsible, district = org.default_roles()
        spec = with_default_roles(spec, responsible, district)
        if not spec.reminders.responsible_roles:
            problems.append(
                (
                    ("reminders",),
                    f"组织 {org.key} 没有指定为单位接收提醒的角色：请在此写 "
                    "reminders.responsible_roles，或在组织文件中写 responsible_roles（责任角色）",
                )
            )
    dates, more = check_campaign(spec, calendar, org)
    problems += more
    if problems:
        raise SpecError([loaded.problem(loc, msg) for loc, msg in problems])
    return LoadedCampaign(spec, loaded.path, content_hash(text), text, dates)


def as_written(loaded: LoadedCampaign) -> CampaignSpec:
    """The campaign as its file writes it, before the organization's roles fill what it
    leaves out: what a workbook exports, so that a campaign that took its organization's
    责任角色 still takes them after a round trip (and follows a later change of them)."""
    return CampaignSpec.model_validate(load_yaml_text(loaded.text, loaded.path).data)


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
        list: "列表",
        str: "文字",
        int: "数字",
        float: "数字",
        bool: "true/false",
    }.get(type(value), type(value).__name__)
