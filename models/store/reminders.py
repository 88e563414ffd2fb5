"""The reminder outbox: planning rows beside their items, claiming due ones, recording what
happened. A claim is a transaction of its own (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite:
BEGIN IMMEDIATE), so two sweeps at once never take the same row. Then what a sweep reads
besides its claims: the recipients, and each claimed reminder's line (campaign, phase,
obligation, subject and town by name; who else was told), read for the claimed items alone:
a sweep must not load the whole tree of a province to write a hundred thousand lines."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select, update
from sqlmodel import Session, col

from models.domain.campaign import CampaignSpec, ReminderPolicy
from models.domain.digest import Recipient, ReminderLine
from models.domain.org_import import Readdressed
from models.domain.org_snapshot import OrgSnapshot
from models.domain.reminder_planning import (
    ESCALATIONS,
    DueReminder,
    PlannedReminder,
    UnitItems,
    addressee,
    escalation_group,
    is_escalation,
    item_reminders,
    one_per_item,
    still_to_send,
)
from models.domain.vocabulary import OPEN_ITEM, ItemStatus, ReminderStatus, SubjectType
from models.domain.working_days import WorkCalendar, to_date
from models.store import audit
from models.store.db import (
    bulk_insert_ignore,
    execute_plain,
    id_batches,
    insert_ignore,
    raw_connection,
    raw_instant,
    rows_changed,
)
from models.store.instant import utc_now
from models.store.tables import (
    ITEM_NATURAL_KEY,
    Campaign,
    CampaignVersion,
    ChecklistItem,
    Organization,
    Pairing,
    Person,
    Phase,
    Reminder,
    ReminderChannel,
    Unit,
    columns,
    core,
)
from models.store.tables import Obligation as ObligationRow

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
MAX_ATTEMPTS = 4
LEASE = dt.timedelta(minutes=10)  # a claim older than this belongs to a sweep that died
T = TypeVar("T", bound=DueReminder)


_date = to_date


def _rows(
    session: Session,
    item_id: int,
    planned: Iterable[PlannedReminder],
) -> Iterator[tuple[object, ...]]:
    for p in planned:
        yield (
            item_id,
            p.rule,
            p.recipient_id,
            p.send_on.isoformat(),
            raw_instant(session, p.send_at),
            ReminderStatus.PENDING.value,
            0,
            False,
        )


# What planning an item's reminders reads of it
_TO_REMIND = columns(
    ChecklistItem, "id phase_key obligation_key subject_type subject_id unit_id due"
)


@dataclass(frozen=True)
class _Planner:
    """An item's reminders (`item_reminders`) with what they need beside the item, set up
    once per campaign."""

    spec: CampaignSpec
    org: OrgSnapshot
    calendar: WorkCalendar

    @cached_property
    def _policies(self) -> dict[str, ReminderPolicy]:
        return self.spec.policies_by_key()

    def __call__(self, item: Any, *, overdue: bool) -> list[PlannedReminder]:
        return item_reminders(
            self.org,
            item,
            due=_date(item.due),
            overdue=overdue,
            policy=self._policies[item.obligation_key],
            calendar=self.calendar,
            timezone=self.spec.timezone,
        )


def plan_initial_reminders(
    session: Session,
    *,
    spec: CampaignSpec,
    campaign: int,
    org: OrgSnapshot,
    calendar: WorkCalendar,
    where: Sequence[ColumnElement[bool]] = (),
) -> int:
    """Before-and-on-due reminders for the campaign's open items (matching `where`)."""
    planned = _Planner(spec, org, calendar)
    roles = spec.responsible_roles()
    if not any(roles & p.roles for people in org.persons_by_unit.values() for p in people):
        # No unit has anyone to remind: only person and pairing subjects can get reminders,
        # and reading every unit item of a large rollout to plan nothing is not worth it.
        where = (*where, col(ChecklistItem.subject_type) != SubjectType.UNIT)
    items = session.execute(
        select(*_TO_REMIND).where(
            col(ChecklistItem.campaign_id) == campaign,
            col(ChecklistItem.status).in_(OPEN_ITEM),
            *where,
        )
    ).all()

    def rows() -> Iterator[tuple[object, ...]]:
        for item in items:
            yield from _rows(session, item.id, planned(item, overdue=False))

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
    planned = _Planner(spec, org, calendar)
    items = session.execute(
        select(*_TO_REMIND).where(
            col(ChecklistItem.campaign_id) == campaign,
            col(ChecklistItem.status).in_(OPEN_ITEM),
            col(ChecklistItem.due) < today,
            col(ChecklistItem.overdue_on).is_(None),
        )
    ).all()
    if not items:
        return []
    rows: list[tuple[object, ...]] = []
    for item in items:
        rows += _rows(session, item.id, planned(item, overdue=True))
    bulk_insert_ignore(session, "reminder", REMINDER_COLUMNS, REMINDER_KEY, rows)
    ids = [i.id for i in items]
    for start in range(0, len(ids), 1000):
        session.execute(
            update(ChecklistItem)
            .where(col(ChecklistItem.id).in_(ids[start : start + 1000]))
            .values(overdue_on=today)
        )
    audit.append(
        session,
        actor="system",
        action="items.overdue",
        entity="campaign",
        entity_key=spec.key,
        payload={"on": today.isoformat(), "items": ids},
        now=utc_now(),
    )
    return [OverdueItem(i.id, i.phase_key, i.obligation_key, i.unit_id, i.due) for i in items]


