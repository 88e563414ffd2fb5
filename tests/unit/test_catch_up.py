"""What catch-up owes by an instant: the phases to close, the last sweep's day."""

from __future__ import annotations

import datetime as dt

import pendulum

from models.domain.campaign import PhaseDates
from models.domain.catch_up import last_sweep_day, phases_to_close

D = pendulum.Date
CLOSE_AT = dt.time(20, 0)
DATES = {
    "kickoff": PhaseDates("kickoff", D(2026, 11, 2), D(2026, 11, 20)),
    "contact": PhaseDates("contact", D(2026, 11, 2), D(2026, 11, 27)),
    "review": PhaseDates("review", D(2026, 11, 30), D(2026, 12, 31)),
}


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute)


def test_an_open_phase_closes_from_its_last_day_at_20_00_not_before() -> None:
    statuses = {"kickoff": "open", "contact": "open", "review": "pending"}
    assert phases_to_close(DATES, statuses, at(27, 19, 59), CLOSE_AT) == [
        ("kickoff", D(2026, 11, 20))
    ]
    assert phases_to_close(DATES, statuses, at(27, 20), CLOSE_AT) == [
        ("kickoff", D(2026, 11, 20)),
        ("contact", D(2026, 11, 27)),
    ]


def test_closed_and_unopened_phases_are_not_closed_again() -> None:
    statuses = {"kickoff": "closed", "contact": "pending", "review": "pending"}
    assert phases_to_close(DATES, statuses, at(28, 12), CLOSE_AT) == []


def test_the_instant_may_carry_its_offset() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    now = dt.datetime(2026, 11, 27, 20, 30, tzinfo=shanghai)
    assert [k for k, _ in phases_to_close(DATES, {"contact": "open"}, now, CLOSE_AT)] == ["contact"]


def test_the_sweep_day_is_today_from_09_00_else_yesterday() -> None:
    nine = dt.time(9, 0)
    assert last_sweep_day(at(28, 8, 59), nine) == dt.date(2026, 11, 27)
    assert last_sweep_day(at(28, 9, 0), nine) == dt.date(2026, 11, 28)
    assert last_sweep_day(dt.datetime(2026, 12, 1, 7, 0), nine) == dt.date(2026, 11, 30)
