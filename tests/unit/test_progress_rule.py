"""How a town's progress is judged: against what was owed by the day, not the whole year."""

from __future__ import annotations

import pytest

from models.domain.progress import rag


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
