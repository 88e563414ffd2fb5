"""Holiday tables (CAMPAIGN_HOME/holidays/<year>.yaml) for years chinese-calendar lacks."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

from config.yaml_lines import YamlLoadError, load_yaml_file
from models.domain.date_rules import parse_date
from models.domain.holiday_notice import HolidayNotice
from models.domain.working_days import HolidayTable, WorkCalendar
from models.errors import CampaignError, DateRuleError, SpecError


def read_holiday_table(path: Path) -> HolidayTable:
    """One table; SpecError with `FILE:LINE:` problems when it is malformed."""
    try:
        loaded = load_yaml_file(path)
    except YamlLoadError as exc:
        raise SpecError([f"{path}:{exc.line}: （整个文件）: {exc}"]) from None
    data = loaded.data
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("year"), int):
        raise SpecError([loaded.problem(("year",), "应写成以 year: 年份 开头的一张表")])
    year = data["year"]
    if path.stem != str(year):
        problems.append(loaded.problem(("year",), f"file {path.name} must hold year {path.stem}"))
    unknown = set(data) - {"year", "holidays", "workdays"}
    for key in sorted(unknown):
        problems.append(loaded.problem((key,), "unknown field (expected year, holidays, workdays)"))
    holidays: dict[dt.date, str] = {}
    workdays: dict[dt.date, str] = {}

    def day(loc: tuple[str | int, ...], value: object) -> dt.date | None:
        try:
            d = parse_date(str(value))
        except DateRuleError as exc:
            problems.append(loaded.problem(loc, str(exc)))
            return None
        if d.year != year:
            problems.append(loaded.problem(loc, f"{d} is not in {year}"))
            return None
        return dt.date(d.year, d.month, d.day)

    for i, entry in enumerate(data.get("holidays") or []):
        loc = ("holidays", i)
        if not isinstance(entry, dict) or not {"name", "from", "to"} <= set(entry):
            problems.append(loaded.problem(loc, "expected {name, from, to}"))
            continue
        start, end = day((*loc, "from"), entry["from"]), day((*loc, "to"), entry["to"])
        if start is None or end is None:
            continue
        if end < start:
            problems.append(loaded.problem((*loc, "to"), f"{end} is before {start}"))
            continue
        d = start
        while d <= end:
            holidays[d] = str(entry["name"])
            d += dt.timedelta(days=1)
    for i, entry in enumerate(data.get("workdays") or []):
        loc = ("workdays", i)
        if not isinstance(entry, dict) or not {"name", "date"} <= set(entry):
            problems.append(loaded.problem(loc, "expected {name, date}"))
            continue
        workday = day((*loc, "date"), entry["date"])
        if workday is not None:
            if workday in holidays:
                problems.append(
                    loaded.problem((*loc, "date"), f"{workday} is also listed as a holiday")
                )
            workdays[workday] = str(entry["name"])
    if problems:
        raise SpecError(problems)
    return HolidayTable(year=year, holidays=holidays, workdays=workdays)


def load_calendar(folder: Path) -> WorkCalendar:
    """The working-day calendar with every table in the folder."""
    tables = (
        [read_holiday_table(p) for p in sorted(folder.glob("*.yaml"))] if folder.is_dir() else []
    )
    return WorkCalendar(tables)


def _ranges(days: dict[dt.date, str]) -> list[tuple[str, dt.date, dt.date]]:
    """Consecutive days of one name as (name, first, last)."""
    out: list[tuple[str, dt.date, dt.date]] = []
    for day in sorted(days):
        name = days[day]
        if out and out[-1][0] == name and out[-1][2] + dt.timedelta(days=1) == day:
            out[-1] = (name, out[-1][1], day)
        else:
            out.append((name, day, day))
    return out


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML string


def holiday_table_text(notice: HolidayNotice, source: str) -> str:
    """A year's table (the shape read_holiday_table reads) from the notice's days."""
    lines = [
        f"# {notice.year}年节假日安排，由 campaign calendar import-notice 从国务院办公厅通知导入",
        f"# 来源：{source}",
        f"year: {notice.year}",
        "holidays:",
    ]
    for name, first, last in _ranges(notice.holidays_in_year()):
        lines.append(f"  - {{name: {_quoted(name)}, from: {first}, to: {last}}}")
    workdays = notice.workdays_in_year()
    lines.append("workdays:" if workdays else "workdays: []")
    for day, name in sorted(workdays.items()):
        lines.append(f"  - {{name: {_quoted(name)}, date: {day}}}")
    return "\n".join(lines) + "\n"


def write_holiday_table(
    folder: Path, notice: HolidayNotice, source: str, replace: bool = False
) -> HolidayTable:
    """Write `<year>.yaml` into the folder: drafted beside it, read back as a table, then moved
    in place, so nothing half-written; an existing table is kept unless `replace`."""
    target = folder / f"{notice.year}.yaml"
    if target.exists() and not replace:
        raise CampaignError(f"{target} 已存在；确认要替换时加 --replace")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".import-") as scratch:
        draft = Path(scratch) / target.name
        draft.write_text(holiday_table_text(notice, source), encoding="utf-8")
        table = read_holiday_table(draft)
        os.replace(draft, target)
    return table
