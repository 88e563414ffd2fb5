"""Storing campaign versions and writing checklist items in bulk, converging on natural keys.

Items are written with INSERT ... ON CONFLICT DO NOTHING on their natural key, so a rollout
run twice, or twice at once, leaves the rows of one run. PostgreSQL loads through COPY into a
temporary table; SQLite through the driver's executemany.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pendulum
from sqlalchemy import ColumnElement, and_, bindparam, func, insert, or_, select, update
from sqlmodel import Session, SQLModel, col

from models.domain.campaign import RECTIFY_PREFIX, LoadedCampaign
from models.domain.planning import PlannedItem
from models.domain.vocabulary import DONE_ITEM, NOT_DONE, ItemStatus, PhaseStatus, SubjectType
from models.errors import CampaignError
from models.store.db import bulk_insert_ignore, insert_ignore, one_or_not_found, rows_changed
from models.store.orgs import org_id_of
from models.store.reminders import cancel_pending
from models.store.tables import (
    ITEM_NATURAL_KEY,
    Campaign,
    CampaignVersion,
    ChecklistItem,
    Obligation,
    Phase,
    PhaseState,
    columns,
    core,
)


class ItemRow(NamedTuple):
    """A planned checklist item as written: its natural key first, then what a re-plan moves."""

    campaign_id: int
    phase_key: str
    obligation_key: str
    subject_type: str
    subject_id: int
    occurrence: str
    due: str
    status: str
    wave: str | None
    version: int
    unit_id: int | None
    town_id: int | None
    opens_on: str | None
    closes_on: str | None

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        return (
            self.phase_key,
            self.obligation_key,
            self.subject_type,
            self.subject_id,
            self.occurrence,
        )


ITEM_COLUMNS: tuple[str, ...] = ItemRow._fields
assert ITEM_COLUMNS[: len(ITEM_NATURAL_KEY)] == ITEM_NATURAL_KEY, "ItemRow drifted from the key"
NATURAL_KEY = ITEM_NATURAL_KEY
DONE = DONE_ITEM


@dataclass(frozen=True)
class StoredVersion:
    campaign_id: int
    version: int
    created: bool
    previous: int | None


def store_version(session: Session, loaded: LoadedCampaign, now: dt.datetime) -> StoredVersion:
    """The campaign and this file's version: an unchanged file is the same version."""
    spec = loaded.spec
    org_id = org_id_of(session, spec.organization)
    insert_ignore(
        session,
        core(Campaign),
        [{"key": spec.key, "name": spec.name, "org_id": org_id}],
        key=["key"],
    )
    campaign = session.execute(select(Campaign).where(col(Campaign.key) == spec.key)).scalar_one()
    if campaign.org_id != org_id:
        if campaign.org_id is not None:
            raise CampaignError(f"活动 {spec.key} 已在另一个组织下发：请给这个活动另起一个 key")
        campaign.org_id = org_id
    existing = session.execute(
        select(col(CampaignVersion.version)).where(
            col(CampaignVersion.campaign_id) == campaign.id,
            col(CampaignVersion.content_hash) == loaded.content_hash,
        )
    ).scalar_one_or_none()
    previous = campaign.current_version
    if existing is not None:
        if campaign.current_version != existing:
            campaign.current_version = existing
        return StoredVersion(campaign.id, existing, False, previous)
    number = (
        session.execute(
            select(func.max(col(CampaignVersion.version))).where(
                col(CampaignVersion.campaign_id) == campaign.id
            )
        ).scalar_one()
        or 0
    ) + 1
    created = insert_ignore(
        session,
        core(CampaignVersion),
        [
            {
                "campaign_id": campaign.id,
                "version": number,
                "content_hash": loaded.content_hash,
                "source_path": str(loaded.path),
                "text": loaded.text,
                "loaded_at": now,
            }
        ],
        key=["campaign_id", "content_hash"],
    )
    version = session.execute(
        select(CampaignVersion).where(
            col(CampaignVersion.campaign_id) == campaign.id,
            col(CampaignVersion.content_hash) == loaded.content_hash,
        )
    ).scalar_one()
    if not created:  # a rollout running at the same time stored it first
        return StoredVersion(campaign.id, version.version, False, previous)
    session.execute(
        insert(Phase),
        [
            {
                "version_id": version.id,
                "key": p.key,
                "name": p.name,
                "position": i,
                "starts": loaded.phase_dates[p.key].starts,
                "ends": loaded.phase_dates[p.key].ends,
            }
            for i, p in enumerate(spec.phases)
        ],
    )
    rows = [
        {
            "version_id": version.id,
            "phase_key": phase.key,
            "key": ob.key,
            "title": ob.title,
            "subject_type": ob.subject.kind,
            "rule": ob.model_dump(mode="json", by_alias=True),
        }
        for phase, ob in spec.obligations()
    ]
    if rows:
        session.execute(insert(Obligation), rows)
    campaign.current_version = version.version
    session.add(campaign)
    return StoredVersion(campaign.id, version.version, True, previous)


