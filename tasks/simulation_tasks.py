"""Tasks of a rehearsal: plan what simulated units do, then do it day by day."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pendulum
from prefect import task
from prefect.cache_policies import NO_CACHE

from models.domain.campaign import Obligation
from models.domain.inspections import RECHECK
from models.domain.org_snapshot import OrgSnapshot, PersonInfo
from models.domain.permissions import may_sign, may_submit
from models.domain.planning import RolloutPlanner
from models.domain.reminder_planning import doer
from models.domain.simulation import (
    PlannedSubmission,
    plan_submission,
    rng_for,
    sign_day,
    target_shares,
)
from models.domain.vocabulary import ItemStatus, SubjectType
from models.domain.working_days import local_instant, to_date
from models.errors import CampaignError
from models.store import rehearsal
from models.store.evidence import Submission, sign, store_bytes, submit
from models.store.inspections import (
    InspectedCampaign,
    SampleRef,
    record_result,
    run_inspections,
)
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.rollout import campaign_id
from models.store.tables import ChecklistItem
from tasks.context import task_context
from tasks.reminder_tasks import mark_overdue_items, sweep_instant, sweep_needed, sweep_reminders


@dataclass
class DayPlan:
    """What happens on each simulated day: submissions and sign-offs, by item id."""

    submissions: dict[dt.date, list[tuple[int, PlannedSubmission]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    signs: dict[dt.date, list[int]] = field(default_factory=lambda: defaultdict(list))

    def days(self) -> list[dt.date]:
        return sorted(set(self.submissions) | set(self.signs))


def simulated_now(day: dt.date, timezone: str, hour: int = 10) -> dt.datetime:
    """The instant a simulated action happens: mid-morning of that day in the campaign's zone."""
    # a pendulum instant: the rehearsal adds hours to it
    return pendulum.instance(local_instant(day, f"{hour:02d}:00", timezone))


def _doer(org: OrgSnapshot, item: ChecklistItem) -> PersonInfo | None:
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


def _signer(org: OrgSnapshot, item: ChecklistItem, obligation: Obligation) -> PersonInfo | None:
    rule = obligation.evidence.sign_off
    if rule is None:
        return None
    for person in sorted(org.role_holders.get(rule.role, []), key=lambda p: p.code):
        if may_sign(org, person, item, rule):
            return person
    return None


@task(name="begin-rehearsal", cache_policy=NO_CACHE)
def begin_rehearsal(campaign: str) -> None:
    """Refuse a database that holds real campaigns (see `rehearsal.campaigns_in_use`), else
    mark the campaign as a rehearsal's: started from the Prefect UI as well as the command
    line, a rehearsal must not write its made-up records among real ones."""
    with task_context().session() as session:
        rehearsal.refuse_real_records(session)
        rehearsal.mark_rehearsal(session, campaign=campaign, actor="rehearsal", now=utc_now())


@task(name="plan-simulated-behaviour", cache_policy=NO_CACHE)
def plan_behaviour(campaign: str, start: dt.date, end: dt.date, seed: int) -> DayPlan:
    """Every submission and sign-off that falls in [start, end], from the seeded model."""
    run = task_context()
    calendar = run.calendar
    loaded = run.campaign(campaign)
    spec = loaded.spec
    obligations = {ob.key: ob for _, ob in spec.obligations()}
    plan = DayPlan()
    with run.session() as session:
        cid = campaign_id(session, spec.key)
        items = rehearsal.owed_items(session, cid)
        org = load_snapshot(session, spec.organization)
        submitted_on = rehearsal.awaiting_signature_dated(session, cid)
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
    lo, hi = (
        to_date(start),
        to_date(end),
    )
    for item in items:
        assert item.id is not None  # a stored item
        obligation = obligations[item.obligation_key]
        key = (
            item.phase_key,
            item.obligation_key,
            item.subject_type,
            item.subject_id,
            item.occurrence,
        )
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
        opens = item.opens_on or loaded.phase_dates[item.phase_key].starts
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


@task(name="simulate-day", cache_policy=NO_CACHE, task_run_name="simulate-day · {day}")
def simulate_day(
    campaign: str,
    day: dt.date,
    submissions: list[tuple[int, PlannedSubmission]],
    signs: list[int],
    org: OrgSnapshot | None = None,
) -> dict[str, int]:
    """Record the day's simulated submissions, then its sign-offs, in one transaction.
    `org`: a snapshot the caller already holds."""
    run = task_context()
    loaded = run.campaign(campaign)
    obligations = {ob.key: ob for _, ob in loaded.spec.obligations()}
    now = simulated_now(day, loaded.spec.timezone)
    done: Counter[str] = Counter()
    files_dir = run.settings.home.resolve()
    with run.session() as session:
        org = org or load_snapshot(session, loaded.spec.organization)
        for item_id, planned in submissions:
            item = session.get(ChecklistItem, item_id)
            if item is None or item.status not in (ItemStatus.OPEN, ItemStatus.REJECTED):
                continue
            doer = _doer(org, item)
            if doer is None:
                done["no-doer"] += 1
                continue
            files = [_simulated_file(files_dir, item, n) for n in range(planned.files)]
            try:
                submit(
                    session,
                    org=org,
                    item=item,
                    obligation=obligations[item.obligation_key],
                    person=doer,
                    submission=Submission(
                        planned.counts,
                        planned.note,
                        files,
                        to_date(day),
                    ),
                    now=now,
                )
            except CampaignError:
                done["refused"] += 1
                continue
            done["submitted"] += 1
            session.refresh(item)
        for item_id in signs:
            item = session.get(ChecklistItem, item_id)
            if item is None or item.status != ItemStatus.SUBMITTED:
                continue
            obligation = obligations[item.obligation_key]
            signer = _signer(org, item, obligation)
            if signer is None:
                done["no-signer"] += 1
                continue
            sign(
                session,
                org=org,
                item=item,
                obligation=obligation,
                signer=signer,
                approve=True,
                reason=None,
                dated=day,
                now=now + dt.timedelta(hours=5),
            )
            done["signed"] += 1
    return dict(done)