_REMINDERS = core(Reminder)


def readdress_pending(
    session: Session, *, spec: CampaignSpec, campaign: int, org: OrgSnapshot
) -> Readdressed:
    """After the organization changed (a new secretary, a cadre moved, a role taken away):
    every reminder of the campaign not yet sent goes to whom it would be planned for now.
    A reminder whose new addressee already has one of the same rule and day is cancelled,
    as is one that nobody answers for any more."""
    policies = spec.policies_by_key()
    rows = session.execute(  # all of them: a sent one still holds its key
        select(
            _REMINDERS.c.id,
            _REMINDERS.c.status,
            *(_REMINDERS.c[c] for c in REMINDER_KEY),
            *columns(ChecklistItem, "subject_type subject_id unit_id obligation_key"),
        )
        .join(ChecklistItem, col(ChecklistItem.id) == _REMINDERS.c.item_id)
        .where(col(ChecklistItem.campaign_id) == campaign)
    ).all()
    taken = {(r.item_id, r.rule, r.recipient_id, r.send_on) for r in rows}
    pending = [r for r in rows if r.status == ReminderStatus.PENDING]
    moves: list[dict[str, int]] = []
    gone: list[int] = []
    for r in pending:
        policy = policies[r.obligation_key]
        now_to = addressee(r.rule, org, r.subject_type, r.subject_id, r.unit_id, policy)
        if now_to is not None and now_to.id == r.recipient_id:
            continue
        key = (r.item_id, r.rule, now_to.id if now_to else None, r.send_on)
        if now_to is None or key in taken:
            gone.append(r.id)
            continue
        taken.add(key)
        moves.append({"b_id": r.id, "b_to": now_to.id})
    if moves:
        session.execute(
            update(_REMINDERS)
            .where(_REMINDERS.c.id == bindparam("b_id"))
            .values(recipient_id=bindparam("b_to")),
            moves,
        )
    for start in range(0, len(gone), 1000):
        session.execute(
            update(_REMINDERS)
            .where(_REMINDERS.c.id.in_(gone[start : start + 1000]))
            .values(status=ReminderStatus.CANCELLED)
        )
    return Readdressed(len(moves), len(gone))


