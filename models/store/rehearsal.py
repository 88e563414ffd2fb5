"""What the rehearsal (`campaign simulate`) reads of a campaign to play its people's part:
the items still owed, when submissions awaiting a signature were dated, the samples no
inspector has checked, the rectifications still open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select
from sqlmodel import Session, col

from models.domain.campaign import RECTIFY_PREFIX
from models.domain.vocabulary import OPEN_ITEM, EvidenceKind, ItemStatus
from models.errors import CampaignError
from models.store import audit
from models.store.tables import AuditEvent, Campaign, ChecklistItem, Evidence, InspectionSample
from models.store.tables import Inspection as InspectionRow


def owed_items(session: Session, campaign: int) -> Sequence[ChecklistItem]:
    """Items not done yet, their phase open or still to come."""
    return (
        session.execute(
            select(ChecklistItem).where(
                col(ChecklistItem.campaign_id) == campaign,
                col(ChecklistItem.status).in_((ItemStatus.PENDING, *OPEN_ITEM)),
            )
        )
        .scalars()
        .all()
    )


def awaiting_signature_dated(session: Session, campaign: int) -> dict[int, dt.date]:
    """Item id → the day its latest submission awaiting a signature was dated."""
    rows = session.execute(
        select(col(Evidence.item_id), col(Evidence.dated))
        .join(ChecklistItem, col(ChecklistItem.id) == col(Evidence.item_id))
        .where(
            col(ChecklistItem.campaign_id) == campaign,
            col(ChecklistItem.status) == ItemStatus.SUBMITTED,
            col(Evidence.kind) == EvidenceKind.SUBMISSION,
        )
        .order_by(col(Evidence.id))
    ).all()
    return {r.item_id: r.dated for r in rows}


class UncheckedSample(NamedTuple):
    inspection_key: str
    label: str
    sample: InspectionSample


def unchecked_samples(session: Session, campaign: int) -> list[UncheckedSample]:
    """Every sample of the campaign's checks with no result yet, oldest first."""
    rows = session.execute(
        select(col(InspectionRow.key), col(InspectionRow.occurrence), InspectionSample)
        .join(InspectionSample, col(InspectionSample.inspection_id) == col(InspectionRow.id))
        .where(col(InspectionRow.campaign_id) == campaign, col(InspectionSample.result).is_(None))
        .order_by(col(InspectionSample.id))
    ).all()
    return [UncheckedSample._make(r) for r in rows]


def open_rectification_items(session: Session, campaign: int) -> Sequence[ChecklistItem]:
    return (
        session.execute(
            select(ChecklistItem).where(
                col(ChecklistItem.campaign_id) == campaign,
                col(ChecklistItem.obligation_key).like(f"{RECTIFY_PREFIX}%"),
                col(ChecklistItem.status) == ItemStatus.OPEN,
            )
        )
        .scalars()
        .all()
    )


REHEARSAL_STARTED = "rehearsal.started"
# the (entity, entity_key) index finds them among the audit trail's other events
_REHEARSED = select(col(AuditEvent.entity_key)).where(
    col(AuditEvent.entity) == "campaign", col(AuditEvent.action) == REHEARSAL_STARTED
)


def campaigns_in_use(session: Session) -> list[str]:
    """The campaigns here that no rehearsal brought: a database where a rehearsal would mix
    its made-up evidence, gate answers and reminder sweeps (which take every campaign's due
    reminders) into real records."""
    rolled = set(session.execute(select(col(Campaign.key))).scalars())
    rehearsed = set(session.execute(_REHEARSED).scalars())
    return sorted(rolled - rehearsed)


def is_rehearsal(session: Session, campaign: str) -> bool:
    """Whether a rehearsal brought `campaign` here: its runs may act for days ahead."""
    found = session.execute(
        _REHEARSED.where(col(AuditEvent.entity_key) == campaign).limit(1)
    ).first()
    return found is not None


def mark_rehearsal(session: Session, *, campaign: str, actor: str, now: dt.datetime) -> None:
    """Record that a rehearsal brings `campaign` here (before it is rolled out); once, for
    a rehearsal run again in parts (the demo's) marks nothing more."""
    if is_rehearsal(session, campaign):
        return
    audit.append(
        session,
        actor=actor,
        action=REHEARSAL_STARTED,
        entity="campaign",
        entity_key=campaign,
        payload={},
        now=now,
    )


def refuse_real_records(session: Session, *, holidays: Path | None = None) -> None:
    """A rehearsal runs only where nothing real would be touched (see `campaigns_in_use`).
    `holidays`: the folder of the holiday tables imported here, which the other data folder
    must be given too, or its calendar lacks next year."""
    if in_use := campaigns_in_use(session):
        tables = (
            f"；这里导入的节假日表（{holidays}）演练目录也要有：复制到演练目录的 holidays，"
            f"或设 CAMPAIGN_HOLIDAYS_DIR={holidays}"
            if holidays is not None
            else ""
        )
        raise CampaignError(
            f"这里的数据库已有正式下发的活动（{'、'.join(in_use)}）：演练会写入模拟的佐证、"
            "签字和审批，并在模拟的日子清扫所有活动的提醒，不能在这里进行。请换一个数据目录"
            "演练：CAMPAIGN_HOME=演练目录 campaign orgs import 组织文件，再 "
            "CAMPAIGN_HOME=演练目录 campaign simulate …（用 PostgreSQL 时另设 "
            f"CAMPAIGN_DATABASE_URL）{tables}"
        )
