"""Tasks of the reminder sweep: find newly overdue items, claim due reminders, deliver one
digest per recipient and channel, record every outcome."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections import defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

import pendulum
from prefect import task
from prefect.cache_policies import NO_CACHE

from models.domain.digest import Delivery, Digest, build_digest
from models.domain.door import is_group_channel, sign_in_url
from models.domain.org_snapshot import OrgSnapshot
from models.domain.reminder_planning import first_to_go
from models.domain.working_days import local_instant
from models.errors import CalendarError
from models.store import db
from models.store import reminders as reminder_store
from models.store.deliveries import Delivered, Recorded, record_deliveries
from models.store.door import create_links
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.phase_clock import bring_to_day
from models.store.reminders import (
    Claimed,
    channel_key,
    channels_taken,
    claim,
    escalated_items,
    mark_overdue,
    next_retry_at,
    recipients,
    reminder_lines,
)
from models.store.rollout import campaign_id
from tasks.channels import deliver
from tasks.context import task_context
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
    snapshots = _Snapshots(ctx.url, org)
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

    def __init__(self, url: str, given: OrgSnapshot | None) -> None:
        self.url = url
        self.held = {given.key: given} if given is not None else {}

    def of(self, org: str) -> OrgSnapshot:
        if org not in self.held:
            with db.session_for(self.url) as session:
                self.held[org] = load_snapshot(session, org)
        return self.held[org]


# Deliveries wait on the network, so several go at once; outcomes are recorded every few
# digests, so that a sweep that dies re-sends (as uncertain) only what was in flight.
DELIVERY_THREADS = 16
RECORD_EVERY = 64
LOOKAHEAD = 2
NO_CHANNEL = "没有渠道：请填写此人的通知渠道，或设置 CAMPAIGN_NOTIFY_DEFAULT"


# (channel, what delivering to it gave), for each channel a digest went to
Outcome = list[tuple[str, Delivery]]


@dataclass(frozen=True)
class Outgoing:
    group: list[Claimed]
    channels: list[str]
    digest: Digest
    # the same digest with a one-time sign-in link, for the person's own channels; a group
    # robot's (the whole group reads it) gets `digest`, with the door's plain address
    personal: Digest | None = None
    # of a person's several channels, those that already took every reminder of the group
    # (an earlier try failed on another): not sent a copy again
    taken: frozenset[str] = frozenset()

    @property
    def pending_channels(self) -> list[str]:
        return [c for c in self.channels if channel_key(c) not in self.taken]

    @property
    def key(self) -> str:
        return self.digest.key

    def digest_for(self, channel: str) -> Digest:
        if self.personal is not None and not is_group_channel(channel):
            return self.personal
        return self.digest


def _with_door(
    outgoing: list[Outgoing],
    people: dict[int, Any],
    database: str,
    url: str,
    now: dt.datetime,
    days: float,
) -> list[Outgoing]:
    """Each digest with the web door: a sign-in link for each person with a channel of
    their own (one insert for the batch), the plain address for group robots."""
    own = {
        o.group[0].recipient_id
        for o in outgoing
        if o.group[0].recipient_id in people and any(not is_group_channel(c) for c in o.channels)
    }
    with db.session_for(database) as session:
        tokens = create_links(
            session,
            person_ids=sorted(own),
            purpose="digest",
            now=now,
            lifetime=dt.timedelta(days=days),
        )
    return [
        replace(
            o,
            digest=replace(o.digest, door=url),
            personal=replace(o.digest, door=sign_in_url(url, token))
            if (token := tokens.get(o.group[0].recipient_id))
            else None,
        )
        for o in outgoing
    ]


def _deliver(outgoing: Outgoing) -> Outcome:
    """One digest's outcome on each channel that has not taken it yet. Each channel gets
    DELIVERY_DEADLINE seconds in all: a receiver that trickles its answer a byte at a time
    never trips a read timeout, and must not keep the sweep from ending."""
    if not outgoing.channels:
        return [("", Delivery(False, NO_CHANNEL, permanent=True))]
    return [
        (channel, _within_deadline(channel, outgoing.digest_for(channel)))
        for channel in outgoing.pending_channels
    ]


def _with_taken(outgoing: list[Outgoing], url: str) -> list[Outgoing]:
    """For persons with several channels: which channels already took each group (a retry
    after one of them failed goes only to the others)."""
    several = [o for o in outgoing if len(o.channels) > 1]
    if not several:
        return outgoing
    with db.session_for(url) as session:
        taken = channels_taken(session, [c.id for o in several for c in o.group])
    out = []
    for o in outgoing:
        if len(o.channels) > 1:
            keys = [taken.get(c.id, set()) for c in o.group]
            o = replace(o, taken=frozenset(set.intersection(*keys)) if keys else frozenset())
        out.append(o)
    return out


DELIVERY_DEADLINE = 60.0  # seconds for one digest on one channel, connect to last byte


def _within_deadline(channel: str, digest: Digest) -> Delivery:
    done: list[Delivery] = []
    # a daemon thread: one still reading at the deadline is abandoned, and the process
    # may still exit (a pool's threads are joined at exit)
    worker = threading.Thread(target=lambda: done.append(deliver(channel, digest)), daemon=True)
    worker.start()
    worker.join(DELIVERY_DEADLINE)
    if done:
        return done[0]
    scheme = channel.split("://", 1)[0]
    return Delivery(False, f"{scheme}：{DELIVERY_DEADLINE:g} 秒内没有完整答复")


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
    settings, calendar, url = run.settings, run.calendar, run.url
    worker = f"{socket.gethostname()}:{os.getpid()}"
    with run.session() as session:
        people = recipients(session)
    today = pendulum.instance(now).in_tz(settings.timezone).date()
    if not calendar.is_working_day(today):
        # nothing leaves on a day off, whoever runs the sweep: it waits for the next
        # working day's hour (the claim's rule for reminders of an earlier day)
        task_logger().info("reminders: %s is not a working day, nothing sent", today)
        return {"day_off": 1}
    default = [settings.notify_default] if settings.notify_default else []
    recorded = Recorded()
    with ThreadPoolExecutor(DELIVERY_THREADS) as pool:
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
            by_recipient: dict[int, list[Claimed]] = defaultdict(list)
            for c in claimed:
                by_recipient[c.recipient_id].append(c)
            digests = []
            for recipient_id, group in by_recipient.items():
                person = people.get(recipient_id)
                digest = build_digest(
                    person.name if person else "同志",
                    [lines[c.id] for c in group],
                    today,
                    calendar,
                    max_lines=settings.digest_max_lines,
                    see_all=see_all(person.code if person else str(recipient_id)),
                )
                if only_to:
                    channels = [only_to]
                else:
                    channels = list(person.channels) if person and person.channels else default
                digests.append(Outgoing(group, channels, digest))
            digests = _with_taken(digests, url)
            if settings.web_url and not only_to:
                digests = _with_door(
                    digests, people, url, settings.web_url, now, settings.web_link_days
                )
            chunks = iter(
                [digests[i : i + RECORD_EVERY] for i in range(0, len(digests), RECORD_EVERY)]
            )
            # The pool delivers the next chunks while this thread records the last one, but
            # never more than LOOKAHEAD chunks ahead: those are what a killed sweep re-sends.
            in_flight: deque[tuple[list[Outgoing], list[Future[Outcome]]]] = deque(
                (chunk, [pool.submit(_deliver, d) for d in chunk])
                for chunk in islice(chunks, LOOKAHEAD)
            )
            while in_flight:
                chunk, futures = in_flight.popleft()
                outcomes = [f.result() for f in futures]
                following = next(chunks, None)
                if following is not None:
                    in_flight.append((following, [pool.submit(_deliver, d) for d in following]))
                with run.session() as session:
                    record_deliveries(
                        session,
                        [
                            Delivered(out.group, out.key, outcome, len(out.channels) > 1)
                            for out, outcome in zip(chunk, outcomes, strict=True)
                        ],
                        into=recorded,
                        now=now,
                        worker=worker,
                        base_seconds=settings.retry_base_seconds,
                    )
    if recorded.escalated:
        _emit_escalations(url, recorded.escalated, _Snapshots(url, org))
    if recorded.counts:
        task_logger().info("reminders: %s", dict(recorded.counts))
    return dict(recorded.counts)


def _emit_escalations(url: str, item_ids: list[int], orgs: _Snapshots) -> None:
    """`campaign.item.escalated` for each item whose escalation went out."""
    with db.session_for(url) as session:
        rows = escalated_items(session, item_ids)
    for row in rows:
        _emit("campaign.item.escalated", row.campaign, row.item, orgs.of(row.org))


def campaign_problems() -> list[str]:
    """The stored campaigns that cannot be read now, each with why (a sweep skips them)."""
    return [f"{key}: {why}" for key, why in task_context().stored_campaigns().problems.items()]


def see_all(person_code: str) -> str:
    """Where a person sees every item a digest had no room for."""
    return f"campaign todo {person_code}"


def next_retry(url: str) -> dt.datetime | None:
    """When the earliest failed delivery's retry is due (None: nothing waits for one)."""
    with db.session_for(url) as session:
        return next_retry_at(session)


def sweep_instant(as_of: dt.date | None, timezone: str, at: str = "09:00") -> dt.datetime:
    """Now, or for a given day the moment reminders go out that day."""
    if as_of is None:
        return utc_now()
    return local_instant(as_of, at, timezone)


def sweep_needed(url: str, now: dt.datetime, today: dt.date) -> bool:
    """Whether a sweep at `now` has anything to do: a reminder due, or an item newly overdue."""
    with db.session_for(url) as session:
        return reminder_store.sweep_needed(session, now=now, today=today)


def reminder_totals(url: str) -> dict[str, int]:
    """Reminders by status, and how many escalations went out."""
    with db.session_for(url) as session:
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


def failure_reasons(url: str) -> list[tuple[str, int]]:
    """Why reminders have not gone out, the commonest first (as plain pairs: a flow's result)."""
    with db.session_for(url) as session:
        return [(r.error, r.reminders) for r in reminder_store.failure_reasons(session)]