def _simulated_file(home: Path, item: ChecklistItem, n: int) -> dict[str, Any]:
    """A small stand-in document, stored like a real upload."""
    body = (
        f"模拟材料 {item.obligation_key} {item.subject_type}:{item.subject_id} "
        f"{item.occurrence} #{n + 1}\n"
    ).encode()
    return store_bytes(home, body, f"{item.obligation_key}-{n + 1}.txt")


@task(
    name="simulate-days",
    cache_policy=NO_CACHE,
    task_run_name="simulate · {first}→{last}",
)
def simulate_days(
    campaign: str,
    first: dt.date,
    last: dt.date,
    plan: DayPlan | None,
    reminders: bool,
    seed: int = 2013,
) -> dict[str, int]:
    """Days without a phase boundary, one after another, as the daily schedule and the
    units would live them: the 09:00 sweep on working days, then the day's evidence.

    One task run for the span rather than several per day: Prefect's per-run overhead,
    not the work, was most of a year's rehearsal."""
    run = task_context()
    calendar = run.calendar
    spec = run.campaign(campaign).spec
    url = run.url
    totals: Counter[str] = Counter()
    with run.session() as session:
        org = load_snapshot(
            session, spec.organization
        )  # the organization does not change during a rehearsal
    day = to_date(first)
    while day <= last:
        if reminders and calendar.is_working_day(day):
            now = sweep_instant(day, spec.timezone, spec.reminders.at)
            if sweep_needed(url, now, day):
                totals["overdue"] += mark_overdue_items.fn(day, org)
                totals.update(
                    sweep_reminders.fn(
                        now, org=org, only_to=f"file://{run.settings.rehearsal_outbox}"
                    )
                )
        if plan is not None and (plan.submissions.get(day) or plan.signs.get(day)):
            totals.update(
                simulate_day.fn(
                    campaign, day, plan.submissions.get(day, []), plan.signs.get(day, []), org
                )
            )
        if plan is not None and spec.inspections and calendar.is_working_day(day):
            with run.session() as session:
                totals.update(simulate_inspections(session, campaign, org, day, seed))
        day = day.add(days=1)
    return dict(totals)


CHECK_PASS = 0.85  # a first check passes this often; a re-inspection more often
RECHECK_PASS = 0.9
RECTIFY_DONE = 0.9  # a subject records its rectification before the deadline this often


def simulate_inspections(
    session: Any, campaign: str, org: OrgSnapshot, day: pendulum.Date, seed: int
) -> Counter[str]:
    """A working day of inspections: the checks due are made, inspectors record every result
    the same day (seeded pass or fail), and subjects record their rectifications on a seeded
    day before the deadline; re-inspections follow the deadlines."""
    run = task_context()
    calendar = run.calendar
    loaded = run.campaign(campaign)
    spec = loaded.spec
    cid = campaign_id(session, spec.key)
    now = simulated_now(day, spec.timezone, hour=15)
    done: Counter[str] = Counter()
    run_inspections(session, loaded=loaded, campaign=cid, calendar=calendar, as_of=day, now=now)
    for key, label, sample in rehearsal.unchecked_samples(session, cid):
        inspection = next(i for i in spec.inspections if i.key == key)
        inspector = next(
            (
                p
                for role in inspection.inspectors
                for p in sorted(org.role_holders.get(role, []), key=lambda p: p.code)
            ),
            None,
        )
        if inspector is None:
            done["no-inspector"] += 1
            continue
        rng = rng_for(seed, "check", key, label, sample.subject_type, sample.subject_id)
        passed = rng.random() < (RECHECK_PASS if label.endswith(RECHECK) else CHECK_PASS)
        record_result(
            session,
            scope=InspectedCampaign(loaded, cid, org, calendar),
            ref=SampleRef(key, label, sample.subject_type, sample.subject_id),
            passed=passed,
            findings=None if passed else "（模拟）未按要求落实，责令限期整改。",
            inspector=inspector,
            dated=day,
            now=now,
        )
        done["checked"] += 1
        done["check-failed"] += not passed
    for item in rehearsal.open_rectification_items(session, cid):
        rng = rng_for(seed, "rectify", item.obligation_key, item.subject_id, item.occurrence)
        if rng.random() >= RECTIFY_DONE:
            continue
        on = calendar.add_working_days(to_date(item.due), -rng.randint(1, 8))
        doer = _doer(org, item)
        if on != day or doer is None:
            continue
        obligation = next(o for _, o in spec.obligations() if o.key == item.obligation_key)
        submit(
            session,
            org=org,
            item=item,
            obligation=obligation,
            person=doer,
            submission=Submission({}, "（模拟）已按要求整改到位。", [], day),
            now=now,
            check_permission=False,
        )
        done["rectified"] += 1
    return done