def plan_missing(
    session: Session,
    *,
    spec: CampaignSpec,
    campaign: int,
    org: OrgSnapshot,
    calendar: WorkCalendar,
) -> int:
    """After the organization, or the roles a campaign names, changed: the reminders an
    owed item never got because nobody answered for it when they were planned (a vacant
    secretary's post, a role the campaign looks for that nobody held), planned now to whom
    they go. A rule the item already has a
    reminder of (sent, waiting, merged) is left alone; a day already past is sent by the next
    sweep, one line an item as after any gap."""
    planned = _Planner(spec, org, calendar)
    items = session.execute(
        select(*_TO_REMIND, col(ChecklistItem.overdue_on)).where(
            col(ChecklistItem.campaign_id) == campaign,
            col(ChecklistItem.status).in_(OPEN_ITEM),
        )
    ).all()
    had = {
        (row.item_id, row.rule)
        for row in session.execute(
            select(_REMINDERS.c.item_id, _REMINDERS.c.rule)
            .join(ChecklistItem, col(ChecklistItem.id) == _REMINDERS.c.item_id)
            .where(
                col(ChecklistItem.campaign_id) == campaign,
                _REMINDERS.c.status != ReminderStatus.CANCELLED,
            )
        )
    }
    rows = [
        row
        for item in items
        for row in _rows(
            session,
            item.id,
            (
                reminder
                for reminder in planned(item, overdue=item.overdue_on is not None)
                if (item.id, reminder.rule) not in had
            ),
        )
    ]
    return bulk_insert_ignore(session, "reminder", REMINDER_COLUMNS, REMINDER_KEY, rows)


def owed_unit_items(session: Session, campaign: int) -> list[UnitItems]:
    """The campaign's items whose subject is a unit, owed or waiting for their phase,
    counted by unit and obligation."""
    return [
        UnitItems(*row)
        for row in session.execute(
            select(col(ChecklistItem.unit_id), col(ChecklistItem.obligation_key), func.count())
            .where(
                col(ChecklistItem.campaign_id) == campaign,
                col(ChecklistItem.status).in_((ItemStatus.PENDING, *OPEN_ITEM)),
                col(ChecklistItem.subject_type) == SubjectType.UNIT,
            )
            .group_by(col(ChecklistItem.unit_id), col(ChecklistItem.obligation_key))
            .order_by(col(ChecklistItem.unit_id), col(ChecklistItem.obligation_key))
        )
    ]


# built once (each report runs it), on the table: no reminder is held as an object to keep in step
_CANCEL_PENDING = (
    update(_REMINDERS)
    .where(
        _REMINDERS.c.item_id.in_(bindparam("items", expanding=True)),
        _REMINDERS.c.status == ReminderStatus.PENDING,
    )
    .values(status=ReminderStatus.CANCELLED)
)


def cancel_pending(session: Session, item_ids: Sequence[int]) -> int:
    """An item done, or moved: its reminders not yet sent will not be."""
    cancelled = 0
    for start in range(0, len(item_ids), 1000):
        result = execute_plain(
            session, _CANCEL_PENDING, {"items": list(item_ids[start : start + 1000])}
        )
        cancelled += rows_changed(result)
    return cancelled


class ItemRef(NamedTuple):
    """What a reminder line needs of its item: the natural key, the due date, its units."""

    id: int
    campaign_id: int
    phase_key: str
    obligation_key: str
    subject_type: str
    subject_id: int
    occurrence: str
    due: dt.date
    town_id: int | None  # None: a district-level unit
    unit_id: int
    status: str  # a record awaiting its signature is told so in its escalation


ITEM_LINE_COLUMNS = ItemRef._fields
assert ITEM_LINE_COLUMNS[1:7] == ITEM_NATURAL_KEY, "ItemRef must follow the item's natural key"


@dataclass(frozen=True)
class Claimed:
    id: int
    item_id: int
    rule: str
    recipient_id: int
    send_on: dt.date
    attempts: int
    uncertain: bool
    # the item, when the claim could read it in the same statement (PostgreSQL)
    item: ItemRef | None = None


