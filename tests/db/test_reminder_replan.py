"""A moved deadline moves its pending reminders; sent ones stay as they were."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from models.store import db
from models.store.tables import ChecklistItem, Reminder
from tests.db.rollout_helpers import rolled_out, rollout

D = dt.date


def reminders_of(url: str, obligation: str) -> list[tuple[str, dt.date, str]]:
    with db.session_for(url) as session:
        rows = session.execute(
            select(col(Reminder.rule), col(Reminder.send_on), col(Reminder.status))
            .join(ChecklistItem, col(ChecklistItem.id) == col(Reminder.item_id))
            .where(col(ChecklistItem.obligation_key) == obligation)
        ).all()
    return sorted(tuple(r) for r in rows)


def test_a_moved_deadline_moves_its_pending_reminders(
    db_url: str, campaigns_elsewhere: Path
) -> None:
    folder = campaigns_elsewhere
    rolled_out(db_url, "mass-line-2013", D(2013, 9, 3))
    assert reminders_of(db_url, "study-materials") == [
        ("before", D(2013, 9, 5), "pending"),
        ("due", D(2013, 9, 10), "pending"),
    ]
    path = folder / "mass-line-2013.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "due: 5 working days after start", "due: 8 working days after start"
        ),
        encoding="utf-8",
    )
    rollout(db_url, "mass-line-2013", D(2013, 9, 3))
    # due Sept 13 now: three working days before is the 10th
    assert reminders_of(db_url, "study-materials") == [
        ("before", D(2013, 9, 5), "cancelled"),
        ("before", D(2013, 9, 10), "pending"),
        ("due", D(2013, 9, 10), "cancelled"),
        ("due", D(2013, 9, 13), "pending"),
    ]
