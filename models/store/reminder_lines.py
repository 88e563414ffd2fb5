"""What a sweep reads besides its claims: the recipients, and each claimed reminder's line
(campaign, phase, obligation, subject and town by name; who else was told). Read for the
claimed items alone: a sweep must not load the whole tree of a province to write a hundred
thousand lines."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlmodel import Session, col

from models.domain.digest import ReminderLine
from models.domain.reminder_planning import ESCALATIONS, is_escalation
from models.domain.vocabulary import OPEN_ITEM, ReminderStatus, SubjectType
from models.store import db
from models.store.reminders import Claimed, ItemRef, OverdueItem
from models.store.tables import (
    Campaign,
    CampaignVersion,
    ChecklistItem,
    Obligation,
    Organization,
    Pairing,
    Person,
    Phase,
    Reminder,
    Unit,
    columns,
)

DISTRICT_LEVEL = "区直"  # the "town" of a unit directly under the district


class Recipient(NamedTuple):
    id: int
    code: str
    name: str
    channels: list[str] | None


class EscalatedItem(NamedTuple):
    campaign: str
    org: str
    item: OverdueItem


def recipients(session: Session) -> dict[int, Recipient]:
    """Everyone a reminder may go to, by id: their code, name and channels."""
    rows = session.execute(
        select(col(Person.id), col(Person.code), col(Person.name), col(Person.channels))
    )
    return {r.id: Recipient(r.id, r.code, r.name, r.channels) for r in rows}


def reminder_lines(
    session: Session, claimed: list[Claimed], people: dict[int, Recipient], today: dt.date
) -> dict[int, ReminderLine]:
    """The line each claimed reminder puts in its digest, by reminder id."""
    items: dict[int, ItemRef] = {c.item_id: c.item for c in claimed if c.item}
    wanted = sorted({c.item_id for c in claimed if c.item_id not in items})
    read = columns(ChecklistItem, " ".join(ItemRef._fields))
    for where in db.id_batches(session, col(ChecklistItem.id), wanted):
        # plain rows, not ORM objects: 100,000 of them
        for row in session.execute(select(*read).where(where)):
            items[row.id] = ItemRef._make(row)
    names = _subject_names(session, list(items.values()), people)
    towns = _town_names(session, {i.town_id for i in items.values()})
    told = _escalated_to(session, claimed, items, people, today)
    versions = {
        (v.campaign_id, v.version): v.id for v in session.execute(select(CampaignVersion)).scalars()
    }
    current = {
        c.id: (c.key, c.name, versions.get((c.id, c.current_version)))
        for c in session.execute(select(Campaign)).scalars()
    }
    phases = {(p.version_id, p.key): p.name for p in session.execute(select(Phase)).scalars()}
    titles = {(o.version_id, o.key): o.title for o in session.execute(select(Obligation)).scalars()}
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
            towns.get(item.town_id, DISTRICT_LEVEL),
            subject[1],
            subject[2],
            told.get((c.item_id, c.recipient_id), ""),
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


def _town_names(session: Session, town_ids: set[int | None]) -> dict[int | None, str]:
    wanted = sorted(t for t in town_ids if t is not None)
    out: dict[int | None, str] = {None: DISTRICT_LEVEL}
    for where in db.id_batches(session, col(Unit.id), wanted):
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
    for where in db.id_batches(session, col(Reminder.item_id), wanted):
        for row in session.execute(
            select(col(Reminder.item_id), col(Reminder.recipient_id)).where(
                where,
                col(Reminder.rule).in_(ESCALATIONS),
                col(Reminder.status).in_((ReminderStatus.SENT, ReminderStatus.SENDING)),
            )
        ):
            to[row.item_id].add(row.recipient_id)
    out = {}
    for item_id, doer in today_doers:
        others = sorted(people[p].name for p in to.get(item_id, ()) if p != doer and p in people)
        if others:
            out[(item_id, doer)] = "、".join(others)
    return out


def _subject_names(
    session: Session, items: list[ItemRef], people: dict[int, Recipient]
) -> dict[tuple[str, int], tuple[str, str, str]]:
    """(name, code, kind) of the claimed items' subjects."""
    out: dict[tuple[str, int], tuple[str, str, str]] = {}
    units = sorted({i.subject_id for i in items if i.subject_type == SubjectType.UNIT})
    for where in db.id_batches(session, col(Unit.id), units):
        for u in session.execute(
            select(col(Unit.id), col(Unit.name), col(Unit.code), col(Unit.kind)).where(where)
        ):
            out[(SubjectType.UNIT, u.id)] = (u.name, u.code, u.kind)
    for item in items:
        if item.subject_type == SubjectType.PERSON and item.subject_id in people:
            person = people[item.subject_id]
            out[(SubjectType.PERSON, item.subject_id)] = (person.name, person.code, "person")
    pairs = sorted({i.subject_id for i in items if i.subject_type == SubjectType.PAIRING})
    for where in db.id_batches(session, col(Pairing.id), pairs):
        for p in session.execute(
            select(
                col(Pairing.id), col(Pairing.code), col(Pairing.cadre_id), col(Pairing.contact_id)
            ).where(where)
        ):
            name = f"{people[p.cadre_id].name}—{people[p.contact_id].name}"
            out[(SubjectType.PAIRING, p.id)] = (name, p.code, "person")
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
