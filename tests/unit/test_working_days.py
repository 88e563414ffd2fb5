"""The working-day calendar against facts of 2013 that anyone in the department remembers."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from models.domain.working_days import (
    HolidayTable,
    RollPolicy,
    WorkCalendar,
    local_day,
    local_instant,
    spring_festival,
)
from models.errors import MissingHolidayTable

D = pendulum.Date
cal = WorkCalendar()


def test_first_working_day_after_national_day_2013() -> None:
    assert cal.add_working_days(D(2013, 9, 30), 1) == D(2013, 10, 8)
    assert cal.next_working_day(D(2013, 10, 1)) == D(2013, 10, 8)
    assert [cal.is_working_day(D(2013, 10, d)) for d in range(1, 9)] == [False] * 7 + [True]


def test_sunday_2013_09_29_was_a_make_up_working_day() -> None:
    info = cal.day(D(2013, 9, 29))
    assert info.date.isoweekday() == 7
    assert info.working and info.makeup_for == "国庆节"


def test_mid_december_2013_is_a_sunday_and_rolls_by_policy() -> None:
    assert not cal.is_working_day(D(2013, 12, 15))
    assert cal.roll(D(2013, 12, 15)) == D(2013, 12, 13)
    assert cal.roll(D(2013, 12, 15), RollPolicy.NEXT) == D(2013, 12, 16)
    assert cal.roll(D(2013, 12, 15), "keep") == D(2013, 12, 15)


@pytest.mark.parametrize(("year", "expected"), [(2013, D(2013, 2, 10)), (2014, D(2014, 1, 31))])
def test_spring_festival_from_the_lunar_calendar(year: int, expected: pendulum.Date) -> None:
    assert spring_festival(year) == expected
    assert cal.day(expected).holiday == "春节"


def test_working_days_counted_across_a_holiday() -> None:
    # Sept 27 (Fri) -> Sept 29 (Sun, working) -> Sept 30 -> Oct 8
    assert cal.add_working_days(D(2013, 9, 27), 3) == D(2013, 10, 8)
    assert cal.add_working_days(D(2013, 10, 8), -2) == D(2013, 9, 29)
    assert cal.working_days_between(D(2013, 9, 27), D(2013, 10, 8)) == 3
    assert cal.working_days_between(D(2013, 10, 8), D(2013, 9, 27)) == -3


def test_a_year_without_data_fails_loudly_and_a_table_fixes_it() -> None:
    with pytest.raises(MissingHolidayTable, match="2027"):
        cal.is_working_day(D(2027, 3, 1))
    table = HolidayTable(
        2027,
        holidays={dt.date(2027, 1, 1): "元旦", dt.date(2027, 2, 8): "春节"},
        workdays={dt.date(2027, 2, 20): "春节"},
    )
    with_table = WorkCalendar([table])
    assert not with_table.is_working_day(D(2027, 1, 1))
    assert with_table.day(D(2027, 2, 20)).makeup_for == "春节"  # a Saturday
    assert with_table.next_working_day(D(2027, 1, 1)) == D(2027, 1, 4)  # Jan 2-3 weekend
    assert with_table.covers(2027) and not with_table.covers(2028)


def test_a_table_overrides_the_package_for_a_year_it_covers() -> None:
    table = HolidayTable(2013, holidays={dt.date(2013, 10, 8): "补充假日"})
    assert not WorkCalendar([table]).is_working_day(D(2013, 10, 8))
    # Without the package's data for that year, Oct 1 is just a Tuesday.
    assert WorkCalendar([table]).is_working_day(D(2013, 10, 1))


def test_month_lists_every_day_with_its_marks() -> None:
    days = cal.month(2013, 10)
    assert len(days) == 31
    assert sum(d.working for d in days) == 19  # Oct 8-31 weekdays (18) plus Saturday Oct 12
    assert days[11].makeup_for == "国庆节"


def test_an_instant_falls_on_the_local_day_of_its_zone() -> None:
    # 00:30 on 2013-10-08 in Shanghai is still 2013-10-07 in UTC, and in Urumqi's clock
    early = local_instant(D(2013, 10, 8), "00:30", "Asia/Shanghai")
    assert early.isoformat() == "2013-10-07T16:30:00+00:00"
    assert local_day(early, "Asia/Shanghai") == D(2013, 10, 8)
    assert local_day(early, "UTC") == D(2013, 10, 7)
    assert local_day(early, "Asia/Urumqi") == D(2013, 10, 7)  # UTC+6: 22:30
    assert local_day(local_instant(D(2013, 10, 8), "09:00", "Asia/Urumqi"), "Asia/Urumqi") == D(
        2013, 10, 8
    )
