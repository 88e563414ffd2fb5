"""A village merged away (合村并居): tagged 已撤销 in the organization's file, it is asked
nothing more; what it owed is cancelled with its reminders, what it did stays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import col

from config.settings import get_settings
from models.store import db
from models.store.reminders import cancel_pending
from models.store.tables import AuditEvent, ChecklistItem, Reminder, Unit
from tasks.context import task_context
from tasks.org_tasks import import_org_files
from tests.db.rollout_helpers import rolled_out, rollout

D = dt.date
VILLAGE = "gushan-v02"


def _statuses(url: str, table: type, status: Any) -> dict[str, int]:
    """How many of the village's items, or of their reminders, stand in each status."""
    with db.session_for(url) as session:
        query = (
            select(status, func.count())
            .select_from(ChecklistItem)
            .join(Unit, col(Unit.id) == col(ChecklistItem.unit_id))
            .where(col(Unit.code) == VILLAGE)
            .group_by(status)
        )
        if table is Reminder:
            query = query.join(Reminder, col(Reminder.item_id) == col(ChecklistItem.id))
        return {str(s): n for s, n in session.execute(query).all()}


def test_a_retired_village_is_asked_nothing_more_and_keeps_what_it_did(
    db_url: str, tmp_path: Path
) -> None:
    rolled_out(db_url, "village-meetings-2013", D(2013, 1, 4))
    before = _statuses(db_url, ChecklistItem, col(ChecklistItem.status))
    assert sum(before.values()) == 53 + 12  # a year of weekly and monthly meetings
    with db.session_for(db_url) as session:  # the first week's meeting, done
        first = session.execute(
            select(col(ChecklistItem.id))
            .join(Unit, col(Unit.id) == col(ChecklistItem.unit_id))
            .where(col(Unit.code) == VILLAGE, col(ChecklistItem.occurrence) == "2013-W01")
        ).scalar_one()
        session.execute(update(ChecklistItem).where(col(ChecklistItem.id) == first)
                        .values(status="accepted"))  # fmt: skip
        cancel_pending(session, [first])  # as accepting it does
    assert _statuses(db_url, Reminder, col(Reminder.status)).get("pending", 0) > 0

    shipped = (get_settings().orgs_dir / "weihai-etdz.yaml").read_text(encoding="utf-8")
    line = f"  - {{code: {VILLAGE}, name: 潘家岭村, kind: village, parent: gushan, "
    assert line + "origin: filled}" in shipped
    org = tmp_path / "weihai-etdz.yaml"
    org.write_text(shipped.replace(line, line + "tags: [已撤销], "), encoding="utf-8")
    with db.session_for(db_url) as session:
        imported = import_org_files(task_context(), session, [org], None, "p-org-01")
    assert "已撤销的单位 1 个：未完成的事项 64 项已取消（已办的照旧保留）" in imported.lines
    assert _statuses(db_url, ChecklistItem, col(ChecklistItem.status)) == {
        "accepted": 1,
        "cancelled": 64,
    }
    assert "pending" not in _statuses(db_url, Reminder, col(Reminder.status))
    with db.session_for(db_url) as session:
        event = session.execute(
            select(AuditEvent).where(col(AuditEvent.action) == "items.cancelled")
        ).scalar_one()
    assert (event.actor, event.payload["retired"]) == ("p-org-01", [VILLAGE])
    assert len(event.payload["items"]) == 64

    # rolled out again, on a later day: nothing comes back for it, and nothing else moves
    assert rollout(db_url, "village-meetings-2013", D(2013, 1, 7)) == 0
    assert _statuses(db_url, ChecklistItem, col(ChecklistItem.status)) == {
        "accepted": 1,
        "cancelled": 64,
    }
    # imported again as it is: nothing more to cancel, nothing said
    with db.session_for(db_url) as session:
        again = import_org_files(task_context(), session, [org], None, "p-org-01")
    assert not any("已撤销" in line for line in again.lines), again.lines