def stored_version(session: Session, key: str, version: int) -> CampaignVersion | None:
    """Version `version` of campaign `key`, as its rollout stored it."""
    return session.execute(
        select(CampaignVersion)
        .join(Campaign, col(Campaign.id) == col(CampaignVersion.campaign_id))
        .where(col(Campaign.key) == key, col(CampaignVersion.version) == version)
    ).scalar_one_or_none()


def in_towns(towns: list[int | None]) -> ColumnElement[bool]:
    """Items of these towns (None: the district-level ones)."""
    ids = [t for t in towns if t is not None]
    parts = [col(ChecklistItem.town_id).in_(ids)] if ids else []
    if None in towns:
        parts.append(col(ChecklistItem.town_id).is_(None))
    return or_(*parts)


def to_answer(session: Session, campaign: int) -> Sequence[ChecklistItem]:
    """The campaign's items waiting for their evidence (open, or sent back), by due date."""
    return (
        session.execute(
            select(ChecklistItem)
            .where(
                col(ChecklistItem.campaign_id) == campaign,
                col(ChecklistItem.status).in_((ItemStatus.OPEN, ItemStatus.REJECTED)),
            )
            .order_by(col(ChecklistItem.due), col(ChecklistItem.id))
        )
        .scalars()
        .all()
    )


def in_phase(phase_key: str) -> ColumnElement[bool]:
    """Items of this phase."""
    return col(ChecklistItem.phase_key) == phase_key


def wave_members(session: Session, campaign: int) -> dict[str, set[int]]:
    """The units each wave of the campaign holds items for, whatever their status: what a
    later rollout keeps them to (`select_wave_units`)."""
    rows = session.execute(
        select(col(ChecklistItem.wave), col(ChecklistItem.unit_id))
        .where(
            col(ChecklistItem.campaign_id) == campaign,
            col(ChecklistItem.wave).is_not(None),
            col(ChecklistItem.subject_type) == SubjectType.UNIT,
        )
        .distinct()
    ).all()
    out: dict[str, set[int]] = {}
    for row in rows:
        out.setdefault(row.wave, set()).add(row.unit_id)
    return out


class CancelledItem(NamedTuple):
    id: int
    unit_id: int


def cancel_items_of_units(session: Session, *, unit_ids: Collection[int]) -> list[CancelledItem]:
    """The items not yet done of these units (retired ones), in every campaign, cancelled
    with their reminders not yet sent; what was done and recorded stays."""
    if not unit_ids:
        return []
    rows = session.execute(
        update(ChecklistItem)
        .where(
            col(ChecklistItem.unit_id).in_(sorted(unit_ids)),
            col(ChecklistItem.status).in_(NOT_DONE),
        )
        .values(status=ItemStatus.CANCELLED)
        .returning(col(ChecklistItem.id), col(ChecklistItem.unit_id))
        .execution_options(synchronize_session=False)
    ).all()
    cancelled = [CancelledItem(r.id, r.unit_id) for r in rows]
    cancel_pending(session, [c.id for c in cancelled])
    return cancelled


def items_of(session: Session, campaign: int, status: ItemStatus | None = None) -> int:
    """How many items the campaign has (every version), or how many in one status."""
    stmt = select(func.count()).where(col(ChecklistItem.campaign_id) == campaign)
    if status is not None:
        stmt = stmt.where(col(ChecklistItem.status) == status)
    count: int = session.execute(stmt).scalar_one()
    return count


def campaign_id(session: Session, key: str) -> int:
    stmt = select(col(Campaign.id)).where(col(Campaign.key) == key)
    missing = f"活动 {key} 尚未下发（先运行 campaign rollout {key}）"
    found: int = one_or_not_found(session, stmt, missing)
    return found


def sync_phase_states(
    session: Session, campaign: int, loaded: LoadedCampaign, as_of: pendulum.Date
) -> dict[str, str]:
    """Create the phase rows; a phase whose start has come is open. Returns key -> status."""
    insert_ignore(
        session,
        core(PhaseState),
        [
            {"campaign_id": campaign, "phase_key": p.key, "status": PhaseStatus.PENDING}
            for p in loaded.spec.phases
        ],
        key=["campaign_id", "phase_key"],
    )
    for phase in loaded.spec.phases:
        if loaded.phase_dates[phase.key].starts <= as_of:
            open_phase(session, campaign, phase.key, loaded.phase_dates[phase.key].starts)
    return phase_statuses(session, campaign)


def phase_statuses(session: Session, campaign: int) -> dict[str, str]:
    return dict(
        session.execute(
            select(col(PhaseState.phase_key), col(PhaseState.status)).where(
                col(PhaseState.campaign_id) == campaign
            )
        ).all()
    )


def _move(
    session: Session, model: type[SQLModel], campaign: int, phase_key: str, was: str, **values: Any
) -> int:
    """Move the rows of one phase of a campaign (its state, or its items) that are in status
    `was`; how many moved."""
    table = core(model)  # its columns; the update stays the ORM's, which syncs the session
    stmt = (
        update(model)
        .where(
            table.c.campaign_id == campaign,
            table.c.phase_key == phase_key,
            table.c.status == was,
        )
        .values(**values)
    )
    return rows_changed(session.execute(stmt))


