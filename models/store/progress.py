"""Progress of a campaign as of a day: by phase, by town, and targets against actuals.

The same numbers feed `campaign status`, its JSON, the Prefect artifacts and the report.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlmodel import Session, col

from models.domain.campaign import CampaignSpec, LoadedCampaign
from models.domain.progress import is_backfilled, phase_status_on, rag
from models.domain.vocabulary import DONE_ITEM, EvidenceKind, ItemStatus, PhaseStatus
from models.store.inspections import open_rectifications
from models.store.rollout import campaign_id
from models.store.tables import ChecklistItem, Evidence, PhaseState, Reminder, Unit

NOT_DUE_STATUSES = DONE_ITEM


@dataclass(frozen=True)
class PhaseProgress:
    key: str
    name: str
    starts: str
    ends: str
    items: int
    accepted: int
    overdue: int
    percent: float
    status: str = PhaseStatus.PENDING


@dataclass(frozen=True)
class TownProgress:
    code: str
    name: str
    items: int
    accepted: int
    overdue: int
    percent: float

    owed: int = 0  # due before the day, or done by it: what `rag` judges against

    @property
    def rag(self) -> str:
        return rag(self.owed, self.overdue)


@dataclass(frozen=True)
class TargetProgress:
    key: str
    name: str
    unit: str
    target: int
    actual: int


@dataclass
class CampaignProgress:
    campaign: str
    name: str
    as_of: str
    phases: list[PhaseProgress] = field(default_factory=list)
    towns: list[TownProgress] = field(default_factory=list)
    targets: list[TargetProgress] = field(default_factory=list)
    reminders: dict[str, int] = field(default_factory=dict)
    # rectifications that failed checks raised: still open, and closed by a passing recheck
    rectifications: dict[str, int] = field(default_factory=dict)
    # accepted items whose evidence is dated before the day it was entered (补录)
    backfilled: int = 0

    @property
    def items(self) -> int:
        return sum(p.items for p in self.phases)

    @property
    def accepted(self) -> int:
        return sum(p.accepted for p in self.phases)

    @property
    def overdue(self) -> int:
        return sum(p.overdue for p in self.phases)

    @property
    def percent(self) -> float:
        return percent(self.accepted, self.items)

    def as_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "as_of": self.as_of,
            "phases": [asdict(p) for p in self.phases],  # status: as the phase stood that day
            "towns": [asdict(t) for t in self.towns],
            "reminders": self.reminders,
            "rectifications": self.rectifications,
            "backfilled": self.backfilled,
            "targets": [
                {"name": t.name, "target": t.target, "actual": t.actual} for t in self.targets
            ],
        }


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def accepted_by(as_of: dt.date) -> Any:
    """Accepted on or before the day: what the campaign had done at the end of it."""
    return (col(ChecklistItem.status) == ItemStatus.ACCEPTED) & (
        col(ChecklistItem.completed_on).is_(None) | (col(ChecklistItem.completed_on) <= as_of)
    )


def asked_by(as_of: dt.date) -> Any:
    """Due before the day, its phase open: what the day had asked for (a pending item's phase
    has not opened, nobody was asked for it yet). Not done by then, it is overdue."""
    return col(ChecklistItem.status).not_in((ItemStatus.CANCELLED, ItemStatus.PENDING)) & (
        col(ChecklistItem.due) < as_of
    )


class Counts(NamedTuple):
    items: int
    accepted: int
    overdue: int
    owed: int


def _counts(session: Session, campaign: int, as_of: dt.date, group: Any) -> dict[Any, Counts]:
    done, asked_by_then = accepted_by(as_of), asked_by(as_of)
    rows = session.execute(
        select(
            group.label("key"),
            func.count().label("items"),
            func.sum(case((done, 1), else_=0)).label("accepted"),
            func.sum(case((asked_by_then & ~done, 1), else_=0)).label("overdue"),
            func.sum(case((asked_by_then | done, 1), else_=0)).label("owed"),
        )
        .where(
            col(ChecklistItem.campaign_id) == campaign,
            col(ChecklistItem.status) != ItemStatus.CANCELLED,
        )
        .group_by(group)
    ).all()
    return {
        r.key: Counts(r.items, int(r.accepted or 0), int(r.overdue or 0), int(r.owed or 0))
        for r in rows
    }


def counts_by_wave(session: Session, campaign: int, as_of: dt.date) -> dict[str | None, Counts]:
    """Each wave's items as the day ends (None: items of no wave): what a gate is judged by."""
    return _counts(session, campaign, as_of, col(ChecklistItem.wave))


