"""How progress is judged, whoever shows it (status, the UI's artifacts, the web door)."""

from __future__ import annotations

import datetime as dt

from models.domain.vocabulary import PhaseStatus


def rag(owed: int, overdue: int) -> str:
    """red: over a fifth of what was owed by the day is overdue; amber: any overdue; green:
    none. `owed`: the items due before the day or done by it. Not all the items: a year of
    weekly meetings is judged by the weeks gone, or every village missing every meeting of
    a spring would still read as a few overdue."""
    if overdue and overdue * 5 > owed:
        return "red"
    return "amber" if overdue else "green"


def is_backfilled(dated: dt.date, entered_on: dt.date, due: dt.date) -> bool:
    """补录: a record entered after its item's due date that is dated on or before it, so done
    in time only by the day it claims. Flagged, not refused: a report must not pass it off
    as timely. A meeting reported the day after it was held, before the deadline, is not;
    nor is a late record dated late (it counts as late already)."""
    return dated <= due < entered_on


def phase_status_on(
    status: PhaseStatus, opened_on: dt.date | None, closed_on: dt.date | None, day: dt.date
) -> PhaseStatus:
    """What a phase was on `day`, from when it opened and closed: progress viewed as of a past
    day shows the phase as it stood then, not as it stands now. A phase not yet opened or
    closed (or with no date recorded) is as it stands."""
    if closed_on is not None and closed_on > day:
        status = PhaseStatus.OPEN
    if status == PhaseStatus.OPEN and opened_on is not None and opened_on > day:
        status = PhaseStatus.PENDING
    return status
