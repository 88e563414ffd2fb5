"""Date rules of campaign files: parse once, resolve against a calendar and phase dates.

Grammar (case-insensitive, one rule per string):

    2013-09-03                          a fixed date
    early|mid|late|end 2013-12          5th, 15th, 25th or last day of the month
    before spring-festival|july-first|national-day 2013
                                        the last working day before that day
    N working days after|before RULE    counted on the working-day calendar
    start | end                         the enclosing phase's start or end
    PHASE.start | PHASE.end             another phase's start or end

Each has the words a planner writes in a workbook too (format_rule_zh writes them):

    2013年9月3日 · 2013年12月上旬|中旬|下旬|底 · 2013年春节前|七一前|国庆节前
    RULE后N个工作日 | RULE前N个工作日 · 本环节开始|结束 · PHASE环节开始|结束

Resolution is pure: the caller passes the calendar and the phase dates known so far.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pendulum

from models.domain.working_days import WorkCalendar, spring_festival, to_date
from models.errors import DateRuleError

MONTH_PARTS = {"early": 5, "mid": 15, "late": 25}
HOLIDAYS = ("spring-festival", "july-first", "national-day")
HOLIDAY_NAMES_ZH = {"spring-festival": "春节", "july-first": "七一", "national-day": "国庆节"}


@dataclass(frozen=True)
class Fixed:
    date: pendulum.Date


@dataclass(frozen=True)
class MonthPart:
    part: str  # early | mid | late | end
    year: int
    month: int


@dataclass(frozen=True)
class BeforeHoliday:
    holiday: str
    year: int


@dataclass(frozen=True)
class WorkingDaysOffset:
    days: int  # negative: before
    base: DateRule


@dataclass(frozen=True)
class PhaseRef:
    phase: str | None  # None: the enclosing phase
    edge: str  # start | end


DateRule = Fixed | MonthPart | BeforeHoliday | WorkingDaysOffset | PhaseRef

_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH_PART = re.compile(r"^(early|mid|late|end)\s+(\d{4})-(\d{1,2})$")
_BEFORE = re.compile(r"^before\s+([a-z-]+)\s+(\d{4})$")
_OFFSET = re.compile(r"^(\d+)\s+working\s+days?\s+(after|before)\s+(.+)$")
_PHASE_REF = re.compile(r"^(?:([a-z0-9][a-z0-9-]*)\.)?(start|end)$")
_ZH_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_ZH_MONTH_PART = re.compile(r"^(\d{4})年(\d{1,2})月(上旬|中旬|下旬|底)$")
_ZH_BEFORE = re.compile(r"^(\d{4})年(春节|七一|国庆节)前$")
_ZH_OFFSET = re.compile(r"^(.+?)(后|前)(\d+)个工作日$")
_ZH_PHASE_REF = re.compile(r"^(?:本环节|([a-z0-9][a-z0-9-]*)环节)(开始|结束)$")
_ZH_PARTS = {"上旬": "early", "中旬": "mid", "下旬": "late", "底": "end"}
_ZH_HOLIDAYS = {"春节": "spring-festival", "七一": "july-first", "国庆节": "national-day"}
_ZH_EDGES = {"开始": "start", "结束": "end"}


def parse_date(text: str) -> pendulum.Date:
    """A YYYY-MM-DD date, with a message that says what is impossible about it."""
    m = _DATE.match(text.strip())
    if not m:
        raise DateRuleError(f"日期应写成 YYYY-MM-DD，而不是 {text}")
    year, month, day = (int(g) for g in m.groups())
    if not 1 <= month <= 12:
        raise DateRuleError(f"不存在的日期 {text}：没有 {month} 月")
    days = pendulum.Date(year, month, 1).days_in_month
    if not 1 <= day <= days:
        raise DateRuleError(f"不存在的日期 {text}：{year}-{month:02d} 只有 {days} 天")
    return pendulum.Date(year, month, day)


class UnreadableDateRule(DateRuleError):
    """Text in none of the shapes a date rule takes (beside one in a shape, but impossible:
    a 30 February, a 13th month), so that a reader may list the shapes it accepts."""


def _month(value: object, year: str, month: str) -> tuple[int, int]:
    if not 1 <= int(month) <= 12:
        raise DateRuleError(f"{value} 中的月份 {year}-{int(month):02d} 不存在")
    return int(year), int(month)


def parse_rule(value: object) -> DateRule:
    """Parse a rule from a campaign file (a string, or a date the YAML parser made)."""
    if isinstance(value, dt.date):
        return Fixed(to_date(value))
    if not isinstance(value, str) or not value.strip():
        raise DateRuleError(f"应为日期规则（如 2013-09-03、2013年12月中旬），而不是 {value!r}")
    text = " ".join(value.strip().lower().split())
    if m := _ZH_OFFSET.match(text):
        n, direction, rest = int(m.group(3)), m.group(2), m.group(1)
        return WorkingDaysOffset(n if direction == "后" else -n, parse_rule(rest))
    if m := _ZH_DATE.match(text):
        return Fixed(parse_date("-".join(m.groups())))
    if m := _ZH_MONTH_PART.match(text):
        return MonthPart(_ZH_PARTS[m.group(3)], *_month(value, m.group(1), m.group(2)))
    if m := _ZH_BEFORE.match(text):
        return BeforeHoliday(_ZH_HOLIDAYS[m.group(2)], int(m.group(1)))
    if m := _ZH_PHASE_REF.match(text):
        return PhaseRef(m.group(1), _ZH_EDGES[m.group(2)])
    if m := _OFFSET.match(text):
        n, direction, rest = int(m.group(1)), m.group(2), m.group(3)
        return WorkingDaysOffset(n if direction == "after" else -n, parse_rule(rest))
    if _DATE.match(text):
        return Fixed(parse_date(text))
    if m := _MONTH_PART.match(text):
        return MonthPart(m.group(1), *_month(value, m.group(2), m.group(3)))
    if m := _BEFORE.match(text):
        if m.group(1) not in HOLIDAYS:
            raise DateRuleError(
                f"{value} 中的节日 {m.group(1)} 不认识；可用的有：{'、'.join(HOLIDAYS)}"
            )
        return BeforeHoliday(m.group(1), int(m.group(2)))
    if m := _PHASE_REF.match(text):
        return PhaseRef(m.group(1), m.group(2))
    raise UnreadableDateRule(
        f"看不懂日期规则 {value}；可写 YYYY-MM-DD、2013年12月中旬（mid 2013-12）、"
        "2013年国庆节前（before national-day 2013）、某规则后3个工作日"
        "（3 working days after 规则）或 环节.start|end"
    )


def format_rule(rule: DateRule) -> str:
    """The rule as a campaign file writes it; parse_rule(format_rule(r)) == r."""
    match rule:
        case Fixed(date):
            return date.isoformat()
        case MonthPart(part, year, month):
            return f"{part} {year}-{month:02d}"
        case BeforeHoliday(holiday, year):
            return f"before {holiday} {year}"
        case WorkingDaysOffset(days, base):
            word = "day" if abs(days) == 1 else "days"
            return (
                f"{abs(days)} working {word} {'after' if days >= 0 else 'before'} "
                + format_rule(base)
            )
        case PhaseRef(phase, edge):
            return f"{phase}.{edge}" if phase else edge
    raise DateRuleError(f"unknown rule {rule!r}")


def format_rule_zh(rule: DateRule) -> str:
    """The rule in a planner's words; parse_rule(format_rule_zh(r)) == r."""
    match rule:
        case Fixed(date):
            return f"{date.year}年{date.month}月{date.day}日"
        case MonthPart(part, year, month):
            word = {v: k for k, v in _ZH_PARTS.items()}[part]
            return f"{year}年{month}月{word}"
        case BeforeHoliday(holiday, year):
            return f"{year}年{ {v: k for k, v in _ZH_HOLIDAYS.items()}[holiday] }前"
        case WorkingDaysOffset(days, base):
            return f"{format_rule_zh(base)}{'后' if days >= 0 else '前'}{abs(days)}个工作日"
        case PhaseRef(phase, edge):
            word = {v: k for k, v in _ZH_EDGES.items()}[edge]
            return f"{phase}环节{word}" if phase else f"本环节{word}"
    raise DateRuleError(f"unknown rule {rule!r}")


