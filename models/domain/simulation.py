"""A seeded model of how units behave, for rehearsing a campaign before the real year.

Pure: every decision is drawn from a generator seeded by the campaign's seed and the item's
natural key, so a rehearsal is the same however it is split into segments and re-run.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import pendulum

from models.domain.campaign import LoadedCampaign, Obligation
from models.domain.inspections import RECHECK
from models.domain.org_snapshot import OrgSnapshot, PersonInfo
from models.domain.permissions import SignOffRule, Subject, may_sign, may_submit
from models.domain.planning import RolloutPlanner
from models.domain.reminder_planning import doer
from models.domain.seeded import rng_for
from models.domain.vocabulary import ItemKey, ItemStatus, SubjectType
from models.domain.working_days import WorkCalendar, to_date


@dataclass(frozen=True)
class Behaviour:
    """Shares of items done on time, late, and never; how late the late ones are."""

    on_time: float = 0.85
    late: float = 0.11
    max_late_working_days: int = 12
    sign_within_working_days: int = 3


@dataclass(frozen=True)
class PlannedSubmission:
    day: pendulum.Date
    late: bool
    counts: dict[str, int]
    note: str
    files: int
    # an obligation asking for at least N in a window: the earlier N-1 days, in order
    earlier: tuple[pendulum.Date, ...] = ()

    @property
    def days(self) -> tuple[pendulum.Date, ...]:
        return (*self.earlier, self.day)


def plan_submission(
    *,
    seed: int,
    item_key: tuple[object, ...],
    opens: pendulum.Date,
    due: pendulum.Date,
    obligation: Obligation,
    share_by_target: dict[str, float],
    calendar: WorkCalendar,
    behaviour: Behaviour = Behaviour(),
    window: bool = False,
) -> PlannedSubmission | None:
    """When (if ever) this item's evidence comes in, and what it says. A window item
    (`window`: only evidence dated inside opens..due counts) is done inside it or missed."""
    rng = rng_for(seed, "submit", *item_key)
    draw = rng.random()
    if draw >= behaviour.on_time + behaviour.late:
        return None  # never done
    late = draw >= behaviour.on_time
    if late and window:
        return None  # a contact made after its window counts for the next one, not this
    times = obligation.submissions_needed
    if times > 1:
        first = calendar.next_working_day(opens)
        span = max(0, calendar.working_days_between(first, due))
        picks = sorted(rng.sample(range(span + 1), min(times, span + 1)))
        if len(picks) < times:
            return None  # a window too short for N working days
        days = [min(calendar.add_working_days(first, k), due) for k in picks]
        counts = _counts(rng, obligation, share_by_target)
        return PlannedSubmission(
            days[-1],
            False,
            counts,
            "（模拟）已按要求完成。",
            obligation.evidence.files,
            tuple(days[:-1]),
        )
    if late:
        day = calendar.add_working_days(due, rng.randint(1, behaviour.max_late_working_days))
    else:
        # On time means early enough for the sign-off, where one is needed, to land by the due.
        latest = due
        if obligation.evidence.sign_off is not None:
            latest = calendar.add_working_days(due, -behaviour.sign_within_working_days)
        first = calendar.next_working_day(opens)
        span = max(0, calendar.working_days_between(first, latest))
        day = min(calendar.add_working_days(first, rng.randint(0, span)), due)
    counts = _counts(rng, obligation, share_by_target)
    note = "（模拟）已按要求完成。" if not late else "（模拟）逾期后补报。"
    return PlannedSubmission(day, late, counts, note, obligation.evidence.files)


def _counts(
    rng: random.Random, obligation: Obligation, share_by_target: dict[str, float]
) -> dict[str, int]:
    counts = {}
    for count in obligation.evidence.counts:
        share = share_by_target.get(count.target) if count.target else None
        value = 0 if share is None else max(0, round(share * rng.uniform(0.8, 1.2)))
        if count.min is not None:
            value = max(value, count.min + (1 if rng.random() < 0.2 else 0))
        counts[count.key] = value
    return counts


def sign_day(
    *,
    seed: int,
    item_key: tuple[object, ...],
    submitted: pendulum.Date,
    calendar: WorkCalendar,
    behaviour: Behaviour = Behaviour(),
) -> pendulum.Date:
    rng = rng_for(seed, "sign", *item_key)
    return calendar.add_working_days(submitted, rng.randint(1, behaviour.sign_within_working_days))


def target_shares(
    items_per_target: dict[str, int], targets: dict[str, int], behaviour: Behaviour = Behaviour()
) -> dict[str, float]:
    """Per item, the amount of each target such that the expected total over the items that
    get done meets the target."""
    done = behaviour.on_time + behaviour.late
    return {
        key: targets[key] / (n * done)
        for key, n in items_per_target.items()
        if n and key in targets
    }


# Who plays each part: the first by code of those the permissions let act.


def acting_doer(org: OrgSnapshot, item: Subject) -> PersonInfo | None:
    """Who records the evidence: the person, the pairing's cadre, or someone of the unit
    (else of a unit above it)."""
    if item.subject_type != SubjectType.UNIT:
        return doer(org, item.subject_type, item.subject_id, item.unit_id, None)
    unit_id: int | None = item.unit_id
    while unit_id is not None:
        here = sorted(
            (p for p in org.persons.values() if p.unit_id == unit_id), key=lambda p: p.code
        )
        for person in here:
            if may_submit(org, person, item):
                return person
        unit_id = org.units[unit_id].parent_id
    return None


def acting_signer(org: OrgSnapshot, item: Subject, rule: SignOffRule | None) -> PersonInfo | None:
    if rule is None:
        return None
    for person in sorted(org.role_holders.get(rule.role, []), key=lambda p: p.code):
        if may_sign(org, person, item, rule):
            return person
    return None


def acting_inspector(org: OrgSnapshot, inspectors: Collection[str]) -> PersonInfo | None:
    """The first holder of the inspection's first inspector role that anyone holds."""
    for role in inspectors:
        holders = sorted(org.role_holders.get(role, []), key=lambda p: p.code)
        if holders:
            return holders[0]
    return None


