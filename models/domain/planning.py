"""Rollout planning: which checklist items a campaign asks of which subjects, and when.

Pure: the campaign, its phase dates, an organization snapshot and the calendar go in; plain
item rows come out, town by town, so that a province-sized rollout streams in batches.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import EllipsisType
from typing import Generic, NamedTuple, Protocol, TypeVar

import pendulum

from models.domain.campaign import CampaignSpec, Obligation, PhaseDates, Recurrence, Wave
from models.domain.date_rules import HOLIDAYS, BeforeHoliday, DateRule, resolve
from models.domain.org_snapshot import OrgSnapshot, UnitInfo
from models.domain.vocabulary import SubjectType
from models.domain.working_days import RollPolicy, WorkCalendar, to_date

ONCE = "once"


@dataclass(frozen=True)
class Occurrence:
    """One window of an obligation: its label, the days it covers and its due date."""

    label: str
    starts: pendulum.Date
    ends: pendulum.Date
    due: pendulum.Date


@dataclass(frozen=True)
class Subject:
    type: str  # unit | person | pairing
    id: int
    unit_id: int  # the unit answerable for it
    town_id: int | None


def _window(cadence: str, day: pendulum.Date) -> tuple[str, pendulum.Date, pendulum.Date]:
    """The calendar window of a cadence that contains the day: label, first and last day."""
    if cadence == "week":
        monday = day.subtract(days=day.isoweekday() - 1)
        iso_year, iso_week, _ = day.isocalendar()
        return f"{iso_year}-W{iso_week:02d}", monday, monday.add(days=6)
    if cadence == "year":
        return str(day.year), pendulum.Date(day.year, 1, 1), pendulum.Date(day.year, 12, 31)
    months = {"month": 1, "two-months": 2, "quarter": 3, "half-year": 6}[cadence]
    index = (day.month - 1) // months
    first = pendulum.Date(day.year, index * months + 1, 1)
    last = first.add(months=months).subtract(days=1)
    label = {
        "month": f"{day.year}-{day.month:02d}",
        "two-months": f"{day.year}-B{index + 1}",
        "quarter": f"{day.year}-Q{index + 1}",
        "half-year": f"{day.year}-H{index + 1}",
    }[cadence]
    return label, first, last


FESTIVAL_LEAD_MONTHS = 1  # a festival's window opens a month before it


def festival_windows(
    holiday: str, span_start: pendulum.Date, span_end: pendulum.Date, calendar: WorkCalendar
) -> list[Occurrence]:
    """One window per year whose festival deadline (the last working day before it) falls in
    the span; the window runs from a month before that day to the day."""
    out = []
    for year in range(span_start.year, span_end.year + 1):
        due = resolve(BeforeHoliday(holiday, year), calendar)
        if span_start <= due <= span_end:
            starts = max(due.subtract(months=FESTIVAL_LEAD_MONTHS), span_start)
            out.append(Occurrence(f"{year}-{holiday}", starts, due, due))
    return out


def windows(
    recurrence: Recurrence,
    span_start: pendulum.Date,
    span_end: pendulum.Date,
    calendar: WorkCalendar,
    roll: RollPolicy,
) -> list[Occurrence]:
    """Windows of the cadence that tile [span_start, span_end], clipped to it, each with a
    due date at its end moved to a working day (never before the window opens). Festival
    cadences do not tile: each has one window before its festival."""
    if recurrence.every in HOLIDAYS:
        return festival_windows(recurrence.every, span_start, span_end, calendar)
    out = []
    day = span_start
    while day <= span_end:
        label, first, last = _window(recurrence.every, day)
        starts, ends = max(first, span_start), min(last, span_end)
        due = calendar.roll(ends, roll)
        if due < starts:
            due = calendar.next_working_day(starts)
        out.append(Occurrence(label, starts, ends, due))
        day = last.add(days=1)
    return out


def in_window(day: dt.date, opens: dt.date | None, closes: dt.date | None) -> bool:
    """Whether what was done on `day` counts for an item: a recurring item's only inside
    its window, any other item's on any day (either, from its phase's opening on:
    `date_rules.first_record_day`)."""
    return opens is None or closes is None or opens <= day <= closes


def not_open_yet(opens: dt.date | None, today: dt.date) -> bool:
    """A recurring item whose window has not begun: nothing can be reported for it yet."""
    return opens is not None and today < opens


class Windowed(Protocol):
    @property
    def opens_on(self) -> dt.date | None: ...


W = TypeVar("W", bound=Windowed)


class Begun(NamedTuple, Generic[W]):
    now: list[W]  # what may be reported today
    ahead: list[dt.date]  # the days the others' windows open


def begun(items: Iterable[W], today: dt.date) -> Begun[W]:
    """A person's list and an offline template alike list only the items whose window has
    begun and count the rest: a weekly meeting's next 40 weeks would bury this week's under
    what nobody can report yet, and a template's row for them invite a date the import must
    refuse."""
    out = Begun[W]([], [])
    for item in items:
        if item.opens_on is not None and not_open_yet(item.opens_on, today):
            out.ahead.append(item.opens_on)
        else:
            out.now.append(item)
    return out


def occurrences(
    spec: CampaignSpec,
    obligation: Obligation,
    phase_key: str,
    dates: dict[str, PhaseDates],
    calendar: WorkCalendar,
) -> list[Occurrence]:
    """Every occurrence of an obligation: one, or one per window of its recurrence."""
    phase = dates[phase_key]
    known = {k: (v.starts, v.ends) for k, v in dates.items()}

    def at(rule: DateRule | None, default: pendulum.Date) -> pendulum.Date:
        if rule is None:
            return default
        return resolve(rule, calendar, phases=known, current_phase=phase_key)

    if obligation.recurrence is None:
        due = calendar.roll(at(obligation.due, phase.ends), spec.deadline_roll)
        return [Occurrence(ONCE, phase.starts, due, due)]
    span_start = at(obligation.recurrence.from_, phase.starts)
    span_end = at(obligation.recurrence.until, phase.ends)
    return windows(obligation.recurrence, span_start, span_end, calendar, spec.deadline_roll)


def subjects(obligation: Obligation, org: OrgSnapshot) -> list[Subject]:
    """The units, persons or pairings an obligation falls on, in code order."""
    s = obligation.subject
    if s.units is not None:
        kinds, tags, codes = set(s.units.kinds), set(s.units.tags), set(s.units.codes)
        chosen = [
            u
            for u in org.units.values()
            if u.kind in kinds
            and tags <= u.tags
            and (not codes or u.code in codes)
            and not u.retired
        ]
        return [subject(org, SubjectType.UNIT, u.id) for u in sorted(chosen, key=lambda u: u.code)]
    if s.persons is not None:
        roles, unit_kinds = set(s.persons.roles), set(s.persons.unit_kinds)
        people = sorted(
            (
                p
                for p in org.persons.values()
                if p.roles & roles
                and (not unit_kinds or org.units[p.unit_id].kind in unit_kinds)
                and not org.units[p.unit_id].retired
            ),
            key=lambda p: p.code,
        )
        return [subject(org, SubjectType.PERSON, p.id) for p in people]
    assert s.pairings is not None
    pairing_kinds = set(s.pairings.kinds)
    pairs = sorted(
        (p for p in org.pairings.values() if p.kind in pairing_kinds), key=lambda p: p.code
    )
    return [subject(org, SubjectType.PAIRING, pair.id) for pair in pairs]


def subject(org: OrgSnapshot, kind: str, subject_id: int) -> Subject:
    """A subject with the unit and town it belongs to."""
    unit_id = org.unit_of(kind, subject_id)
    return Subject(kind, subject_id, unit_id, org.units[unit_id].town_id)


def waved_kinds(spec: CampaignSpec) -> set[str]:
    """The unit kinds the waves split: those a selecting wave picks from. In a waved phase a
    unit of another kind, and any person or pairing, is not split: it goes out at once."""
    return {k for w in spec.waves if w.select for k in w.select.kinds}


class NamedUnit(NamedTuple):
    """A unit a campaign names by code, as its organization holds it."""

    kind: str
    retired: bool


def named_unit_codes(spec: CampaignSpec) -> set[str]:
    """The unit codes the campaign's subjects name."""
    return {
        code
        for _, ob in spec.obligations()
        if ob.subject.units is not None
        for code in ob.subject.units.codes
    }


