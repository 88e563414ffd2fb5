"""How a town's progress is judged: against what was owed by the day, not the whole year."""

from __future__ import annotations

import datetime as dt

import pytest

from models.domain.progress import is_backfilled, rag


@pytest.mark.parametrize(
    ("owed", "overdue", "judged"),
    [
        (0, 0, "green"),  # nothing asked yet
        (10, 0, "green"),
        (10, 1, "amber"),
        (10, 2, "amber"),  # a fifth exactly
        (10, 3, "red"),
        # every weekly meeting of nine weeks missed by 100 villages, in a year of 5,200
        # items: judged by the 900 owed, it is red (by all the items it read as amber)
        (900, 900, "red"),
    ],
)
def test_a_town_is_red_when_over_a_fifth_of_what_it_owed_is_late(
    owed: int, overdue: int, judged: str
) -> None:
    assert rag(owed, overdue) == judged


def test_a_phase_viewed_on_a_past_day_is_as_it_stood_that_day() -> None:
    import datetime as dt

    from models.domain.progress import phase_status_on
    from models.domain.vocabulary import PhaseStatus as S

    opened, closed = dt.date(2013, 9, 3), dt.date(2013, 10, 31)

    def on(status: S, day: dt.date, close: dt.date | None = closed) -> S:
        return phase_status_on(status, opened, close, day)

    assert on(S.CLOSED, dt.date(2013, 11, 1)) == S.CLOSED
    assert on(S.CLOSED, closed) == S.CLOSED  # closed at the end of its last day
    assert on(S.CLOSED, dt.date(2013, 10, 30)) == S.OPEN
    assert on(S.CLOSED, opened) == S.OPEN
    assert on(S.CLOSED, dt.date(2013, 9, 2)) == S.PENDING
    assert on(S.OPEN, dt.date(2013, 9, 2), close=None) == S.PENDING
    assert on(S.OPEN, dt.date(2014, 1, 1), close=None) == S.OPEN  # not closed yet: as it stands
    assert phase_status_on(S.PENDING, None, None, dt.date(2014, 1, 1)) == S.PENDING


D = dt.date


@pytest.mark.parametrize(
    ("dated", "entered", "flagged"),
    [
        (D(2026, 12, 7), D(2026, 12, 8), False),  # reported the day after, before the deadline
        (D(2026, 12, 11), D(2026, 12, 11), False),  # on the day
        (D(2026, 12, 10), D(2026, 12, 14), True),  # entered late, dated in time: 补录
        (D(2026, 12, 11), D(2026, 12, 14), True),
        (D(2026, 12, 12), D(2026, 12, 14), False),  # late, and dated late: late, not 补录
    ],
)
def test_backfilled_is_entered_after_the_deadline_it_claims_to_have_met(
    dated: dt.date, entered: dt.date, flagged: bool
) -> None:
    assert is_backfilled(dated, entered, due=D(2026, 12, 11)) is flagged