def open_phase(session: Session, campaign: int, phase_key: str, on: dt.date) -> int:
    """Open a phase: its pending items become open (due). Returns how many items opened."""
    _move(session, PhaseState, campaign, phase_key, PhaseStatus.PENDING,
          status=PhaseStatus.OPEN, opened_on=on)  # fmt: skip
    return _move(session, ChecklistItem, campaign, phase_key, ItemStatus.PENDING,
                 status=ItemStatus.OPEN)  # fmt: skip


def close_phase(session: Session, campaign: int, phase_key: str, on: dt.date) -> bool:
    """Close an open phase; False when it was not open (already closed, or never opened)."""
    return bool(_move(session, PhaseState, campaign, phase_key, PhaseStatus.OPEN,
                      status=PhaseStatus.CLOSED, closed_on=on))  # fmt: skip


def item_rows(
    items: Iterable[PlannedItem], campaign: int, version: int, statuses: dict[str, str]
) -> Iterator[ItemRow]:
    for item in items:
        s = item.subject
        yield ItemRow(
            campaign,
            item.phase_key,
            item.obligation_key,
            s.type,
            s.id,
            item.occurrence,
            item.due.isoformat(),
            ItemStatus.PENDING
            if statuses.get(item.phase_key, PhaseStatus.PENDING) == PhaseStatus.PENDING
            else ItemStatus.OPEN,
            item.wave,
            version,
            s.unit_id,
            s.town_id,
            item.opens.isoformat() if item.opens else None,
            item.closes.isoformat() if item.closes else None,
        )


def write_items(session: Session, rows: Iterable[ItemRow]) -> int:
    """Insert item rows whose natural key is new; returns how many were inserted. The one
    writer of checklist items: a rollout's, and a failed check's rectification (`write_item`)."""
    return bulk_insert_ignore(session, "checklist_item", ITEM_COLUMNS, NATURAL_KEY, rows)


def write_item(session: Session, row: ItemRow) -> int:
    """One item, written as `write_items` writes them; its id (the one already there under
    its natural key, if any)."""
    write_items(session, [row])
    return session.execute(
        select(col(ChecklistItem.id)).where(
            *(getattr(ChecklistItem, name) == getattr(row, name) for name in NATURAL_KEY)
        )
    ).scalar_one()


def replan_items(
    session: Session,
    campaign: int,
    version: int,
    town_id: int | None,
    planned: list[ItemRow],
    other_waves: Collection[str | None] = (),
) -> tuple[int, int]:
    """Move the due dates of items not yet done to the new plan and cancel those the new
    plan no longer has. Returns (moved, cancelled). Done items are never rewritten, nor the
    items of `other_waves` (None: those in no wave), which `planned` does not hold: a gate
    opened in the middle of a rollout writes its waves on their own."""
    key_of = {row.key: row for row in planned}
    town_filter = (
        col(ChecklistItem.town_id).is_(None)
        if town_id is None
        else col(ChecklistItem.town_id) == town_id
    )
    named = [w for w in other_waves if w is not None]
    wave_filter = [
        *(
            [or_(col(ChecklistItem.wave).is_(None), col(ChecklistItem.wave).not_in(named))]
            if named
            else []
        ),
        *([col(ChecklistItem.wave).is_not(None)] if None in other_waves else []),
    ]
    existing = session.execute(
        select(
            *columns(
                ChecklistItem,
                "id phase_key obligation_key subject_type subject_id occurrence due opens_on"
                " closes_on status",
            ),
        ).where(
            and_(
                col(ChecklistItem.campaign_id) == campaign,
                town_filter,
                col(ChecklistItem.status).not_in(DONE),
                # a failed check's rectification is no part of the plan: never cancel it
                col(ChecklistItem.obligation_key).not_like(f"{RECTIFY_PREFIX}%"),
                *wave_filter,
            )
        )
    ).all()
    moves, cancels = [], []
    for row in existing:
        new = key_of.get(
            (row.phase_key, row.obligation_key, row.subject_type, row.subject_id, row.occurrence)
        )
        if new is None:
            cancels.append(row.id)
        elif (new.due, new.opens_on, new.closes_on) != (
            row.due.isoformat(),
            _iso(row.opens_on),
            _iso(row.closes_on),
        ):
            moves.append(
                {
                    "b_id": row.id,
                    "b_due": dt.date.fromisoformat(new.due),
                    "b_opens": _date(new.opens_on),
                    "b_closes": _date(new.closes_on),
                }
            )
    if moves:
        session.execute(
            update(core(ChecklistItem))
            .where(core(ChecklistItem).c.id == bindparam("b_id"))
            .values(
                due=bindparam("b_due"),
                opens_on=bindparam("b_opens"),
                closes_on=bindparam("b_closes"),
                version=version,
            ),
            moves,
        )
    for i in range(0, len(cancels), 1000):
        session.execute(
            update(ChecklistItem)
            .where(col(ChecklistItem.id).in_(cancels[i : i + 1000]))
            .values(status=ItemStatus.CANCELLED, version=version)
        )
    cancel_pending(session, [m["b_id"] for m in moves] + cancels)
    return len(moves), len(cancels)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None