def named_unit_problems(
    spec: CampaignSpec, known: Mapping[str, NamedUnit]
) -> tuple[list[tuple[tuple[str | int, ...], str]], list[tuple[tuple[str | int, ...], str]]]:
    """(errors, warnings) of the units a campaign names by code against its organization's
    (`known`, those of the named codes it holds): a code it lacks (a typo: the unit would
    silently get nothing), a unit of a kind the subject does not take (likewise), a unit
    retired (valid, but nothing will be asked of it)."""
    errors: list[tuple[tuple[str | int, ...], str]] = []
    warnings: list[tuple[tuple[str | int, ...], str]] = []
    for p, phase in enumerate(spec.phases):
        for o, ob in enumerate(phase.obligations):
            units = ob.subject.units
            if units is None:
                continue
            for c, code in enumerate(units.codes):
                loc = ("phases", p, "obligations", o, "subject", "units", "codes", c)
                found = known.get(code)
                if found is None:
                    errors.append((loc, f"组织 {spec.organization} 中没有单位 {code}"))
                elif found.kind not in units.kinds:
                    errors.append(
                        (
                            loc,
                            f"单位 {code} 的类型是 {found.kind}，不在 kinds"
                            f"（{'、'.join(units.kinds)}）之中：不会向它下发",
                        )
                    )
                elif found.retired:
                    warnings.append((loc, f"单位 {code} 已撤销：不会向它下发事项"))
    return errors, warnings


