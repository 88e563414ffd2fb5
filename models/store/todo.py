"""A person's open items: everything their reminders are about, whether a digest had room
to list it or not. What `campaign todo` prints and a digest's 查看全部 points to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from models.domain.reminder_planning import is_escalation
from models.domain.vocabulary import OPEN_ITEM
from models.store.reminders import ItemRef
from models.store.tables import (
    Campaign,
    ChecklistItem,
    Organization,
    Person,
    Reminder,
    columns,
)


@dataclass(frozen=True)
class TodoItem:
    campaign: str  # its key
    item: ItemRef  # what a reminder line reads of it: the natural key, the due date, status
    escalated: bool  # reminded as the supervisor of someone else's item


def org_key_of(session: Session, person: Person) -> str:
    """The key of the organization a person belongs to."""
    key: str = session.execute(
        select(col(Organization.key)).where(col(Organization.id) == person.org_id)
    ).scalar_one()
    return key


def todo_items(session: Session, person: Person) -> list[TodoItem]:
    """The person's open items, by due date."""
    read = columns(ChecklistItem, " ".join(ItemRef._fields))
    rows = session.execute(
        select(col(Campaign.key), *read, col(Reminder.rule))
        .join(Reminder, col(Reminder.item_id) == col(ChecklistItem.id))
        .join(Campaign, col(Campaign.id) == col(ChecklistItem.campaign_id))
        .where(col(Reminder.recipient_id) == person.id, col(ChecklistItem.status).in_(OPEN_ITEM))
    ).all()
    out: dict[int, TodoItem] = {}  # by item: one line however many reminders name it
    for r in rows:
        escalated = is_escalation(r.rule)
        held = out.get(r.id)
        if held is None or (held.escalated and not escalated):
            item = ItemRef._make(r[1 : 1 + len(read)])
            out[r.id] = TodoItem(r.key, item, escalated)
    return sorted(out.values(), key=lambda t: (t.item.due, t.campaign, t.item.obligation_key))
