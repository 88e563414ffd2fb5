"""A person's open items: everything their reminders are about, whether a digest had room
to list it or not. What `campaign todo` prints and a digest's 查看全部 points to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from models.domain.reminder_planning import is_escalation
from models.domain.vocabulary import OPEN_ITEM
from models.store.tables import (
    ITEM_NATURAL_KEY,
    Campaign,
    ChecklistItem,
    Organization,
    Person,
    Reminder,
    columns,
)


@dataclass(frozen=True)
class TodoItem:
    campaign: str
    phase_key: str
    obligation_key: str
    subject_type: str
    subject_id: int
    occurrence: str
    due: dt.date
    status: str
    escalated: bool  # reminded as the supervisor of someone else's item


def org_key_of(session: Session, person: Person) -> str:
    """The key of the organization a person belongs to."""
    key: str = session.execute(
        select(col(Organization.key)).where(col(Organization.id) == person.org_id)
    ).scalar_one()
    return key


def todo_items(session: Session, person: Person) -> list[TodoItem]:
    """The person's open items, by due date."""
    rows = session.execute(
        select(
            col(Campaign.key),
            # the item's natural key after its campaign, then what the list shows
            *columns(ChecklistItem, " ".join((*ITEM_NATURAL_KEY[1:], "due", "status"))),
            col(Reminder.rule),
        )
        .join(Reminder, col(Reminder.item_id) == col(ChecklistItem.id))
        .join(Campaign, col(Campaign.id) == col(ChecklistItem.campaign_id))
        .where(col(Reminder.recipient_id) == person.id, col(ChecklistItem.status).in_(OPEN_ITEM))
    ).all()
    out: dict[tuple[object, ...], TodoItem] = {}
    for r in rows:
        key = (r.key, r.phase_key, r.obligation_key, r.subject_type, r.subject_id, r.occurrence)
        escalated = is_escalation(r.rule)
        held = out.get(key)
        if held is None or (held.escalated and not escalated):
            out[key] = TodoItem(*key, r.due, r.status, escalated)
    return sorted(out.values(), key=lambda t: (t.due, t.campaign, t.obligation_key))
