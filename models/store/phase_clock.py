"""A campaign brought to a day: phases whose start has come are open (their reminders
planned), those whose end has passed are closed. Every command that acts as of a day runs
it first, so that an answer never depends on whether a scheduler happened to run; it is
idempotent, and what a schedule already did it does not do again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session, col

from models.domain.campaign import LoadedCampaign
from models.domain.org_snapshot import OrgSnapshot
from models.domain.vocabulary import PhaseStatus
from models.domain.working_days import WorkCalendar
from models.store import audit
from models.store.orgs import load_snapshot
from models.store.reminders import plan_initial_reminders
from models.store.rollout import close_phase, open_phase, phase_statuses
from models.store.tables import Campaign, ChecklistItem


@dataclass
class PhaseMoves:
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


def phase_moves(
    loaded: LoadedCampaign, statuses: dict[str, str], day: dt.date
) -> tuple[list[str], list[str]]:
    """(to open, to close) on `day`: pure, from the resolved dates and the states stored."""
    to_open = [
        p.key
        for p in loaded.spec.phases
        if statuses.get(p.key) == PhaseStatus.PENDING and loaded.phase_dates[p.key].starts <= day
    ]
    to_close = [
        p.key
        for p in loaded.spec.phases
        if (statuses.get(p.key) == PhaseStatus.OPEN or p.key in to_open)
        and loaded.phase_dates[p.key].ends < day
    ]
    return to_open, to_close


def bring_to_day(
    session: Session,
    loaded: LoadedCampaign,
    calendar: WorkCalendar,
    day: dt.date,
    *,
    now: dt.datetime,
    actor: str = "system",
    org: OrgSnapshot | None = None,
) -> PhaseMoves:
    """Open and close the phases `day` calls for (nothing, for a campaign not rolled out)."""
    moves = PhaseMoves()
    spec = loaded.spec
    cid = session.execute(
        select(col(Campaign.id)).where(col(Campaign.key) == spec.key)
    ).scalar_one_or_none()
    if cid is None:
        return moves
    to_open, to_close = phase_moves(loaded, phase_statuses(session, cid), day)
    for key in to_open:
        on = loaded.phase_dates[key].starts
        opened = open_phase(session, cid, key, on)
        if opened:
            org = org or load_snapshot(session, spec.organization)
            plan_initial_reminders(
                session,
                spec=spec,
                campaign=cid,
                org=org,
                calendar=calendar,
                where=[col(ChecklistItem.phase_key) == key],
            )
        audit.append(
            session,
            actor=actor,
            action="phase.opened",
            entity="phase",
            entity_key=f"{spec.key}:{key}",
            payload={"items": opened, "on": on.isoformat()},
            now=now,
        )
        moves.opened.append(key)
    for key in to_close:
        on = loaded.phase_dates[key].ends
        if close_phase(session, cid, key, on):
            audit.append(
                session,
                actor=actor,
                action="phase.closed",
                entity="phase",
                entity_key=f"{spec.key}:{key}",
                payload={"on": on.isoformat()},
                now=now,
            )
            moves.closed.append(key)
    return moves
