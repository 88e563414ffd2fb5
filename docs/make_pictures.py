"""The README's pictures of the planner's year: the 事项 sheet of an exported workbook (its
cells as the workbook holds them) and `campaign burden`'s tables, as SVG.

    CAMPAIGN_HOME=/tmp/pictures .venv/bin/python docs/make_pictures.py
(the shipped organization imported first: campaign orgs import config/orgs/weihai-etdz.yaml)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from openpyxl import load_workbook
from rich.console import Console
from rich.table import Table

DOCS = Path(__file__).resolve().parent
CAMPAIGN = str(Path(sys.executable).parent / "campaign")


def workbook_picture() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        book = Path(scratch) / "plan.xlsx"
        subprocess.run(
            [CAMPAIGN, "plan", "export", "village-meetings-2013", "--xlsx", str(book)], check=True
        )
        rows = list(load_workbook(book)["事项"].iter_rows(values_only=True))
    shown = [0, 1, 2, 3, 4, 9, 10, 14, 15, 16, 17]  # the columns a planner reads first
    table = Table(title="village-meetings-2013.xlsx · 事项（节选，下拉列表见“选项”表）")
    for c in shown:
        table.add_column(str(rows[0][c]))
    for row in rows[1:]:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in shown))
    console = Console(record=True, width=170)
    console.print(table)
    console.save_svg(str(DOCS / "plan-workbook.svg"), title="campaign plan export")


def burden_picture() -> None:
    result = subprocess.run(
        [CAMPAIGN, "burden", "village-meetings-2013", "village-bulletin-2013"],
        check=True,
        capture_output=True,
        text=True,
        env={"COLUMNS": "120", **__import__("os").environ},
    )
    console = Console(record=True, width=120)
    console.print(result.stdout, markup=False, highlight=False)
    console.save_svg(str(DOCS / "burden.svg"), title="campaign burden")


if __name__ == "__main__":
    workbook_picture()
    burden_picture()