class HalfGated(NamedTuple):
    """One obligation of a phase after a gate that falls both on kinds the waves split and on
    kinds they do not: the first wait for the gate, the `outside` ones go out at once."""

    loc: tuple[str | int, ...]  # the obligation's subject kinds in the campaign file
    title: str
    kinds: tuple[str, ...]
    split: tuple[str, ...]
    outside: tuple[str, ...]
    gate_key: str
    gate_name: str


def half_gated(spec: CampaignSpec) -> list[HalfGated]:
    """Where a gate holds back only part of an obligation (a monthly meeting of villages and
    communities, the pilot picking villages: the villages' items wait for the gate, the
    communities' go out with the rollout). A warning, not an error: the file is valid, but
    "the rest after the gate" most likely meant all of them."""
    split = waved_kinds(spec)
    gated = {phase: wave for wave in spec.waves if wave.after_gate for phase in wave.phases}
    gates = {gate.key: gate for gate in spec.gates}
    out: list[HalfGated] = []
    for p, phase in enumerate(spec.phases):
        wave = gated.get(phase.key)
        if wave is None or wave.after_gate is None:
            continue
        gate = gates[wave.after_gate]
        for o, ob in enumerate(phase.obligations):
            kinds = tuple(ob.subject.units.kinds) if ob.subject.units else ()
            outside = tuple(k for k in kinds if k not in split)
            if outside and len(outside) < len(kinds):
                loc = ("phases", p, "obligations", o, "subject", "units", "kinds")
                out.append(
                    HalfGated(
                        loc, ob.title, kinds, tuple(sorted(split)), outside, gate.key, gate.name
                    )
                )
    return out


def select_wave_units(
    spec: CampaignSpec, org: OrgSnapshot, chosen: Mapping[str, Collection[int]] | None = None
) -> dict[str, set[int]]:
    """The units of each wave: selecting waves pick per town (preferred tags first, then by
    code); a wave without a selection takes every unit of those kinds not picked before.
    `chosen`: the units a wave already rolled out holds; it keeps them, so that a village
    imported later whose code sorts first, or a tag changed, does not move a pilot under way
    (the new village would be a pilot days before the deadline, the old one in the rest). A
    town with fewer chosen than the count (a new town, a larger count) is picked up to it."""
    out: dict[str, set[int]] = {}
    taken: set[int] = set()
    kinds_seen: set[str] = set()
    for wave in spec.waves:
        if wave.select is None:
            out[wave.key] = {
                u.id
                for u in org.units.values()
                if u.kind in kinds_seen and u.id not in taken and not u.retired
            }
            continue
        sel = wave.select
        kinds_seen |= set(sel.kinds)
        groups: dict[int | None, list[UnitInfo]] = defaultdict(list)
        for unit in org.units.values():
            if unit.kind in sel.kinds and unit.id not in taken and not unit.retired:
                groups[unit.town_id if sel.per == "town" else None].append(unit)
        before = set((chosen or {}).get(wave.key, ()))
        picked: set[int] = set()
        for members in groups.values():
            kept = {u.id for u in members if u.id in before}
            members.sort(key=lambda u: (not (set(sel.prefer_tags) & u.tags), u.code))
            fresh = [u.id for u in members if u.id not in kept]
            picked |= kept | set(fresh[: max(0, sel.count - len(kept))])
        out[wave.key] = picked
        taken |= picked
    return out


