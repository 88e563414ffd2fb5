"""Inspection samples: reproducible from the seed, stratified by town, not the same subjects
two checks running, and checks on the right days."""

from __future__ import annotations

import math
from collections import Counter

import pendulum
import pytest

from models.domain.campaign import Inspection, PhaseDates
from models.domain.inspections import Candidate, check_day, check_windows, draw
from models.domain.working_days import WorkCalendar

D = pendulum.Date
# three towns of 40, 25 and 9 subjects, and 6 at district level
POPULATION = [
    Candidate("pairing", n, town)
    for n, town in enumerate([1] * 40 + [2] * 25 + [3] * 9 + [None] * 6, 1)
]


def inspection(**sample: object) -> Inspection:
    return Inspection(
        key="phone",
        name="电话抽查",
        obligation="contact",
        cadence="quarterly",
        sample={"seed": 7, **sample},
        inspectors=["inspector"],
    )


def towns(chosen: list[Candidate]) -> Counter:
    return Counter(c.town_id for c in chosen)


def test_the_same_seed_draws_the_same_sample_and_another_seed_another() -> None:
    first = draw(inspection(fraction=0.1), "2014-Q1", POPULATION, set())
    assert draw(inspection(fraction=0.1), "2014-Q1", list(reversed(POPULATION)), set()) == first
    other = draw(inspection(fraction=0.1, seed=8), "2014-Q1", POPULATION, set())
    assert other != first and towns(other) == towns(first)


def test_a_fraction_is_taken_from_every_town() -> None:
    chosen = draw(inspection(fraction=0.1), "2014-Q1", POPULATION, set())
    assert towns(chosen) == {1: 4, 2: math.ceil(2.5), 3: 1, None: 1}


def test_a_count_is_shared_in_proportion() -> None:
    chosen = draw(inspection(count=16), "2014-Q1", POPULATION, set())
    assert len(chosen) == 16
    assert towns(chosen) == {1: 8, 2: 5, 3: 2, None: 1}


def test_last_times_subjects_are_not_drawn_again_unless_allowed() -> None:
    before = draw(inspection(fraction=0.4), "2014-Q1", POPULATION, set())
    seen = {(c.subject_type, c.subject_id) for c in before}
    after = draw(inspection(fraction=0.4), "2014-Q2", POPULATION, seen)
    assert not seen & {(c.subject_type, c.subject_id) for c in after}
    again = draw(inspection(fraction=0.4, repeat=True), "2014-Q2", POPULATION, seen)
    assert seen & {(c.subject_type, c.subject_id) for c in again}


def test_a_town_with_too_few_new_subjects_fills_up_from_last_time() -> None:
    seen = {("pairing", n) for n in range(66, 75)}  # every subject of town 3
    chosen = draw(inspection(fraction=0.5), "2014-Q2", POPULATION, seen)
    assert towns(chosen)[3] == 5


@pytest.mark.parametrize(
    ("cadence", "days"),
    [
        (
            "quarterly",
            [D(2013, 12, 31), D(2014, 3, 31), D(2014, 6, 30), D(2014, 9, 30), D(2014, 12, 31)],
        ),
        ("phase-end", [D(2014, 12, 31)]),
    ],
)
def test_checks_fall_on_the_last_working_day_of_their_window(cadence: str, days: list) -> None:
    phase = PhaseDates("regular-contact", D(2013, 10, 25), D(2014, 12, 31))
    got = check_windows(
        inspection(fraction=0.1).model_copy(update={"cadence": cadence}), phase, WorkCalendar()
    )
    assert [w.on for w in got] == days


def test_no_result_is_dated_before_its_check_was_drawn() -> None:
    phase = PhaseDates("regular-contact", D(2013, 10, 25), D(2014, 12, 31))
    phone, cal = inspection(fraction=0.1), WorkCalendar()
    assert check_day(phone, "2014-Q1", phase, cal) == D(2014, 3, 31)
    # a re-inspection of the quarter's failures: not before the quarter's check either
    assert check_day(phone, "2014-Q1-recheck", phase, cal) == D(2014, 3, 31)
    assert check_day(phone, "2015-Q1", phase, cal) is None


def test_the_next_check_is_the_first_due_after_the_day_and_not_made() -> None:
    import datetime as dt

    from config.campaign_files import calendar_for, read_campaign
    from config.settings import get_settings
    from models.domain.inspections import next_check

    settings = get_settings()
    loaded = read_campaign(settings, "community-and-two-new-2013")
    calendar = calendar_for(settings)
    first = next_check(loaded, calendar, dt.date(2013, 7, 1))
    assert first is not None
    inspection, window = first
    assert (inspection.key, window.label, window.on) == (
        "funds-site-check",
        "2013-Q3",
        dt.date(2013, 9, 30),
    )
    # made already (inspect run for a later day first): the one after it comes next
    later = next_check(loaded, calendar, dt.date(2013, 7, 1), {("funds-site-check", "2013-Q3")})
    assert later is not None and later[1].label != "2013-Q3" and later[1].on > window.on
    assert next_check(loaded, calendar, dt.date(2099, 1, 1)) is None
