"""Holiday tables (config/holidays/<year>.yaml) for years chinese-calendar does not cover."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from config.yaml_lines import YamlLoadError, load_yaml_file
from models.domain.date_rules import parse_date
from models.domain.working_days import HolidayTable, WorkCalendar
from models.errors import DateRuleError, SpecError


def read_holiday_table(path: Path) -> HolidayTable:
    """One table; SpecError with `FILE:LINE:` problems when it is malformed."""
    try:
        loaded = load_yaml_file(path)
    except YamlLoadError as exc:
        raise SpecError([f"{path}:{exc.line}: (document): {exc}"]) from None
    data = loaded.data
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("year"), int):
        raise SpecError([loaded.problem(("year",), "expected a mapping with year: YYYY")])
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
        d = day((*loc, "date"), entry["date"])
        if d is not None:
            if d in holidays:
                problems.append(loaded.problem((*loc, "date"), f"{d} is also listed as a holiday"))
            workdays[d] = str(entry["name"])
    if problems:
        raise SpecError(problems)
    return HolidayTable(year=year, holidays=holidays, workdays=workdays)


def load_calendar(folder: Path) -> WorkCalendar:
    """The working-day calendar with every table in the folder."""
    tables = (
        [read_holiday_table(p) for p in sorted(folder.glob("*.yaml"))] if folder.is_dir() else []
    )
    return WorkCalendar(tables)