def target_actuals(
    session: Session, campaign: int, spec: CampaignSpec, as_of: dt.date | None = None
) -> dict[str, int]:
    """Sum of the counts that accepted items' evidence reported, per campaign target (as
    of a day: items accepted by then, evidence dated by then)."""
    mapping: dict[tuple[str, str], str] = {
        (ob.key, c.key): c.target
        for _, ob in spec.obligations()
        for c in ob.evidence.counts
        if c.target
    }
    totals: dict[str, int] = defaultdict(int)
    if not mapping:
        return totals
    superseded = select(col(Evidence.supersedes_id)).where(col(Evidence.supersedes_id).is_not(None))
    rows = session.execute(
        select(col(ChecklistItem.obligation_key), col(Evidence.counts))
        .join(Evidence, col(Evidence.item_id) == col(ChecklistItem.id))
        .where(
            *_accepted_submissions(campaign, as_of),
            col(Evidence.id).not_in(superseded),
            *([] if as_of is None else [col(Evidence.dated) <= as_of]),
        )
    ).all()
    for obligation_key, counts in rows:
        for name, value in (counts or {}).items():
            target = mapping.get((obligation_key, name))
            if target:
                totals[target] += int(value)
    return totals


def campaign_progress(session: Session, loaded: LoadedCampaign, as_of: dt.date) -> CampaignProgress:
    spec = loaded.spec
    campaign = campaign_id(session, spec.key)
    by_phase = _counts(session, campaign, as_of, col(ChecklistItem.phase_key))
    by_town = _counts(session, campaign, as_of, col(ChecklistItem.town_id))
    statuses = {
        state.phase_key: phase_status_on(
            PhaseStatus(state.status), state.opened_on, state.closed_on, as_of
        )
        for state in session.execute(
            select(
                col(PhaseState.phase_key),
                col(PhaseState.status),
                col(PhaseState.opened_on),
                col(PhaseState.closed_on),
            ).where(col(PhaseState.campaign_id) == campaign)
        ).all()
    }
    out = CampaignProgress(spec.key, spec.name, as_of.isoformat())
    for phase in spec.phases:
        items, accepted, overdue, _ = by_phase.get(phase.key, Counts(0, 0, 0, 0))
        dates = loaded.phase_dates[phase.key]
        out.phases.append(
            PhaseProgress(
                phase.key,
                phase.name,
                dates.starts.isoformat(),
                dates.ends.isoformat(),
                items,
                accepted,
                overdue,
                percent(accepted, items),
                statuses.get(phase.key, PhaseStatus.PENDING),
            )
        )
    towns = {
        u.id: u
        for u in session.execute(
            select(col(Unit.id), col(Unit.code), col(Unit.name)).where(
                col(Unit.id).in_([t for t in by_town if t])
            )
        ).all()
    }
    ordered = sorted(by_town, key=lambda t: (t is not None, towns[t].code if t else ""))
    for town_id in ordered:
        items, accepted, overdue, owed = by_town[town_id]
        code, name = (
            ("district", "区直") if town_id is None else (towns[town_id].code, towns[town_id].name)
        )
        out.towns.append(
            TownProgress(code, name, items, accepted, overdue, percent(accepted, items), owed)
        )
    out.reminders = {
        status: n
        for status, n in session.execute(
            select(col(Reminder.status), func.count())
            .join(ChecklistItem, col(ChecklistItem.id) == col(Reminder.item_id))
            .where(col(ChecklistItem.campaign_id) == campaign)
            .group_by(col(Reminder.status))
        ).all()
    }
    # sent, but perhaps twice: a sweep died between delivering and recording them
    uncertain = session.execute(
        select(func.count())
        .select_from(Reminder)
        .join(ChecklistItem, col(ChecklistItem.id) == col(Reminder.item_id))
        .where(col(ChecklistItem.campaign_id) == campaign, col(Reminder.uncertain).is_(True))
    ).scalar_one()
    if uncertain:
        out.reminders["uncertain"] = uncertain
    out.backfilled = backfilled_items(session, campaign, spec.timezone, as_of)
    if spec.inspections:
        still_open, closed = open_rectifications(session, campaign)
        out.rectifications = {"open": still_open, "closed": closed}
    actuals = target_actuals(session, campaign, spec, as_of)
    out.targets = [
        TargetProgress(t.key, t.name, t.unit, t.value, actuals.get(t.key, 0)) for t in spec.targets
    ]
    return out


def _accepted_submissions(campaign: int, as_of: dt.date | None) -> list[ColumnElement[bool]]:
    """The submissions of the campaign's items accepted (by `as_of`, when given), on a join
    of items and evidence."""
    return [
        col(ChecklistItem.campaign_id) == campaign,
        col(ChecklistItem.status) == ItemStatus.ACCEPTED if as_of is None else accepted_by(as_of),
        col(Evidence.kind) == EvidenceKind.SUBMISSION,
    ]


def backfilled_items(
    session: Session, campaign: int, timezone: str, as_of: dt.date | None = None
) -> int:
    """Accepted items whose submission is `is_backfilled` (entered, on the day in the campaign's
    timezone, after the due date it claims to have met)."""
    zone = ZoneInfo(timezone)
    rows = session.execute(
        select(
            col(Evidence.item_id),
            col(Evidence.dated),
            col(Evidence.recorded_at),
            col(ChecklistItem.due),
        )
        .join(ChecklistItem, col(ChecklistItem.id) == col(Evidence.item_id))
        .where(*_accepted_submissions(campaign, as_of))
    ).all()
    return len(
        {
            r.item_id
            for r in rows
            if is_backfilled(r.dated, r.recorded_at.astimezone(zone).date(), r.due)
        }
    )
