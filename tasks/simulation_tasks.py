"""Tasks of a rehearsal: plan what simulated units do, then do it day by day."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pendulum
from prefect import task
from prefect.cache_policies import NO_CACHE

from models.domain.org_snapshot import OrgSnapshot
from models.domain.simulation import DayPlan, PlannedSubmission, plan_days
from models.domain.working_days import local_instant, to_date
from models.store import rehearsal
from models.store.inspections import InspectedCampaign
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.rollout import campaign_id
from models.store.simulated_acts import record_simulated_checks, record_simulated_day
from tasks.context import task_context
from tasks.reminder_tasks import mark_overdue_items, sweep_instant, sweep_needed, sweep_reminders


def simulated_now(day: dt.date, timezone: str, hour: int = 10) -> dt.datetime:
    """The instant a simulated action happens: mid-morning of that day in the campaign's zone."""
    # a pendulum instant: the rehearsal adds hours to it
    return pendulum.instance(local_instant(day, f"{hour:02d}:00", timezone))


@task(name="begin-rehearsal", cache_policy=NO_CACHE)
def begin_rehearsal(campaign: str) -> None:
    """Refuse a database that holds real campaigns (see `rehearsal.campaigns_in_use`), else
    mark the campaign as a rehearsal's: started from the Prefect UI as well as the command
    line, a rehearsal must not write its made-up records among real ones."""
    run = task_context()
    with run.session() as session:
        rehearsal.refuse_real_records(session, holidays=run.settings.imported_holidays)
        rehearsal.mark_rehearsal(session, campaign=campaign, actor="rehearsal", now=utc_now())


@task(name="plan-simulated-behaviour", cache_policy=NO_CACHE)
def plan_behaviour(campaign: str, start: dt.date, end: dt.date, seed: int) -> DayPlan:
    """Every submission and sign-off that falls in [start, end], from the seeded model."""
    run = task_context()
    loaded = run.campaign(campaign)
    with run.session() as session:
        cid = campaign_id(session, loaded.spec.key)
        items = rehearsal.owed_items(session, cid)
        org = load_snapshot(session, loaded.spec.organization)
        submitted_on = rehearsal.awaiting_signature_dated(session, cid)
    return plan_days(
        loaded,
        org,
        run.calendar,
        items=items,
        submitted_on=submitted_on,
        seed=seed,
        start=start,
        end=end,
    )


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
    with run.session() as session:
        done = record_simulated_day(
            session,
            loaded=loaded,
            org=org or load_snapshot(session, loaded.spec.organization),
            day=day,
            submissions=submissions,
            signs=signs,
            now=simulated_now(day, loaded.spec.timezone),
            files_home=run.settings.home.resolve(),
            calendar=run.calendar,
        )
    return dict(done)


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
    loaded = run.campaign(campaign)
    spec = loaded.spec
    totals: Counter[str] = Counter()
    with run.session() as session:
        org = load_snapshot(
            session, spec.organization
        )  # the organization does not change during a rehearsal
    day = to_date(first)
    while day <= last:
        if reminders and calendar.is_working_day(day):
            now = sweep_instant(day, spec.timezone, spec.reminders.at)
            if sweep_needed(now, day):
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
                scope = InspectedCampaign(loaded, campaign_id(session, spec.key), org, calendar)
                totals.update(
                    record_simulated_checks(
                        session,
                        scope=scope,
                        day=day,
                        seed=seed,
                        now=simulated_now(day, spec.timezone, hour=15),
                    )
                )
        day = day.add(days=1)
    return dict(totals)
