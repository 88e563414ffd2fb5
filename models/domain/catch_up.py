"""What a campaign's schedules should have done by an instant: the pure part of catch-up."""

from __future__ import annotations

import datetime as dt

from models.domain.campaign import PhaseDates


def phases_to_close(
    dates: dict[str, PhaseDates],
    statuses: dict[str, str],
    now_local: dt.datetime,
    close_at: dt.time,
) -> list[tuple[str, dt.date]]:
    """(phase, end date) of the phases still open whose closing run's time has passed,
    earliest first: a phase closes on its last day at `close_at`, local time."""
    due = [
        (key, d.ends)
        for key, d in dates.items()
        if statuses.get(key) == "open"
        and dt.datetime.combine(d.ends, close_at) <= now_local.replace(tzinfo=None)
    ]
    return sorted(due, key=lambda pair: (pair[1], pair[0]))


def last_sweep_day(now_local: dt.datetime, sweep_at: dt.time) -> dt.date:
    """The last day whose daily sweep time has come: today from `sweep_at` on, else
    yesterday (a catch-up at 07:00 must not send today's 09:00 reminders early)."""
    day = now_local.date()
    return day if now_local.time() >= sweep_at else day - dt.timedelta(days=1)
