"""The working-day calendar of mainland China, pure and clock-free.

Statutory holidays and make-up working days (调休) come from chinese-calendar; years it does
not cover come from holiday tables supplied by the caller (the data folder's holidays/).
Spring Festival comes from the lunar calendar. Every date is a `pendulum.Date`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

import chinese_calendar
import pendulum
from chinese_calendar import constants as cc_constants
from lunardate import LunarDate

from models.errors import CalendarError, MissingHolidayTable

PACKAGE_FIRST_YEAR = min(cc_constants.holidays).year
PACKAGE_LAST_YEAR = max(cc_constants.holidays).year

# chinese-calendar names holidays in English; the people who read our calendar do not.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class RollPolicy(StrEnum):
    """Where a deadline that falls on a non-working day goes."""

    PREVIOUS = "previous"
    NEXT = "next"
    KEEP = "keep"


@dataclass(frozen=True)
class HolidayTable:
    """One year's statutory holidays and make-up working days, for years the package lacks."""

    year: int
    holidays: Mapping[dt.date, str] = field(default_factory=dict)
    workdays: Mapping[dt.date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DayInfo:
    """What a day is: working or not, and the holiday it belongs to (Chinese name)."""

    date: pendulum.Date
    working: bool
    holiday: str | None = None
    makeup_for: str | None = None

    @property
    def weekend(self) -> bool:
        return self.date.isoweekday() >= 6


def local_instant(day: dt.date, at: str, timezone: str) -> dt.datetime:
    """The UTC instant of the local time `at` ("HH:MM") on `day` in `timezone`."""
    hour, minute = (int(x) for x in at.split(":"))
    local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


def local_day(instant: dt.datetime, timezone: str) -> pendulum.Date:
    """The day an instant falls on in `timezone` (local_instant's inverse, to the day)."""
    return to_date(instant.astimezone(ZoneInfo(timezone)))


def to_date(value: dt.date) -> pendulum.Date:
    """A pendulum.Date from any date (a datetime keeps only its date)."""
    if isinstance(value, pendulum.Date) and not isinstance(value, dt.datetime):
        return value
    return pendulum.Date(value.year, value.month, value.day)


class WorkCalendar:
    """Working days, with holiday tables for years chinese-calendar does not cover.

    A table for a year the package covers replaces the package's data for that year, so a
    late correction of the State Council's schedule can be supplied without a release.
    """

    def __init__(self, tables: Iterable[HolidayTable] = ()) -> None:
        self._tables = {t.year: t for t in tables}
        # Days are looked up millions of times in a large rollout or sweep; each is fixed.
        self._days: dict[dt.date, DayInfo] = {}
        self._spans: dict[tuple[dt.date, dt.date], int] = {}

    @property
    def table_years(self) -> list[int]:
        return sorted(self._tables)

    def covers(self, year: int) -> bool:
        return year in self._tables or PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR

    def check_year(self, year: int) -> None:
        """Raise MissingHolidayTable when the year has no data at all."""
        if not self.covers(year):
            raise MissingHolidayTable(year, PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR)

    def day(self, value: dt.date) -> DayInfo:
        key = dt.date(value.year, value.month, value.day)
        found = self._days.get(key)
        if found is None:
            found = self._days[key] = self._lookup(key)
        return found

    def _lookup(self, key: dt.date) -> DayInfo:
        d = to_date(key)
        self.check_year(d.year)
        table = self._tables.get(d.year)
        if table is not None:
            if key in table.holidays:
                return DayInfo(d, working=False, holiday=table.holidays[key])
            if key in table.workdays:
                return DayInfo(d, working=True, makeup_for=table.workdays[key])
            return DayInfo(d, working=d.isoweekday() < 6)
        on_holiday, name = chinese_calendar.get_holiday_detail(key)
        zh = HOLIDAY_NAMES_ZH.get(name, name) if name else None
        if key in cc_constants.workdays:
            return DayInfo(d, working=True, makeup_for=zh)
        if key in cc_constants.holidays:
            return DayInfo(d, working=False, holiday=zh)
        return DayInfo(d, working=not on_holiday)

    def is_working_day(self, value: dt.date) -> bool:
        return self.day(value).working

    def next_working_day(self, value: dt.date, *, include_self: bool = True) -> pendulum.Date:
        d = to_date(value) if include_self else to_date(value).add(days=1)
        while not self.is_working_day(d):
            d = d.add(days=1)
        return d

    def previous_working_day(self, value: dt.date, *, include_self: bool = True) -> pendulum.Date:
        d = to_date(value) if include_self else to_date(value).subtract(days=1)
        while not self.is_working_day(d):
            d = d.subtract(days=1)
        return d

    def add_working_days(self, value: dt.date, n: int) -> pendulum.Date:
        """The n-th working day after (n > 0) or before (n < 0) the date; n = 0 rolls forward."""
        d = to_date(value)
        if n == 0:
            return self.next_working_day(d)
        step = 1 if n > 0 else -1
        remaining = abs(n)
        while remaining:
            d = d.add(days=step)
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        a = dt.date(start.year, start.month, start.day)
        b = dt.date(end.year, end.month, end.day)
        if b < a:
            return -self.working_days_between(b, a)
        key = (a, b)
        if key not in self._spans:  # a digest asks the same (today, due) pairs many times
            one = dt.timedelta(days=1)
            count, d = 0, a
            while d < b:
                d += one
                count += self.is_working_day(d)
            self._spans[key] = count
        return self._spans[key]

    def roll(self, value: dt.date, policy: RollPolicy | str = RollPolicy.PREVIOUS) -> pendulum.Date:
        """Move a deadline off a non-working day by the campaign's policy."""
        policy = RollPolicy(policy)
        d = to_date(value)
        if policy is RollPolicy.KEEP:
            self.check_year(d.year)
            return d
        if policy is RollPolicy.NEXT:
            return self.next_working_day(d)
        return self.previous_working_day(d)

    def month(self, year: int, month: int) -> list[DayInfo]:
        """Every day of a month, for printing."""
        first = pendulum.Date(year, month, 1)
        return [self.day(first.add(days=i)) for i in range(first.days_in_month)]


def spring_festival(year: int) -> pendulum.Date:
    """The first day of the lunar year that begins in the given Gregorian year."""
    try:
        solar = LunarDate(year, 1, 1).to_solar_date()
    except ValueError as exc:  # lunardate covers 1900-2099
        raise CalendarError(f"没有 {year} 年的农历（{exc}）") from exc
    return to_date(solar)