def resolve(
    rule: DateRule,
    calendar: WorkCalendar,
    *,
    phases: Mapping[str, tuple[pendulum.Date | None, pendulum.Date | None]] | None = None,
    current_phase: str | None = None,
) -> pendulum.Date:
    """The date a rule names, before any roll policy is applied."""
    match rule:
        case Fixed(date):
            calendar.check_year(date.year)
            return date
        case MonthPart(part, year, month):
            first = pendulum.Date(year, month, 1)
            day = first.days_in_month if part == "end" else MONTH_PARTS[part]
            calendar.check_year(year)
            return first.replace(day=day)
        case BeforeHoliday(holiday, year):
            anchor = {
                "spring-festival": lambda: spring_festival(year),
                "july-first": lambda: pendulum.Date(year, 7, 1),
                "national-day": lambda: pendulum.Date(year, 10, 1),
            }[holiday]()
            return calendar.previous_working_day(anchor, include_self=False)
        case WorkingDaysOffset(days, base):
            start = resolve(base, calendar, phases=phases, current_phase=current_phase)
            return calendar.add_working_days(start, days)
        case PhaseRef(phase, edge):
            key = phase or current_phase
            if key is None:
                raise DateRuleError(f"{edge} 须在某个环节之内使用；请写 环节.{edge}")
            known = (phases or {}).get(key)
            value = None if known is None else known[0 if edge == "start" else 1]
            if value is None:
                raise DateRuleError(
                    f"环节 {key} 还没有{'开始' if edge == 'start' else '结束'}日期"
                    "（是后面的环节，或规则互相引用）"
                )
            return value
    raise DateRuleError(f"unknown rule {rule!r}")  # pragma: no cover - exhaustive match