CHECK_PASS = 0.85  # a first check passes this often; a re-inspection more often
RECHECK_PASS = 0.9
RECTIFY_DONE = 0.9  # a subject records its rectification before the deadline this often


def check_passes(
    seed: int, inspection: str, label: str, subject_type: str, subject_id: int
) -> bool:
    rng = rng_for(seed, "check", inspection, label, subject_type, subject_id)
    return rng.random() < (RECHECK_PASS if label.endswith(RECHECK) else CHECK_PASS)


def rectified_on(
    seed: int,
    obligation_key: str,
    subject_id: int,
    occurrence: str,
    due: pendulum.Date,
    calendar: WorkCalendar,
) -> pendulum.Date | None:
    """The day a subject records its rectification, a few working days before the deadline;
    None: it never does."""
    rng = rng_for(seed, "rectify", obligation_key, subject_id, occurrence)
    if rng.random() >= RECTIFY_DONE:
        return None
    return calendar.add_working_days(due, -rng.randint(1, 8))


class OwedItem(Protocol):
    """What the behaviour model reads of an item not done yet (a stored row, settable)."""

    id: int | None
    status: str
    due: dt.date
    opens_on: dt.date | None
    closes_on: dt.date | None

    @property
    def key(self) -> ItemKey: ...


@dataclass
class DayPlan:
    """What happens on each simulated day: submissions and sign-offs, by item id."""

    submissions: dict[dt.date, list[tuple[int, PlannedSubmission]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    signs: dict[dt.date, list[int]] = field(default_factory=lambda: defaultdict(list))

    def days(self) -> list[dt.date]:
        return sorted(set(self.submissions) | set(self.signs))


def plan_days(
    loaded: LoadedCampaign,
    org: OrgSnapshot,
    calendar: WorkCalendar,
    *,
    items: Iterable[OwedItem],
    submitted_on: Mapping[int, dt.date],
    seed: int,
    start: dt.date,
    end: dt.date,
) -> DayPlan:
    """Every submission and sign-off of the owed items that falls in [start, end]; an item
    awaiting a signature (`submitted_on`: the day its submission was dated) is only signed."""
    spec = loaded.spec
    obligations = spec.obligations_by_key()
    # Shares come from the whole plan, every wave included, so that the pilot villages are
    # not handed the whole target before the rest are rolled out.
    planner = RolloutPlanner(spec, loaded.phase_dates, org, calendar)
    per_target: Counter[str] = Counter()
    for town in planner.towns():
        for planned in planner.items(town):
            for count in obligations[planned.obligation_key].evidence.counts:
                if count.target:
                    per_target[count.target] += 1
    shares = target_shares(dict(per_target), {t.key: t.value for t in spec.targets})
    lo, hi = to_date(start), to_date(end)
    plan = DayPlan()
    for item in items:
        assert item.id is not None  # a stored item
        key = item.key
        obligation = obligations[key.obligation_key]
        if item.status == ItemStatus.SUBMITTED:
            day = sign_day(
                seed=seed,
                item_key=key,
                submitted=to_date(submitted_on[item.id]),
                calendar=calendar,
            )
            if lo <= day <= hi:
                plan.signs[day].append(item.id)
            continue
        opens = item.opens_on or loaded.phase_dates[key.phase_key].starts
        due = min(item.due, item.closes_on or item.due)
        submission = plan_submission(
            seed=seed,
            item_key=key,
            opens=to_date(opens),
            due=to_date(due),
            obligation=obligation,
            share_by_target=shares,
            calendar=calendar,
            window=item.opens_on is not None,
        )
        if submission is None:
            continue
        for day in submission.days:
            if lo <= day <= hi:
                plan.submissions[day].append((item.id, submission))
        if obligation.evidence.sign_off is not None:
            day = sign_day(seed=seed, item_key=key, submitted=submission.day, calendar=calendar)
            if lo <= day <= hi:
                plan.signs[day].append(item.id)
    return plan