def _chunks(values: Sequence[int], size: int = 5000) -> Iterator[Sequence[int]]:
    """Parameter lists small enough for any driver (PostgreSQL allows 65,535 per statement)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _due_by(session: Session, statuses: Sequence[str], now: dt.datetime, today: dt.date) -> Any:
    """Reminders due at `now`. One planned for an earlier day that no sweep sent (an outage,
    a holiday, a late deployment) waits for today's hour of its own: `at` 09:00 means 09:00
    of the first working day it can go, not whenever a sweep happens to run. (Its send_at
    shifted by whole days: exact in a zone without summer time, as China's.) A retry keeps
    its own time: it is due once its back-off has passed."""
    waiting = and_(col(Reminder.status).in_(statuses), col(Reminder.send_at) <= now)
    late_days = (
        session.execute(
            select(col(Reminder.send_on))
            .where(waiting, col(Reminder.send_on) < today, col(Reminder.attempts) == 0)
            .distinct()
        )
        .scalars()
        .all()
    )
    terms = [col(Reminder.send_on) >= today, col(Reminder.attempts) > 0]
    for day in late_days:
        shift = dt.timedelta(days=(today - day).days)
        terms.append(and_(col(Reminder.send_on) == day, col(Reminder.send_at) <= now - shift))
    return and_(waiting, or_(*terms))


def _supersede(session: Session, taken: list[T], *, claimed: bool) -> list[T]:
    """One reminder per item and person in a claim; the others marked superseded, as never
    tried (`claimed`: they were counted as an attempt by the claim, which is undone)."""
    kept, superseded = one_per_item(taken)
    table = core(Reminder)
    values: dict[str, object] = {"status": ReminderStatus.SUPERSEDED.value}
    if claimed:
        values.update(attempts=table.c.attempts - 1, claimed_at=None, claimed_by=None)
    for part in _chunks(superseded):
        session.execute(table.update().where(table.c.id.in_(part)).values(**values))
    return kept


def claim(
    session: Session,
    *,
    now: dt.datetime,
    today: dt.date,
    worker: str,
    limit: int = 5000,
    retry_dead: bool = False,
) -> list[Claimed]:
    """Take up to `limit` due reminders for this sweep (`today`: the local day of `now`), one
    per item and person, superseding the rest. Reminders of items already done are cancelled
    instead, and so are the doer's of a record awaiting its signature (`still_to_send`); a
    claim left by a sweep that died is taken again, marked uncertain."""
    statuses = (
        [ReminderStatus.PENDING, ReminderStatus.DEAD] if retry_dead else [ReminderStatus.PENDING]
    )
    due_now = _due_by(session, statuses, now, today)
    stale = and_(
        col(Reminder.status) == ReminderStatus.SENDING, col(Reminder.claimed_at) < now - LEASE
    )
    if session.get_bind().dialect.name == "postgresql":
        return _supersede(
            session,
            _claim_postgres(
                session, now=now, worker=worker, limit=limit, wanted=or_(due_now, stale)
            ),
            claimed=True,
        )
    stmt = (
        select(
            *columns(Reminder, "id item_id rule recipient_id send_on attempts uncertain status"),
        )
        .where(or_(due_now, stale))
        .order_by(col(Reminder.send_at), col(Reminder.id))
        .limit(limit)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return []
    item_ids = sorted({r.item_id for r in rows})
    # the statuses that may leave a reminder nothing to say; the many items plainly open
    # (or sent back) are not read
    status_of: dict[int, str] = {}
    for part in _chunks(item_ids):
        found = session.execute(
            select(col(ChecklistItem.id), col(ChecklistItem.status)).where(
                col(ChecklistItem.id).in_(part),
                col(ChecklistItem.status).not_in((ItemStatus.OPEN, ItemStatus.REJECTED)),
            )
        )
        status_of.update({r.id: r.status for r in found})
    table = core(Reminder)
    skip = {
        r.id for r in rows if not still_to_send(status_of.get(r.item_id, ItemStatus.OPEN), r.rule)
    }
    for part in _chunks(sorted(skip)):
        session.execute(
            table.update().where(table.c.id.in_(part)).values(status=ReminderStatus.CANCELLED)
        )
    take = _supersede(session, [r for r in rows if r.id not in skip], claimed=False)
    groups: dict[tuple[bool, bool], list[int]] = {}
    for r in take:  # (a stale claim: uncertain, a dead letter retried: counted afresh)
        groups.setdefault(
            (r.status == ReminderStatus.SENDING, r.status == ReminderStatus.DEAD), []
        ).append(r.id)
    for (was_stale, was_dead), ids in groups.items():
        values: dict[str, object] = {
            "status": ReminderStatus.SENDING,
            "claimed_at": now,
            "claimed_by": worker,
            "attempts": 1 if was_dead else table.c.attempts + 1,
        }
        if was_stale:
            values["uncertain"] = True
        for part in _chunks(ids):
            session.execute(table.update().where(table.c.id.in_(part)).values(**values))
    return [
        Claimed(
            r.id,
            r.item_id,
            r.rule,
            r.recipient_id,
            r.send_on,
            1 if r.status == ReminderStatus.DEAD else r.attempts + 1,
            r.uncertain or r.status == ReminderStatus.SENDING,
        )
        for r in take
    ]


def _still_to_send(status: Any, rule: Any) -> ColumnElement[bool]:
    """`still_to_send` (models/domain/reminder_planning.py) in SQL, for a claim that
    decides in the statement that takes the rows."""
    return or_(
        and_(status.in_(OPEN_ITEM), status != ItemStatus.SUBMITTED),
        and_(status == ItemStatus.SUBMITTED, rule.in_(ESCALATIONS)),
    )


def _claim_postgres(
    session: Session, *, now: dt.datetime, worker: str, limit: int, wanted: Any
) -> list[Claimed]:
    """One UPDATE … RETURNING over rows locked with SKIP LOCKED: each row is written once
    (a SELECT FOR UPDATE then an UPDATE would write every claimed row twice), and a reminder
    with nothing left to say (`_still_to_send`) is cancelled in the same pass instead of claimed."""
    table = core(Reminder)
    items = core(ChecklistItem)
    picked = (
        select(table.c.id)
        .where(wanted)
        .order_by(table.c.send_at, table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claim_rows = (
        table.update()
        .where(table.c.id.in_(picked), items.c.id == table.c.item_id)
        .values(
            status=case(
                (_still_to_send(items.c.status, table.c.rule), ReminderStatus.SENDING),
                else_=ReminderStatus.CANCELLED,
            ),
            claimed_at=now,
            claimed_by=worker,
            attempts=case((table.c.status == ReminderStatus.DEAD, 1), else_=table.c.attempts + 1),
            uncertain=or_(table.c.uncertain, table.c.status == ReminderStatus.SENDING),
        )
        .returning(
            table.c.id,
            table.c.item_id,
            table.c.rule,
            table.c.recipient_id,
            table.c.send_on,
            table.c.attempts,
            table.c.uncertain,
            table.c.status,
            *(items.c[name] for name in ITEM_LINE_COLUMNS),
        )
    )
    while True:  # a batch of only done items' reminders is cancelled: take the next one
        rows = session.execute(claim_rows).all()
        # the statement's own columns, in the order it returns them: the reminder's eight,
        # then the item's (a mapping per row would cost a second on 100,000 rows)
        taken = [
            Claimed(r[0], r[1], r[2], r[3], r[4], r[5], r[6], ItemRef._make(r[8:]))
            for r in rows
            if r[7] == ReminderStatus.SENDING
        ]
        if taken or not rows:
            return taken


def next_retry_at(session: Session) -> dt.datetime | None:
    """When the earliest failed delivery waiting for its retry is due, if any is."""
    return session.execute(
        select(func.min(col(Reminder.send_at))).where(
            col(Reminder.status) == ReminderStatus.PENDING, col(Reminder.attempts) > 0
        )
    ).scalar_one_or_none()


class Waiting(NamedTuple):
    """Pending reminders of one planned instant: what says when they leave."""

    send_on: dt.date
    send_at: dt.datetime
    retried: bool
    reminders: int


def waiting(session: Session) -> list[Waiting]:
    """The pending reminders grouped by planned day and instant, and whether a retry."""
    retried = (col(Reminder.attempts) > 0).label("retried")
    rows = session.execute(
        select(
            col(Reminder.send_on), col(Reminder.send_at), retried, func.count().label("reminders")
        )
        .where(col(Reminder.status) == ReminderStatus.PENDING)
        .group_by(col(Reminder.send_on), col(Reminder.send_at), retried)
    ).all()
    return [Waiting(to_date(r.send_on), r.send_at, bool(r.retried), r.reminders) for r in rows]


def record_sent(session: Session, sent: Sequence[tuple[int, str]], *, now: dt.datetime) -> None:
    """Mark (reminder id, digest key) pairs sent: one statement, executed by the driver for
    every pair (a sweep records a hundred thousand of them)."""
    if not sent:
        return
    postgres = session.get_bind().dialect.name == "postgresql"
    at = raw_instant(session, now)
    cursor = raw_connection(session.connection()).cursor()
    try:
        if postgres:
            # one statement over two arrays: a hundred thousand single-row UPDATEs cost
            # more in round trips than the rows do
            cursor.execute(
                "UPDATE reminder AS r SET status = 'sent', sent_at = %s, digest = v.key, "
                "last_error = NULL FROM unnest(%s::integer[], %s::text[]) AS v(id, key) "
                "WHERE r.id = v.id",
                (at, [i for i, _ in sent], [k for _, k in sent]),
            )
        else:
            cursor.executemany(
                "UPDATE reminder SET status = 'sent', sent_at = ?, digest = ?, "
                "last_error = NULL WHERE id = ?",
                [(at, key, reminder_id) for reminder_id, key in sent],
            )
    finally:
        cursor.close()


def record_failed(
    session: Session,
    claimed: Sequence[Claimed],
    *,
    error: str,
    now: dt.datetime,
    base_seconds: float = 60.0,
    final: bool = False,
) -> int:
    """Back to pending with a later send time (2, 4, 8 minutes ... with the default base);
    after the last try, or when no retry can help (`final`), dead. Returns how many were
    dead-lettered."""
    dead = [c.id for c in claimed if final or c.attempts >= MAX_ATTEMPTS]
    retry = [c for c in claimed if not final and c.attempts < MAX_ATTEMPTS]
    if dead:
        session.execute(
            update(Reminder)
            .where(col(Reminder.id).in_(dead))
            .values(status=ReminderStatus.DEAD, last_error=error[:1000])
        )
    for c in retry:
        session.execute(
            update(Reminder)
            .where(col(Reminder.id) == c.id)
            .values(
                status=ReminderStatus.PENDING,
                last_error=error[:1000],
                send_at=now + dt.timedelta(seconds=base_seconds * 2**c.attempts),
            )
        )
    return len(dead)


def channels_taken(session: Session, reminder_ids: Sequence[int]) -> dict[int, set[str]]:
    """For each reminder, the channels (keys) that already took it."""
    taken: dict[int, set[str]] = {}
    for start in range(0, len(reminder_ids), 5000):
        for reminder_id, channel in session.execute(
            select(col(ReminderChannel.reminder_id), col(ReminderChannel.channel)).where(
                col(ReminderChannel.reminder_id).in_(reminder_ids[start : start + 5000])
            )
        ).all():
            taken.setdefault(reminder_id, set()).add(channel)
    return taken


def record_channels(
    session: Session, taken: Sequence[tuple[int, str]], *, now: dt.datetime
) -> None:
    """(reminder id, channel key) pairs delivered: a later retry skips those channels."""
    insert_ignore(
        session,
        core(ReminderChannel),
        [{"reminder_id": r, "channel": c, "delivered_at": now} for r, c in taken],
        key=["reminder_id", "channel"],
    )


# --- what a sweep reads for its lines ---

DISTRICT_LEVEL = "区直"  # the "town" of a unit directly under the district


class EscalatedItem(NamedTuple):
    campaign: str
    org: str
    item: OverdueItem


def recipients(session: Session) -> dict[int, Recipient]:
    """Everyone a reminder may go to, by id: their code, name and channels."""
    rows = session.execute(
        select(
            col(Person.id),
            col(Person.code),
            col(Person.name),
            col(Person.channels),
            col(Person.unit_id),
        )
    )
    return {r.id: Recipient(r.id, r.code, r.name, r.channels, r.unit_id) for r in rows}


def reminder_lines(
    session: Session, claimed: list[Claimed], people: dict[int, Recipient], today: dt.date
) -> dict[int, ReminderLine]:
    """The line each claimed reminder puts in its digest, by reminder id."""
    items: dict[int, ItemRef] = {c.item_id: c.item for c in claimed if c.item}
    wanted = sorted({c.item_id for c in claimed if c.item_id not in items})
    read = columns(ChecklistItem, " ".join(ItemRef._fields))
    for where in id_batches(session, col(ChecklistItem.id), wanted):
        # plain rows, not ORM objects: 100,000 of them
        for row in session.execute(select(*read).where(where)):
            items[row.id] = ItemRef._make(row)
    names = _subject_names(session, list(items.values()), people)

    def group_of(c: Claimed) -> int | None:
        recipient = people.get(c.recipient_id)
        unit = recipient.unit_id if recipient else None
        return escalation_group(c.rule, items[c.item_id], unit)

    groups = {c.id: group_of(c) for c in claimed}
    towns = _unit_names(session, set(groups.values()))  # only the units lines are grouped by
    told = _escalated_to(session, claimed, items, people, today)
    versions = {
        (v.campaign_id, v.version): v.id for v in session.execute(select(CampaignVersion)).scalars()
    }
    current = {
        c.id: (c.key, c.name, versions.get((c.id, c.current_version)))
        for c in session.execute(select(Campaign)).scalars()
    }
    phases = {(p.version_id, p.key): p.name for p in session.execute(select(Phase)).scalars()}
    obligations = session.execute(select(ObligationRow)).scalars()
    titles = {(o.version_id, o.key): o.title for o in obligations}
    out = {}
    for c in claimed:
        item = items[c.item_id]
        campaign_key, campaign_name, version = current[item.campaign_id]
        subject = names.get((item.subject_type, item.subject_id), ("", str(item.subject_id), ""))
        recipient = people.get(c.recipient_id)
        out[c.id] = ReminderLine(
            c.id,
            c.rule,
            campaign_name,
            phases.get((version, item.phase_key), item.phase_key),
            titles.get((version, item.obligation_key), item.obligation_key),
            subject[0],
            item.occurrence,
            item.due,
            f"{campaign_key}/{item.phase_key}/{item.obligation_key}/{item.subject_type}:"
            f"{subject[1]}/{item.occurrence}/{c.rule}/{c.send_on}/"
            f"{recipient.code if recipient else c.recipient_id}",
            towns.get(groups[c.id], DISTRICT_LEVEL),
            subject[1],
            subject[2],
            told.get((c.item_id, c.recipient_id), ""),
            item.status == ItemStatus.SUBMITTED,
        )
    return out


def escalated_items(session: Session, item_ids: list[int]) -> list[EscalatedItem]:
    """The items whose escalation went out, with their campaign and organization keys."""
    rows = session.execute(
        select(
            *columns(ChecklistItem, "id phase_key obligation_key unit_id due"),
            col(Campaign.key),
            col(Organization.key).label("org"),
        )
        .join(Campaign, col(Campaign.id) == col(ChecklistItem.campaign_id))
        .join(Organization, col(Organization.id) == col(Campaign.org_id))
        .where(col(ChecklistItem.id).in_(set(item_ids)))
    ).all()
    return [
        EscalatedItem(
            r.key, r.org, OverdueItem(r.id, r.phase_key, r.obligation_key, r.unit_id, r.due)
        )
        for r in rows
    ]


def _unit_names(session: Session, unit_ids: set[int | None]) -> dict[int | None, str]:
    wanted = sorted(t for t in unit_ids if t is not None)
    out: dict[int | None, str] = {None: DISTRICT_LEVEL}
    for where in id_batches(session, col(Unit.id), wanted):
        out.update(
            (r.id, r.name)
            for r in session.execute(select(col(Unit.id), col(Unit.name)).where(where))
        )
    return out


def _escalated_to(
    session: Session,
    claimed: list[Claimed],
    items: dict[int, ItemRef],
    people: dict[int, Recipient],
    today: dt.date,
) -> dict[tuple[int, int], str]:
    """For the doer's line of an item overdue `today`: who else has been told of it (an
    escalation sent before, or going out in this sweep), by name."""
    today_doers = {
        (c.item_id, c.recipient_id)
        for c in claimed
        if not is_escalation(c.rule) and c.item_id in items and items[c.item_id].due < today
    }
    if not today_doers:
        return {}
    wanted = sorted({item for item, _ in today_doers})
    to: dict[int, set[int]] = defaultdict(set)
    for where in id_batches(session, col(Reminder.item_id), wanted):
        for row in session.execute(
            select(col(Reminder.item_id), col(Reminder.recipient_id)).where(
                where,
                col(Reminder.rule).in_(ESCALATIONS),
                col(Reminder.status).in_((ReminderStatus.SENT, ReminderStatus.SENDING)),
            )
        ):
            to[row.item_id].add(row.recipient_id)
    out = {}
    for item_id, doer_id in today_doers:
        others = sorted(people[p].name for p in to.get(item_id, ()) if p != doer_id and p in people)
        if others:
            out[(item_id, doer_id)] = "、".join(others)
    return out


def _subject_names(
    session: Session, items: list[ItemRef], people: dict[int, Recipient]
) -> dict[tuple[str, int], tuple[str, str, str]]:
    """(name, code, kind) of the claimed items' subjects."""
    out: dict[tuple[str, int], tuple[str, str, str]] = {}
    units = sorted({i.subject_id for i in items if i.subject_type == SubjectType.UNIT})
    for where in id_batches(session, col(Unit.id), units):
        for u in session.execute(
            select(col(Unit.id), col(Unit.name), col(Unit.code), col(Unit.kind)).where(where)
        ):
            out[(SubjectType.UNIT, u.id)] = (u.name, u.code, u.kind)
    for item in items:
        if item.subject_type == SubjectType.PERSON and item.subject_id in people:
            person = people[item.subject_id]
            out[(SubjectType.PERSON, item.subject_id)] = (person.name, person.code, "person")
    pairs = sorted({i.subject_id for i in items if i.subject_type == SubjectType.PAIRING})
    for where in id_batches(session, col(Pairing.id), pairs):
        for p in session.execute(
            select(
                col(Pairing.id), col(Pairing.code), col(Pairing.cadre_id), col(Pairing.contact_id)
            ).where(where)
        ):
            name = f"{people[p.cadre_id].name}—{people[p.contact_id].name}"
            out[(SubjectType.PAIRING, p.id)] = (name, p.code, SubjectType.PAIRING)
    return out


