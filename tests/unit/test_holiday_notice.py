"""The State Council's notice read into a year's table: for every year chinese-calendar knows
(2014–2026), a notice written in the notice's fixed shape from the statutory facts gives,
day by day, the same working days; a wrong weekday, a wrong count or a line it cannot read
is refused with the sentence quoted."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from models.domain.holiday_notice import WEEKDAYS, NoticeError, parse_notice
from models.domain.working_days import HOLIDAY_NAMES_ZH, HolidayTable, WorkCalendar

NUMERALS = "一二三四五六七八九十"


def _day(d: dt.date, with_month: bool = True) -> str:
    return (
        f"{d.month}月{d.day}日（周{WEEKDAYS[d.isoweekday() - 1]}）"
        if with_month
        else (f"{d.day}日（周{WEEKDAYS[d.isoweekday() - 1]}）")
    )


def notice_of(year: int) -> str:
    """The year's notice in the fixed shape, from chinese-calendar's days: each run of
    consecutive days off of one name a numbered line, its 调休 working days after it."""
    off = sorted((d, n) for d, n in chinese_calendar.holidays.items() if d.year == year)
    on = sorted(
        (d, n)
        for d, n in chinese_calendar.workdays.items()
        if d.year == year and d.isoweekday() >= 6
    )
    runs: list[tuple[str, dt.date, dt.date]] = []
    for d, name in off:
        if runs and runs[-1][0] == name and runs[-1][2] + dt.timedelta(days=1) == d:
            runs[-1] = (name, runs[-1][1], d)
        else:
            runs.append((name, d, d))
    lines = [f"国务院办公厅关于{year}年部分节假日安排的通知", "各省、自治区、直辖市人民政府："]
    used: set[dt.date] = set()
    for i, (name, first, last) in enumerate(runs):
        zh = HOLIDAY_NAMES_ZH[name]
        days = (last - first).days + 1
        span = _day(first)
        if last != first:
            span += "至" + _day(last, with_month=last.month != first.month)
        line = f"{NUMERALS[i] if i < 10 else '十' + NUMERALS[i - 10]}、{zh}：{span}放假"
        line += f"调休，共{days}天。" if days > 1 else f"{days}天。"
        mine = [d for d, n in on if n == name and d not in used]
        if mine and i == max(j for j, r in enumerate(runs) if r[0] == name):
            used |= set(mine)
            line += "、".join(_day(d) for d in mine) + "上班。"
        elif not mine:
            line += "不调休。" if days == 1 else ""
        lines.append(line)
    lines.append("节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作。")
    return "\n".join(lines)


@pytest.mark.parametrize("year", range(2014, 2027))
def test_a_notice_in_the_fixed_shape_agrees_day_by_day_with_chinese_calendar(year: int) -> None:
    notice = parse_notice(notice_of(year))
    assert notice.year == year
    calendar = WorkCalendar(
        [HolidayTable(year, notice.holidays_in_year(), notice.workdays_in_year())]
    )
    day = dt.date(year, 1, 1)
    differ = []
    while day.year == year:
        if calendar.day(day).working != chinese_calendar.is_workday(day):
            differ.append(day)
        day += dt.timedelta(days=1)
    assert differ == []
    assert len(notice.workdays_in_year()) == sum(
        1 for d in chinese_calendar.workdays if d.year == year and d.isoweekday() >= 6
    )


NOTICE_2025 = """国务院办公厅关于2025年部分节假日安排的通知
一、元旦：1月1日（周三）放假1天，不调休。
二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
三、清明节：4月4日（周五）至6日（周日）放假，共3天。
"""


def test_the_2025_notice_as_published_reads_and_carries_its_days() -> None:
    notice = parse_notice(NOTICE_2025)
    spring = next(h for h in notice.holidays if h.name == "春节")
    assert (spring.first, spring.last) == (dt.date(2025, 1, 28), dt.date(2025, 2, 4))
    assert sorted(notice.workdays_in_year()) == [dt.date(2025, 1, 26), dt.date(2025, 2, 8)]
    qingming = next(h for h in notice.holidays if h.name == "清明节")
    assert qingming.last == dt.date(2025, 4, 6)  # 至6日: the month carried from the start


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            ("1月28日（农历除夕、周二）", "1月28日（农历除夕、周三）"),
            "1月28日是周二，通知写的是周三",
        ),
        (("共8天", "共7天"), "写的是共7天，1月28日至2月4日是8天：「共7天」"),
        (  # a lunar day is checked like a weekday: 除夕 was the 28th
            ("2月4日（农历正月初七、周二）", "2月4日（农历正月初八、周二）"),
            "2月4日是农历正月初七，与通知所写不符",
        ),
        (
            ("1月28日（农历除夕、周二）", "1月29日（农历除夕、周三）"),
            "1月29日是农历正月初一，与通知所写不符",
        ),
        (("2月8日（周六）上班", "2月7日（周五）上班"), "2月7日是周五，本来就上班"),
        (
            ("至6日（周日）放假", "到6日（周日）放假"),
            "无法识别放假日期：「4月4日（周五）到6日（周日）放假」",
        ),
        (("不调休", "另行通知"), "无法识别：「另行通知」"),
        (("2月8日（周六）上班", "2月30日上班"), "没有这一天（2025年2月30日）"),
    ],
)
def test_a_wrong_weekday_count_or_sentence_is_refused_with_the_sentence_quoted(
    change: tuple[str, str], said: str
) -> None:
    text = NOTICE_2025.replace(*change)
    assert text != NOTICE_2025
    with pytest.raises(NoticeError) as refused:
        parse_notice(text)
    assert any(said in p for p in refused.value.problems), refused.value.problems


def test_a_notice_without_its_year_or_of_another_year_is_refused() -> None:
    body = NOTICE_2025.split("\n", 1)[1]
    with pytest.raises(NoticeError, match="找不到年份"):
        parse_notice(body)
    assert parse_notice(body, 2025).year == 2025
    with pytest.raises(NoticeError, match="通知标题是2025年，要导入的是2026年"):
        parse_notice(NOTICE_2025, 2026)


def test_days_of_another_year_are_kept_apart() -> None:
    text = (
        "关于2023年部分节假日安排的通知\n"
        "一、元旦：2022年12月31日（周六）至2023年1月2日（周一）放假调休，共3天。"
    )
    notice = parse_notice(text)
    assert sorted(notice.holidays_in_year()) == [dt.date(2023, 1, 1), dt.date(2023, 1, 2)]
    assert notice.elsewhere() == [dt.date(2022, 12, 31)]


def test_every_year_has_a_line_per_run_of_days_off() -> None:
    # the generator is not empty: the test above compares something
    counts = [notice_of(y).count("放假") for y in range(2014, 2027)]
    assert min(counts) >= 6