@dataclass(frozen=True)
class PlannedItem:
    phase_key: str
    obligation_key: str
    subject: Subject
    occurrence: str
    due: pendulum.Date
    wave: str | None
    # a recurring item's window: only evidence dated inside it counts; None for one-off items
    opens: pendulum.Date | None = None
    closes: pendulum.Date | None = None


@dataclass(frozen=True)
class _Work:
    phase_key: str
    obligation_key: str
    occurrences: tuple[Occurrence, ...]
    wave: str | None  # for the unit subjects in a waved phase
    recurring: bool = False


class RolloutPlanner:
    """Plans once (subjects, occurrences, waves), then yields items town by town.

    Unit obligations of a phase that belongs to a wave fall only on that wave's units;
    other subjects are not split into waves.
    """

    def __init__(
        self,
        spec: CampaignSpec,
        dates: dict[str, PhaseDates],
        org: OrgSnapshot,
        calendar: WorkCalendar,
        chosen: Mapping[str, Collection[int]] | None = None,
    ) -> None:
        self.spec = spec
        self.org = org
        self.calendar = calendar
        self.wave_units = select_wave_units(spec, org, chosen)
        by_phase = {phase: wave for wave in spec.waves for phase in wave.phases}
        split = waved_kinds(spec)
        # town -> list of (work, subjects); built once, so a batch costs only its own items
        self._by_town: dict[int | None, list[tuple[_Work, list[Subject]]]] = defaultdict(list)
        for phase in spec.phases:
            wave = by_phase.get(phase.key)
            for obligation in phase.obligations:
                occs = tuple(occurrences(spec, obligation, phase.key, dates, calendar))
                recurring = obligation.recurrence is not None
                plain = _Work(phase.key, obligation.key, occs, None, recurring)
                waved = _Work(
                    phase.key, obligation.key, occs, wave.key if wave else None, recurring
                )
                groups: dict[tuple[int | None, bool], list[Subject]] = defaultdict(list)
                for subject in subjects(obligation, org):
                    in_wave = (
                        wave is not None
                        and subject.type == SubjectType.UNIT
                        and org.units[subject.id].kind in split
                    )
                    if wave is not None and in_wave and subject.id not in self.wave_units[wave.key]:
                        continue
                    groups[(subject.town_id, in_wave)].append(subject)
                for (town, in_wave), members in groups.items():
                    self._by_town[town].append((waved if in_wave else plain, members))

    def towns(self) -> list[int | None]:
        """Towns with items; district-level subjects (None) first."""
        return sorted(self._by_town, key=lambda t: (t is not None, t or 0))

    def count(
        self, town_id: int | EllipsisType | None = ..., waves: set[str | None] | None = None
    ) -> int:
        """Items of one town (None: district-level subjects), or of all (the default)."""
        towns = self.towns() if isinstance(town_id, EllipsisType) else [town_id]
        return sum(
            len(members) * len(work.occurrences)
            for t in towns
            for work, members in self._by_town.get(t, [])
            if waves is None or work.wave in waves
        )

    def items(
        self, town_id: int | None, waves: set[str | None] | None = None
    ) -> Iterator[PlannedItem]:
        """The items of one town (None: district level), of the given waves (None: all)."""
        for work, members in self._by_town.get(town_id, []):
            if waves is not None and work.wave not in waves:
                continue
            for subject in members:
                for occ in work.occurrences:
                    yield PlannedItem(
                        work.phase_key,
                        work.obligation_key,
                        subject,
                        occ.label,
                        occ.due,
                        work.wave,
                        occ.starts if work.recurring else None,
                        occ.ends if work.recurring else None,
                    )


def released_waves(spec: CampaignSpec, approved_gates: set[str]) -> set[str | None]:
    """Waves whose items may be written: those without a gate, and those whose gate passed."""
    released: set[str | None] = {None}
    released |= {
        w.key for w in spec.waves if w.after_gate is None or w.after_gate in approved_gates
    }
    return released


def waves_before(spec: CampaignSpec, gate: str) -> list[Wave]:
    """The waves an approver judges a gate by: those before the first wave that waits for it
    (the pilot villages, before the rest are rolled out)."""
    before = []
    for wave in spec.waves:
        if wave.after_gate == gate:
            break
        before.append(wave)
    return before


def rectification_due(failed_on: dt.date, within_days: int) -> pendulum.Date:
    """A failed check's rectification (限期整改) is due `within_days` calendar days after the
    day the check failed: the inspection's `rectify_within`."""
    return to_date(failed_on).add(days=within_days)