DONE_ALREADY = "只能登记已经发生的事"
# what a run for a day does (send reminders, open phases, draw samples) happens now, to people
RUN_NOW = "提醒、环节和抽查只能按已经到来的日子运行（看某天的进度用 status --as-of）"


def not_after_today(day: dt.date, today: dt.date, what: str, why: str = DONE_ALREADY) -> dt.date:
    """The day a thing was done, signed or checked, or a run acts for: today or before. A
    later one is a slip of the keyboard (2027 for 2025) that would count as done on a day
    still to come, or send people reminders dated days ahead."""
    if day > today:
        raise DateRuleError(f"{what} {day} 晚于今天 {today}：{why}")
    return day


def first_record_day(opened_on: dt.date, calendar: WorkCalendar) -> pendulum.Date:
    """The earliest day a record may be dated for an item of a phase opened on `opened_on`:
    the days off just before the opening count with it (a phase written to start on a
    Saturday opens the Monday after), any earlier day is before the phase, most often a
    year or month typed wrong, that would count as done in time."""
    return calendar.previous_working_day(opened_on, include_self=False).add(days=1)


def run_day(day: dt.date, today: dt.date, what: str, *, rehearsal: bool = False) -> dt.date:
    """The day a run acts for (a rollout, a phase opened or closed, checks drawn, reminders
    swept): today or before, for what it does reaches people now. A rehearsal's campaign
    lives on a simulated clock, where the days ahead are the point."""
    return day if rehearsal else not_after_today(day, today, what, RUN_NOW)


_TYPED_DAY = re.compile(
    r"^\s*(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?\s*$"
)


def read_day(text: str, what: str) -> dt.date:
    """A day as people type it: 2025-04-10, 2025/4/10 (as Excel shows dates), 2025.4.10 or
    2025年4月10日. DateRuleError names `what` and says the shapes, or (`parse_date`'s words)
    what is impossible about the day."""
    found = _TYPED_DAY.match(text)
    if found is None:
        raise DateRuleError(
            f"{what}：日期应写成 YYYY-MM-DD（或 2025年4月10日、2025/4/10），而不是 {text}"
        )
    try:
        return parse_date("-".join(found.groups()))
    except DateRuleError as exc:
        raise DateRuleError(f"{what}：{exc}") from None
