"""The State Council's yearly notice of holidays (《国务院办公厅关于Y年部分节假日安排的通知》),
read into a year's holidays and make-up working days.

Each numbered line of the notice has one fixed shape:

    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。
    1月26日（周日）、2月8日（周六）上班。

Pure: the text goes in, a `HolidayNotice` or a `NoticeError` listing every line it could not
read (quoted) comes out. Every weekday the notice states is checked against the calendar,
and every lunar day it states (农历除夕, 农历正月初七, 农历八月十五) against the lunar calendar,
every 共N天 against its span, and every 上班 day must be a weekend day (a weekday is a working
day already: the notice would be misread). Days the notice names in another year (元旦 from
the last days of December) are kept apart: they belong to that year's table.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from lunardate import LunarDate

from models.errors import CampaignError

WEEKDAYS = "一二三四五六日"
_NUMERAL = "一二三四五六七八九十"

_YEAR = re.compile(r"关于\s*(\d{4})\s*年.*?节假日安排")
_LINE = re.compile(rf"^\s*[{_NUMERAL}]+\s*[、.．]\s*(?P<name>[^：:]+?)\s*[：:]\s*(?P<body>.+?)\s*$")
_DATE = (
    r"(?:(?P<{p}y>\d{{4}})年)?(?:(?P<{p}m>\d{{1,2}})月)?(?P<{p}d>\d{{1,2}})日"
    r"(?:[（(](?P<{p}note>[^）)]*)[）)])?"
)
_SPAN = re.compile(
    "^" + _DATE.format(p="a") + r"(?:\s*至\s*" + _DATE.format(p="b") + r")?"
    r"\s*(?:放假(?:调休)?|休息)(?:\s*(?P<single>\d+)\s*天)?$"
)
_TOTAL = re.compile(r"^共\s*(?P<total>\d+)\s*天$")
_ONE_DATE = re.compile("^" + _DATE.format(p="a") + "$")
_WEEKDAY = re.compile(rf"(?:周|星期)([{WEEKDAYS}天])")
# 农历正月初七, 农历五月初五, 农历八月十五, 农历腊月廿九; 除夕 is the last day of the year
_LUNAR = re.compile(
    r"农历\s*(?:(?P<eve>除夕)|(?P<month>[正一二三四五六七八九十冬腊]+)月(?P<day>[初十廿卅][一二三四五六七八九十]?|二十|三十))"
)
_LUNAR_MONTHS = ["正", "二", "三", "四", "五", "六", "七", "八", "九", "十", "冬", "腊"]
_DIGITS = "一二三四五六七八九"
_LUNAR_DAYS = [  # the 1st to the 30th
    *(f"初{n}" for n in _DIGITS + "十"),
    *(f"十{n}" for n in _DIGITS),
    "二十",
    *(f"廿{n}" for n in _DIGITS),
    "三十",
]
# Clauses a line may carry that change nothing: no make-up day, joined to the weekend.
_SILENT = re.compile(r"^(?:不调休|与周末连休|不补班)$")


class NoticeError(CampaignError):
    """A notice that cannot be read as a whole; every problem, `LINE: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class NoticeHoliday:
    name: str
    first: dt.date
    last: dt.date

    def days(self) -> list[dt.date]:
        n = (self.last - self.first).days + 1
        return [self.first + dt.timedelta(days=i) for i in range(n)]


@dataclass(frozen=True)
class HolidayNotice:
    year: int
    holidays: list[NoticeHoliday] = field(default_factory=list)
    workdays: list[tuple[str, dt.date]] = field(default_factory=list)

    def holidays_in_year(self) -> dict[dt.date, str]:
        return {d: h.name for h in self.holidays for d in h.days() if d.year == self.year}

    def workdays_in_year(self) -> dict[dt.date, str]:
        return {d: name for name, d in self.workdays if d.year == self.year}

    def elsewhere(self) -> list[dt.date]:
        """Days the notice names in another year (its table is that year's)."""
        days = [d for h in self.holidays for d in h.days()] + [d for _, d in self.workdays]
        return sorted(d for d in days if d.year != self.year)


def notice_year(text: str) -> int | None:
    """The year its title names (关于2027年部分节假日安排的通知), if it has one."""
    found = _YEAR.search(text)
    return int(found.group(1)) if found else None


def _weekday_of(note: str | None) -> int | None:
    """The ISO weekday a parenthesis states (（农历除夕、周二）→ 2), if it states one."""
    if not note:
        return None
    found = _WEEKDAY.search(note)
    if found is None:
        return None
    return WEEKDAYS.index(found.group(1).replace("天", "日")) + 1


def _lunar_words(day: dt.date) -> list[str]:
    """The names a notice may give the day in the lunar calendar, the usual one first:
    [正月初七]; [除夕, 腊月廿九] for the year's last day."""
    lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
    words = [f"{_LUNAR_MONTHS[lunar.month - 1]}月{_LUNAR_DAYS[lunar.day - 1]}"]
    if (lunar + dt.timedelta(days=1)).month == 1 and lunar.month == 12:
        words.insert(0, "除夕")
    return words


def _lunar_mismatch(day: dt.date, note: str | None) -> str | None:
    """What the lunar day a parenthesis states should have been, if it is wrong."""
    found = _LUNAR.search(note or "")
    if found is None:
        return None
    if found.group("eve"):
        said = "除夕"
    else:
        month = found.group("month")
        month = {"一": "正", "十一": "冬", "十二": "腊"}.get(month, month)
        said = f"{month}月{found.group('day').replace('卅', '三十')}"
    words = _lunar_words(day)
    return None if said in words else words[0]


def _date(
    match: re.Match[str], p: str, year: int, month: int | None, quoted: str
) -> tuple[dt.date, list[str]]:
    """The date of group prefix p, the year and month carried from before when unstated."""
    y = int(match.group(f"{p}y")) if match.group(f"{p}y") else year
    m = int(match.group(f"{p}m")) if match.group(f"{p}m") else month
    if m is None:
        raise ValueError(f"日期没有月份：「{quoted}」")
    try:
        day = dt.date(y, m, int(match.group(f"{p}d")))
    except ValueError:
        missing = f"{y}年{m}月{match.group(f'{p}d')}日"
        raise ValueError(f"没有这一天（{missing}）：「{quoted}」") from None
    problems = []
    stated = _weekday_of(match.group(f"{p}note"))
    if stated is not None and stated != day.isoweekday():
        problems.append(
            f"{day.month}月{day.day}日是周{WEEKDAYS[day.isoweekday() - 1]}，"
            f"通知写的是周{WEEKDAYS[stated - 1]}：「{quoted}」"
        )
    lunar = _lunar_mismatch(day, match.group(f"{p}note"))
    if lunar is not None:
        problems.append(f"{day.month}月{day.day}日是农历{lunar}，与通知所写不符：「{quoted}」")
    return day, problems


def _clauses(body: str) -> list[str]:
    return [c.strip() for c in re.split(r"[。；;，,]", body) if c.strip()]


def parse_notice(text: str, year: int | None = None) -> HolidayNotice:
    """The notice's holidays and make-up days; NoticeError names every line it cannot read.

    `year` is the notice's year when its title does not say (a title that says another year
    is refused: the wrong notice)."""
    titled = notice_year(text)
    if year is not None and titled is not None and titled != year:
        raise NoticeError([f"1: 通知标题是{titled}年，要导入的是{year}年"])
    year = year or titled
    if year is None:
        raise NoticeError(
            [
                "1: 找不到年份：通知标题应为《国务院办公厅关于Y年部分节假日安排的通知》，"
                "或用 --year 指定"
            ]
        )
    holidays: list[NoticeHoliday] = []
    workdays: list[tuple[str, dt.date]] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _LINE.match(raw)
        if line is None:
            continue  # the title, the preamble and the closing paragraph
        name = line.group("name")
        clauses = _clauses(line.group("body"))
        span = _SPAN.match(clauses[0]) if clauses else None
        if span is None and not re.search(r"节|元旦|纪念日|假", name):
            continue  # a numbered line that names no holiday (an item of another list)
        if span is None:
            problems.append(f"{number}: 无法识别放假日期：「{clauses[0] if clauses else raw}」")
            continue
        try:
            first, bad = _date(span, "a", year, None, clauses[0])
            problems += [f"{number}: {b}" for b in bad]
            last = first
            if span.group("bd"):
                last, bad = _date(span, "b", first.year, first.month, clauses[0])
                problems += [f"{number}: {b}" for b in bad]
        except ValueError as exc:
            problems.append(f"{number}: {exc}")
            continue
        if last < first:
            problems.append(f"{number}: 放假结束日早于开始日：「{clauses[0]}」")
            continue
        span_days = (last - first).days + 1
        said = [(span.group("single"), clauses[0])] + [
            (t.group("total"), c) for c in clauses[1:] if (t := _TOTAL.match(c))
        ]
        for count, quoted in said:
            if count is not None and int(count) != span_days:
                problems.append(
                    f"{number}: 写的是共{count}天，{first.month}月{first.day}日至"
                    f"{last.month}月{last.day}日是{span_days}天：「{quoted}」"
                )
        holidays.append(NoticeHoliday(name, first, last))
        for clause in clauses[1:]:
            if _SILENT.match(clause) or _TOTAL.match(clause):
                continue
            if not clause.endswith("上班"):
                problems.append(f"{number}: 无法识别：「{clause}」")
                continue
            for part in re.split(r"[、，,和及]", clause.removesuffix("上班")):
                one = _ONE_DATE.match(part.strip())
                if one is None:
                    problems.append(f"{number}: 无法识别上班日期「{part.strip()}」：「{clause}」")
                    continue
                try:
                    day, bad = _date(one, "a", year, None, clause)
                except ValueError as exc:
                    problems.append(f"{number}: {exc}")
                    continue
                problems += [f"{number}: {b}" for b in bad]
                if day.isoweekday() < 6:
                    problems.append(
                        f"{number}: {day.month}月{day.day}日是周{WEEKDAYS[day.isoweekday() - 1]}，"
                        f"本来就上班，不是调休上班日：「{clause}」"
                    )
                    continue
                workdays.append((name, day))
    if not holidays and not problems:
        problems.append(
            "1: 没有找到任何放假安排（形如“二、春节：1月28日至2月4日放假调休，共8天。”）"
        )
    off = {d for h in holidays for d in h.days()}
    for name, day in workdays:
        if day in off:
            problems.append(f"{day.month}月{day.day}日既放假又上班（{name}）")
    if problems:
        raise NoticeError(problems)
    return HolidayNotice(year, holidays, workdays)
