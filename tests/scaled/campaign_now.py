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
    so a test run in a later year still works (weekends are its only days off)."""
    folder.mkdir(parents=True, exist_ok=True)
    for year in range(LAST_SHIPPED_YEAR + 1, today.year + 2):
        (folder / f"{year}.yaml").write_text(
            f"year: {year}\nholidays: []\nworkdays: []\n", encoding="utf-8"
        )
    return folder


def months_touched(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1