def sweep_needed(session: Session, *, now: dt.datetime, today: dt.date) -> bool:
    """Whether a sweep at `now` has anything to do: a reminder due, or an item newly overdue."""
    due = session.execute(
        select(col(Reminder.id))
        .where(col(Reminder.status) == ReminderStatus.PENDING, col(Reminder.send_at) <= now)
        .limit(1)
    ).first()
    overdue = session.execute(
        select(col(ChecklistItem.id))
        .where(
            col(ChecklistItem.status).in_(OPEN_ITEM),
            col(ChecklistItem.due) < today,
            col(ChecklistItem.overdue_on).is_(None),
        )
        .limit(1)
    ).first()
    return due is not None or overdue is not None


class FailureReason(NamedTuple):
    error: str
    reminders: int


def failure_reasons(session: Session, *, limit: int = 3) -> list[FailureReason]:
    """Why reminders have not gone out: the commonest last errors of those dead-lettered or
    waiting for another try, most first (a planner acts on these: a person with no channel,
    a robot that refuses)."""
    n = func.count().label("n")
    rows = session.execute(
        select(col(Reminder.last_error), n)
        .where(
            col(Reminder.last_error).is_not(None),
            col(Reminder.status).in_([ReminderStatus.DEAD, ReminderStatus.PENDING]),
        )
        .group_by(col(Reminder.last_error))
        .order_by(n.desc(), col(Reminder.last_error))
        .limit(limit)
    )
    return [FailureReason(r.last_error, r.n) for r in rows]


def reminder_totals(session: Session) -> dict[str, Any]:
    """Reminders by status, and how many escalations went out."""
    by_status = {
        r.status: r.n
        for r in session.execute(
            select(col(Reminder.status), func.count().label("n")).group_by(col(Reminder.status))
        )
    }
    escalated = session.execute(
        select(func.count()).where(
            col(Reminder.status) == ReminderStatus.SENT, col(Reminder.rule).in_(ESCALATIONS)
        )
    ).scalar_one()
    return {**by_status, "escalated": escalated}
