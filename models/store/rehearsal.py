"""What the rehearsal (`campaign simulate`) reads of a campaign to play its people's part:
the items still owed, when submissions awaiting a signature were dated, the samples no
inspector has checked, the rectifications still open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import select
from sqlmodel import Session, col

from models.domain.campaign import RECTIFY_PREFIX
from models.domain.vocabulary import OPEN_ITEM, EvidenceKind, ItemStatus
from models.store.tables import ChecklistItem, Evidence, InspectionSample
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
