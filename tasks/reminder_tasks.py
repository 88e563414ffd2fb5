"""Tasks of the reminder sweep: find newly overdue items, claim due reminders, deliver one
digest per recipient and channel, record every outcome."""

from __future__ import annotations

import datetime as dt
import os
import socket
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from models.domain.digest import (
    Outgoing,
    Recipient,
    address_digests,
    several_channels,
    wanting_links,
    with_door,
    without_taken,
)
from models.domain.org_snapshot import OrgSnapshot
from models.domain.reminder_planning import first_to_go
from models.domain.working_days import local_day, local_instant
from models.errors import CalendarError
from models.store import reminders as reminder_store
from models.store.deliveries import Delivered, Recorded, record_deliveries
from models.store.door import create_links
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.phase_clock import bring_to_day
from models.store.reminders import (
    Claimed,
    channels_taken,
    claim,
    escalated_items,
    mark_overdue,
    next_retry_at,
    recipients,
    reminder_lines,
)
from models.store.rollout import campaign_id
from tasks.channels import Outcome, deliver_all
from tasks.context import TaskContext, task_context
from tasks.logs import task_logger


def _emit(event: str, campaign: str, item: Any, org: OrgSnapshot) -> None:
    """A Prefect event users can hang automations on; outside Prefect, nothing."""
    try:
        from prefect.events import emit_event
    except ImportError:  # pragma: no cover
        return
    unit = org.units[item.unit_id]
    emit_event(
        event=event,
        resource={
            "prefect.resource.id": f"campaign.item.{item.item_id}",
            "prefect.resource.name": f"{item.obligation_key} · {unit.name}",
        },
        related=[
            {"prefect.resource.id": f"campaign.{campaign}", "prefect.resource.role": "campaign"},
            {
                "prefect.resource.id": f"campaign.{campaign}.phase.{item.phase_key}",
                "prefect.resource.role": "phase",
            },
            {
                "prefect.resource.id": f"campaign.unit.{unit.code}",
                "prefect.resource.role": "unit",
                "prefect.resource.name": unit.name,
            },
        ],
        payload={"due": str(item.due), "obligation": item.obligation_key},
    )


@task(name="mark-overdue-items", cache_policy=NO_CACHE)
def mark_overdue_items(today: dt.date, org: OrgSnapshot | None = None) -> int:
    """For every campaign: items newly overdue get their repeats and escalations planned,
    and a `campaign.item.overdue` event each. `org`: a snapshot the caller already holds."""
    ctx = task_context()
    campaigns = ctx.stored_campaigns()
    for key, why in campaigns.problems.items():
        # one campaign that cannot be read must not stop the others' reminders: it is
        # reported (campaign_problems) and the sweep goes on
        task_logger().error("campaign %s skipped: %s", key, why)
    snapshots = _Snapshots(ctx, org)
    total = 0
    for loaded in campaigns:
        key = loaded.spec.key
        campaign_org = snapshots.of(loaded.spec.organization)
        with ctx.session() as session:
            # a phase nobody opened (no scheduler ran) is opened first: its items are due
            bring_to_day(session, loaded, ctx.calendar, today, now=utc_now(), org=campaign_org)
            found = mark_overdue(
                session,
                spec=loaded.spec,
                campaign=campaign_id(session, key),
                org=campaign_org,
                calendar=ctx.calendar,
                today=today,
            )
        for item in found:
            _emit("campaign.item.overdue", key, item, campaign_org)
        total += len(found)
    return total


class _Snapshots:
    """Each organization's snapshot, read once per task run (or the one the caller holds)."""

    def __init__(self, run: TaskContext, given: OrgSnapshot | None) -> None:
        self.run = run
        self.held = {given.key: given} if given is not None else {}

    def of(self, org: str) -> OrgSnapshot:
        if org not in self.held:
            with self.run.session() as session:
                self.held[org] = load_snapshot(session, org)
        return self.held[org]


def _with_taken(outgoing: list[Outgoing[Claimed]], run: TaskContext) -> list[Outgoing[Claimed]]:
    """For persons with several channels: which channels already took each reminder (a retry
    after one of them failed goes only to the others)."""
    several = several_channels(outgoing)
    if not several:
        return outgoing
    with run.session() as session:
        return without_taken(outgoing, channels_taken(session, several))


def _with_door(
    outgoing: list[Outgoing[Claimed]],
    people: dict[int, Recipient],
    door: str,
    run: TaskContext,
    now: dt.datetime,
) -> list[Outgoing[Claimed]]:
    """Each digest with the web door: a sign-in link for each person with a channel of
    their own (one insert for the batch), the plain address for group robots."""
    settings = run.settings
    with run.session() as session:
        tokens = create_links(
            session,
            person_ids=wanting_links(outgoing, people),
            purpose="digest",
            now=now,
            lifetime=dt.timedelta(days=settings.web_link_days),
        )
    return with_door(outgoing, door, tokens)


