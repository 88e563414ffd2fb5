"""Date rules as campaign files write them, resolved on the 2013 calendar."""

from __future__ import annotations

import pendulum
import pytest

from models.domain.date_rules import (
    BeforeHoliday,
    Fixed,
    MonthPart,
    PhaseRef,
    WorkingDaysOffset,
    first_record_day,
    format_rule,
    parse_rule,
    resolve,
)
from models.domain.working_days import WorkCalendar
from models.errors import DateRuleError

D = pendulum.Date
cal = WorkCalendar()
PHASES = {"study": (D(2013, 9, 3), D(2013, 9, 30))}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013-09-03", D(2013, 9, 3)),
        ("mid 2013-12", D(2013, 12, 15)),
        ("early 2013-03", D(2013, 3, 5)),
        ("late 2013-02", D(2013, 2, 25)),
        ("end 2013-02", D(2013, 2, 28)),
        ("end 2012-02", D(2012, 2, 29)),
        ("before spring-festival 2013", D(2013, 2, 8)),
        ("before july-first 2013", D(2013, 6, 28)),
        ("before national-day 2013", D(2013, 9, 30)),
        ("1 working day after study.end", D(2013, 10, 8)),
        ("5 working days after start", D(2013, 9, 10)),
        ("2 working days before 2013-10-08", D(2013, 9, 29)),
        ("1 working day after 1 working day after study.end", D(2013, 10, 9)),
        ("  MID   2013-12 ", D(2013, 12, 15)),
    ],
)
def test_rules_resolve_to_dates(text: str, expected: pendulum.Date) -> None:
    assert resolve(parse_rule(text), cal, phases=PHASES, current_phase="study") == expected


@pytest.mark.parametrize(
    "text",
    [
        "2013-09-03",
        "mid 2013-12",
        "before july-first 2013",
        "1 working day after study.end",
        "3 working days before end",
    ],
)
def test_rules_round_trip_through_text(text: str) -> None:
    assert format_rule(parse_rule(text)) == text


def test_rules_parse_to_their_structure() -> None:
    assert parse_rule("mid 2013-12") == MonthPart("mid", 2013, 12)
    assert parse_rule("before national-day 2013") == BeforeHoliday("national-day", 2013)
    assert parse_rule("3 working days before end") == WorkingDaysOffset(-3, PhaseRef(None, "end"))
    assert parse_rule(pendulum.Date(2013, 1, 2)) == Fixed(D(2013, 1, 2))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2013-02-30", "不存在的日期 2013-02-30：2013-02 只有 28 天"),
        ("2013-13-01", "没有 13 月"),
        ("mid 2013-13", "中的月份 2013-13 不存在"),
        ("before christmas 2013", "中的节日 christmas 不认识"),
        ("next tuesday", "看不懂日期规则 next tuesday"),
        ("", "应为日期规则"),
    ],
)
def test_bad_rules_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DateRuleError, match=message):
        parse_rule(text)


def test_reference_to_a_phase_without_dates_is_an_error() -> None:
    with pytest.raises(DateRuleError, match="环节 later 还没有结束日期"):
        resolve(parse_rule("later.end"), cal, phases=PHASES)
    with pytest.raises(DateRuleError, match="须在某个环节之内使用"):
        resolve(parse_rule("start"), cal)


def test_a_record_may_be_dated_from_the_days_off_before_its_phase_opened() -> None:
    # National Day 2013: 10-01..10-07 off; a phase written to start 10-01 opens 10-08, and
    # a record of the holiday week counts with it, Monday 09-30 (a working day) does not
    assert first_record_day(D(2013, 10, 8), cal) == D(2013, 10, 1)
    # a phase opening on a Wednesday: that Wednesday
    assert first_record_day(D(2013, 11, 6), cal) == D(2013, 11, 6)
    # Monday 2013-12-02: the weekend before counts
    assert first_record_day(D(2013, 12, 2), cal) == D(2013, 11, 30)
