"""The reminder outbox: planning rows beside their items, claiming due ones, recording what
happened. A claim is a transaction of its own (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite:
BEGIN IMMEDIATE), so two sweeps at once never take the same row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import pendulum
from sqlalchemy import and_, bindparam, or_, select, update
from sqlmodel import Session

from config.spec import CampaignSpec, Obligation, ReminderPolicy
from models.db import bulk_insert_ignore, raw_instant
from models.org_snapshot import OrgSnapshot
from models.reminder_planning import (
    before_and_on_due,
    district,
    doer,
    once_overdue,
    supervisor,
)
from models.tables import ChecklistItem, Reminder
from models.working_days import WorkCalendar

REMINDER_COLUMNS = (
    "item_id",
    "rule",
    "recipient_id",
    "send_on",
    "send_at",
    "status",
    "attempts",
    "uncertain",
)
REMINDER_KEY = ("item_id", "rule", "recipient_id", "send_on")
OPEN_ITEM = ("open", "submitted", "rejected")
MAX_ATTEMPTS = 4
ESCALATIONS = ("escalate", "district")
LEASE = dt.timedelta(minutes=10)  # a claim older than this belongs to a sweep that died


def policy_of(spec: CampaignSpec, obligation: Obligation) -> ReminderPolicy:
    return obligation.reminders or spec.reminders


def _date(value: dt.date) -> pendulum.Date:
    return pendulum.Date(value.year, value.month, value.day)


def _rows(
    session: Session,
    item_id: int,
    planned: Iterable,  # type: ignore[type-arg]
) -> Iterator[tuple[object, ...]]:
    for p in planned:
        yield (
            item_id,
            p.rule,
            p.recipient_id,
            p.send_on.isoformat(),
            raw_instant(session, p.send_at),
            "pending",
            0,
            False,
        )


def plan_initial_reminders(
    session: Session,
    *,
    spec: CampaignSpec,
    campaign: int,
    org: OrgSnapshot,
    calendar: WorkCalendar,
    where: Sequence[object] = (),
) -> int:
    """Before-and-on-due reminders for the campaign's open items (matching `where`)."""
    obligations = {ob.key: ob for _, ob in spec.obligations()}
    items = session.execute(
        select(
            ChecklistItem.id,
            ChecklistItem.obligation_key,
            ChecklistItem.subject_type,
            ChecklistItem.subject_id,
            ChecklistItem.unit_id,
            ChecklistItem.due,
        ).where(ChecklistItem.campaign_id == campaign, ChecklistItem.status.in_(OPEN_ITEM), *where)
    ).all()

    def rows() -> Iterator[tuple[object, ...]]:
        for item in items:
            policy = policy_of(spec, obligations[item.obligation_key])
            person = doer(
                org, item.subject_type, item.subject_id, item.unit_id, policy.responsible_roles
            )
            yield from _rows(
                session,
                item.id,
                before_and_on_due(
                    due=_date(item.due),
                    recipient=person,
                    policy=policy,
                    calendar=calendar,
                    timezone=spec.timezone,
                ),
            )

    return bulk_insert_ignore(session, "reminder", REMINDER_COLUMNS, REMINDER_KEY, rows())


@dataclass(frozen=True)
class OverdueItem:
    item_id: int
    phase_key: str
    obligation_key: str
    unit_id: int
    due: dt.date


def mark_overdue(
    session: Session,
    *,
    spec: CampaignSpec,
    campaign: int,
    org: OrgSnapshot,
    calendar: WorkCalendar,
    today: dt.date,
) -> list[OverdueItem]:
    """Items found overdue for the first time: mark them and plan their overdue repeats and
    escalations. Returns them, for the overdue events."""
    obligations = {ob.key: ob for _, ob in spec.obligations()}
    items = session.execute(
        select(
            ChecklistItem.id,
            ChecklistItem.phase_key,
            ChecklistItem.obligation_key,
            ChecklistItem.subject_type,
            ChecklistItem.subject_id,
            ChecklistItem.unit_id,
            ChecklistItem.due,
        ).where(
            ChecklistItem.campaign_id == campaign,
            ChecklistItem.status.in_(OPEN_ITEM),
            ChecklistItem.due < today,
            ChecklistItem.overdue_on.is_(None),
        )
    ).all()
    if not items:
        return []
    rows: list[tuple[object, ...]] = []
    for item in items:
        policy = policy_of(spec, obligations[item.obligation_key])
        rows += _rows(
            session,
            item.id,
            once_overdue(
                due=_date(item.due),
                recipient=doer(
                    org, item.subject_type, item.subject_id, item.unit_id, policy.responsible_roles
                ),
                # Above a town, or a department, the supervising unit is the district itself.
                boss=supervisor(org, item.unit_id, policy.responsible_roles)
                or district(org, policy.district_roles),
                top=district(org, policy.district_roles),
                policy=policy,
                calendar=calendar,
                timezone=spec.timezone,
            ),
        )
    bulk_insert_ignore(session, "reminder", REMINDER_COLUMNS, REMINDER_KEY, rows)
    ids = [i.id for i in items]
    for start in range(0, len(ids), 1000):
        session.execute(
            update(ChecklistItem)
            .where(ChecklistItem.id.in_(ids[start : start + 1000]))
            .values(overdue_on=today)
        )
    return [OverdueItem(i.id, i.phase_key, i.obligation_key, i.unit_id, i.due) for i in items]


