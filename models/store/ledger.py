"""What the Excel ledger (台账) lists of a campaign: every item in ledger order, with the
evidence rows it has and the counts its latest submission reported."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import func, select
from sqlmodel import Session, col

from models.domain.vocabulary import EvidenceKind
from models.store.tables import ChecklistItem, Evidence, columns


class LedgerItem(NamedTuple):
    id: int
    phase_key: str
    town_id: int | None
    subject_type: str
    subject_id: int
    obligation_key: str
    occurrence: str
    status: str
    due: dt.date
    completed_on: dt.date | None


@dataclass(frozen=True)
class Ledger:
    by_phase: dict[str, list[LedgerItem]] = field(default_factory=dict)
    evidence: dict[int, int] = field(default_factory=dict)  # item id → evidence rows
    reported: dict[int, dict[str, int]] = field(default_factory=dict)  # item id → counts


def ledger_of(session: Session, campaign: int) -> Ledger:
    """The campaign's items by phase (by town, subject, obligation, due), with their evidence."""
    of_campaign = col(ChecklistItem.campaign_id) == campaign
    evidence = dict(
        session.execute(
            select(col(Evidence.item_id), func.count())
            .join(ChecklistItem, col(ChecklistItem.id) == col(Evidence.item_id))
            .where(of_campaign)
            .group_by(col(Evidence.item_id))
        ).all()
    )
    reported: dict[int, dict[str, int]] = {}
    for row in session.execute(
        select(col(Evidence.item_id), col(Evidence.counts))
        .join(ChecklistItem, col(ChecklistItem.id) == col(Evidence.item_id))
        .where(of_campaign, col(Evidence.kind) == EvidenceKind.SUBMISSION)
        .order_by(col(Evidence.id))
    ):
        reported[row.item_id] = row.counts or {}
    by_phase: dict[str, list[LedgerItem]] = defaultdict(list)
    for item in session.execute(
        select(*columns(ChecklistItem, " ".join(LedgerItem._fields)))
        .where(of_campaign)
        .order_by(*columns(ChecklistItem, "town_id subject_type subject_id obligation_key due"))
    ):
        by_phase[item.phase_key].append(LedgerItem._make(item))
    return Ledger(dict(by_phase), evidence, reported)