@task(name="sweep-reminders", cache_policy=NO_CACHE, task_run_name="sweep-reminders · {now}")
def sweep_reminders(
    now: dt.datetime,
    retry_dead: bool = False,
    batch: int = 100_000,
    org: OrgSnapshot | None = None,
    only_to: str | None = None,
) -> dict[str, int]:
    """Claim, deliver one digest per person, record, until nothing is due at `now`.
    `org`: a snapshot the caller already holds (for the escalation events). `only_to`: a
    rehearsal's channel, where every digest goes instead of its person's (and no sign-in
    link is made)."""
    run = task_context()
    settings, calendar = run.settings, run.calendar
    worker = f"{socket.gethostname()}:{os.getpid()}"
    with run.session() as session:
        people = recipients(session)
    today = local_day(now, settings.timezone)
    if not calendar.is_working_day(today):
        # nothing leaves on a day off, whoever runs the sweep: it waits for the next
        # working day's hour (the claim's rule for reminders of an earlier day)
        task_logger().info("reminders: %s is not a working day, nothing sent", today)
        return {"day_off": 1}
    default = [settings.notify_default] if settings.notify_default else []
    recorded = Recorded()

    def record(delivered: list[tuple[Outgoing[Claimed], Outcome]]) -> None:
        with run.session() as session:
            record_deliveries(
                session,
                [Delivered(o.group, o.key, outcome, o.several) for o, outcome in delivered],
                into=recorded,
                now=now,
                worker=worker,
                base_seconds=settings.retry_base_seconds,
            )

    while True:
        with run.session() as session:
            claimed = claim(
                session,
                now=now,
                today=today,
                worker=worker,
                limit=batch,
                retry_dead=retry_dead,
            )
        retry_dead = False  # the dead are taken once, in the first batch
        if not claimed:
            break
        with run.session() as session:
            lines = reminder_lines(session, claimed, people, today)
        outgoing = address_digests(
            claimed,
            lines,
            people,
            today,
            calendar,
            max_lines=settings.digest_max_lines,
            default_channels=default,
            only_to=only_to,
        )
        outgoing = _with_taken(outgoing, run)
        if settings.web_url and not only_to:
            outgoing = _with_door(outgoing, people, settings.web_url, run, now)
        deliver_all(outgoing, record, settings.delivery_seconds)
    if recorded.escalated:
        _emit_escalations(run, recorded.escalated, _Snapshots(run, org))
    if recorded.counts:
        task_logger().info("reminders: %s", dict(recorded.counts))
    return dict(recorded.counts)


def _emit_escalations(run: TaskContext, item_ids: list[int], orgs: _Snapshots) -> None:
    """`campaign.item.escalated` for each item whose escalation went out."""
    with run.session() as session:
        rows = escalated_items(session, item_ids)
    for row in rows:
        _emit("campaign.item.escalated", row.campaign, row.item, orgs.of(row.org))


def campaign_problems() -> list[str]:
    """The stored campaigns that cannot be read now, each with why (a sweep skips them)."""
    return [f"{key}: {why}" for key, why in task_context().stored_campaigns().problems.items()]


def next_retry() -> dt.datetime | None:
    """When the earliest failed delivery's retry is due (None: nothing waits for one)."""
    with task_context().session() as session:
        return next_retry_at(session)


def sweep_instant(as_of: dt.date | None, timezone: str, at: str = "09:00") -> dt.datetime:
    """Now, or for a given day the moment reminders go out that day."""
    if as_of is None:
        return utc_now()
    return local_instant(as_of, at, timezone)


def sweep_needed(now: dt.datetime, today: dt.date) -> bool:
    """Whether a sweep at `now` has anything to do: a reminder due, or an item newly overdue."""
    with task_context().session() as session:
        return reminder_store.sweep_needed(session, now=now, today=today)


def reminder_totals() -> dict[str, int]:
    """Reminders by status, and how many escalations went out."""
    with task_context().session() as session:
        return reminder_store.reminder_totals(session)


def next_due(now: dt.datetime, today: dt.date) -> tuple[str, int] | None:
    """When the next pending reminders leave after `now` and how many (an ISO instant and a
    count: a flow's result)."""
    run = task_context()
    with run.session() as session:
        groups = reminder_store.waiting(session)
    try:
        first = first_to_go(groups, now=now, today=today, calendar=run.calendar)
    except CalendarError:  # next year's holidays not imported yet: a sweep never fails on it
        return None
    return (first[0].isoformat(), first[1]) if first else None


def failure_reasons() -> list[tuple[str, int]]:
    """Why reminders have not gone out, the commonest first (as plain pairs: a flow's result)."""
    with task_context().session() as session:
        return [(r.error, r.reminders) for r in reminder_store.failure_reasons(session)]