def cancel_pending(session: Session, item_ids: Sequence[int]) -> int:
    """An item done, or moved: its reminders not yet sent will not be."""
    cancelled = 0
    for start in range(0, len(item_ids), 1000):
        result = session.execute(
            update(Reminder)
            .where(
                Reminder.item_id.in_(item_ids[start : start + 1000]), Reminder.status == "pending"
            )
            .values(status="cancelled")
        )
        cancelled += result.rowcount or 0
    return cancelled


@dataclass(frozen=True)
class Claimed:
    id: int
    item_id: int
    rule: str
    recipient_id: int
    send_on: dt.date
    attempts: int
    uncertain: bool


def claim(
    session: Session, *, now: dt.datetime, worker: str, limit: int = 5000, retry_dead: bool = False
) -> list[Claimed]:
    """Take up to `limit` due reminders for this sweep. Reminders of items already done are
    cancelled instead; a claim left by a sweep that died is taken again, marked uncertain."""
    statuses = ["pending", "dead"] if retry_dead else ["pending"]
    due_now = and_(Reminder.status.in_(statuses), Reminder.send_at <= now)
    stale = and_(Reminder.status == "sending", Reminder.claimed_at < now - LEASE)
    stmt = (
        select(Reminder.id, Reminder.item_id, Reminder.status)
        .where(or_(due_now, stale))
        .order_by(Reminder.send_at, Reminder.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = session.execute(stmt).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    stale_ids = {r.id for r in rows if r.status == "sending"}
    done = set(
        session.execute(
            select(ChecklistItem.id).where(
                ChecklistItem.id.in_({r.item_id for r in rows}),
                ChecklistItem.status.not_in(OPEN_ITEM),
            )
        ).scalars()
    )
    skip = [r.id for r in rows if r.item_id in done]
    if skip:
        session.execute(update(Reminder).where(Reminder.id.in_(skip)).values(status="cancelled"))
    take = [i for i in ids if i not in set(skip)]
    if stale_ids:
        session.execute(
            update(Reminder).where(Reminder.id.in_(stale_ids & set(take))).values(uncertain=True)
        )
    if retry_dead:
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_(take), Reminder.status == "dead")
            .values(attempts=0)
        )
    claimed: list[Claimed] = []
    for start in range(0, len(take), 1000):
        part = take[start : start + 1000]
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_(part))
            .values(
                status="sending", claimed_at=now, claimed_by=worker, attempts=Reminder.attempts + 1
            )
        )
        claimed += [
            Claimed(*r)
            for r in session.execute(
                select(
                    Reminder.id,
                    Reminder.item_id,
                    Reminder.rule,
                    Reminder.recipient_id,
                    Reminder.send_on,
                    Reminder.attempts,
                    Reminder.uncertain,
                ).where(Reminder.id.in_(part))
            )
        ]
    return claimed


def record_sent(session: Session, sent: Sequence[tuple[int, str]], *, now: dt.datetime) -> None:
    """Mark (reminder id, digest key) pairs sent, in one statement executed many times."""
    table = Reminder.__table__
    if sent:
        session.execute(
            table.update()
            .where(table.c.id == bindparam("b_id"))
            .values(status="sent", sent_at=now, digest=bindparam("b_digest"), last_error=None),
            [{"b_id": i, "b_digest": key} for i, key in sent],
        )


def record_failed(
    session: Session, claimed: Sequence[Claimed], *, error: str, now: dt.datetime
) -> int:
    """Back to pending with a later send time (2, 4, 8 minutes ...); after the last try, dead.
    Returns how many were dead-lettered."""
    dead = [c.id for c in claimed if c.attempts >= MAX_ATTEMPTS]
    retry = [c for c in claimed if c.attempts < MAX_ATTEMPTS]
    if dead:
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_(dead))
            .values(status="dead", last_error=error[:1000])
        )
    for c in retry:
        session.execute(
            update(Reminder)
            .where(Reminder.id == c.id)
            .values(
                status="pending",
                last_error=error[:1000],
                send_at=now + dt.timedelta(minutes=2**c.attempts),
            )
        )
    return len(dead)
