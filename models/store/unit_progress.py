"""Progress of one unit and every unit below it, down to villages: what a planner looks at
to see which village is behind, and on what."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import case, select
from sqlmodel import Session, col

from models.domain.campaign import LoadedCampaign
from models.domain.org_snapshot import OrgSnapshot
from models.domain.vocabulary import ItemStatus
from models.domain.wording import AWAITING_SIGNATURE_ZH, occurrence_zh
from models.store.progress import accepted_by, asked_by
from models.store.rollout import campaign_id
from models.store.tables import ChecklistItem, columns


@dataclass(frozen=True)
class LateItem:
    title: str
    occurrence: str
    due: str
    # reported, not yet signed: the unit did its part; the hold-up is the signer's
    awaiting_signature: bool = False

    @property
    def remark(self) -> str:
        return AWAITING_SIGNATURE_ZH if self.awaiting_signature else ""


@dataclass
class UnitRow:
    code: str
    name: str
    kind: str
    depth: int  # 0 for the unit asked about
    items: int = 0
    accepted: int = 0
    overdue: int = 0
    owed: int = 0  # due before the day, or done by it (models/domain/progress.rag)
    late: list[LateItem] = field(default_factory=list)  # its own overdue items


def unit_progress(
    session: Session, loaded: LoadedCampaign, org: OrgSnapshot, code: str, as_of: dt.date
) -> list[UnitRow]:
    """The unit and the units below it, tree order; counts cover each one's subtree, `late`
    lists each one's own overdue items (by title and window) as of the day."""
    root = org.unit_coded(code)
    children: dict[int | None, list[int]] = {}
    for unit in org.units.values():
        children.setdefault(unit.parent_id, []).append(unit.id)
    order: list[tuple[int, int]] = []

    def walk(unit_id: int, depth: int) -> None:
        order.append((unit_id, depth))
        for child in sorted(children.get(unit_id, []), key=lambda u: org.units[u].code):
            walk(child, depth + 1)

    walk(root.id, 0)
    rows = {
        uid: UnitRow(org.units[uid].code, org.units[uid].name, org.units[uid].kind, depth)
        for uid, depth in order
    }
    titles = {ob.key: ob.title for _, ob in loaded.spec.obligations()}
    items = session.execute(
        select(
            *columns(ChecklistItem, "unit_id obligation_key occurrence due status"),
            # the same rules as the campaign's and towns' counts (progress.py)
            case((accepted_by(as_of), 1), else_=0).label("done"),
            case((asked_by(as_of), 1), else_=0).label("asked"),
        ).where(
            col(ChecklistItem.campaign_id) == campaign_id(session, loaded.spec.key),
            col(ChecklistItem.status) != ItemStatus.CANCELLED,
            col(ChecklistItem.unit_id).in_(list(rows)),
        )
    ).all()
    for item in sorted(items, key=lambda i: (i.due, i.obligation_key)):
        done, asked_by_then = bool(item.done), bool(item.asked)
        late = not done and asked_by_then
        current: int | None = item.unit_id
        while current is not None and current in rows:
            row = rows[current]
            row.items += 1
            row.accepted += done
            row.overdue += late
            row.owed += done or asked_by_then
            current = org.units[current].parent_id if current != root.id else None
        if late:
            rows[item.unit_id].late.append(
                LateItem(
                    titles.get(item.obligation_key, item.obligation_key),
                    occurrence_zh(item.occurrence),
                    item.due.isoformat(),
                    item.status == ItemStatus.SUBMITTED,
                )
            )
    return [rows[uid] for uid, _ in order]


def unit_rows_json(rows: list[UnitRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
