"""A campaign dated around today, so that the server's scheduler, the reminder sweep and
catch-up have real work: the shipped campaigns are all in 2013."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

LAST_SHIPPED_YEAR = 2026  # chinese-calendar's last year; later years get an empty table


def today_in_shanghai() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def write_campaign(folder: Path, key: str, today: dt.date) -> Path:
    """Phase `kickoff` ended yesterday (catch-up must close it); phase `contact` runs from
    ten days ago for three weeks: a pairing visit due today, a monthly duty of villages."""
    start, end = today - dt.timedelta(days=10), today + dt.timedelta(days=21)
    yesterday = today - dt.timedelta(days=1)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.yaml"
    path.write_text(
        f"""key: {key}
name: 党员干部联系困难群众（演练）
organization: weihai-etdz
timezone: Asia/Shanghai
deadline_roll: previous
reminders: {{before: 3, on_due: true}}
phases:
  - key: kickoff
    name: 动员部署
    start: {start}
    end: {yesterday}
    obligations:
      - key: plan
        title: 印发实施方案
        subject: {{units: {{kinds: [department], codes: [org-dept]}}}}
        due: end
        evidence: {{files: 1}}
  - key: contact
    name: 沟通联系
    start: {start}
    end: {end}
    parallel: true
    obligations:
      - key: visit
        title: 入户走访
        subject: {{pairings: {{kinds: [cadre-needy]}}}}
        due: {today}
        evidence: {{note: true}}
      - key: deliver
        title: 发放本月月报
        subject: {{units: {{kinds: [village, community]}}}}
        recurrence: {{every: month}}
        evidence: {{note: true}}
""",
        encoding="utf-8",
    )
    return path


def write_holidays(folder: Path, today: dt.date) -> Path:
    """Tables for the years past chinese-calendar's that the campaign touches: none at all,
    so a test run in a later year still works (weekends are its only days off). A run on a
    day off makes that day a working day of the rehearsal (the year's table: the package's
    days plus this one), since no reminder leaves on a day off."""
    from chinese_calendar import constants

    folder.mkdir(parents=True, exist_ok=True)
    for year in sorted(set(range(LAST_SHIPPED_YEAR + 1, today.year + 2)) | {today.year}):
        shipped = year <= LAST_SHIPPED_YEAR
        holidays = sorted(d for d in constants.holidays if d.year == year) if shipped else []
        workdays = sorted(d for d in constants.workdays if d.year == year) if shipped else []
        off = today in holidays or (today.isoweekday() >= 6 and today not in workdays)
        if year == today.year and off:
            holidays = [d for d in holidays if d != today]
            workdays.append(today)
        elif shipped:
            continue  # the package's own data
        lines = [f"year: {year}", "holidays:"]
        lines += [f"  - {{name: 假日, from: {d}, to: {d}}}" for d in holidays] or ["  []"]
        lines += ["workdays:"]
        lines += [f"  - {{name: 演练, date: {d}}}" for d in workdays] or ["  []"]
        (folder / f"{year}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def months_touched(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1
