"""An evidence import killed with SIGKILL at any moment leaves no row without its file, no
half-written file, and nothing counted twice once it is run again."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from openpyxl import load_workbook

from tests.e2e.test_cli import CAMPAIGN, REPO, cli_env, import_shipped_org, run

KEY = "village-bulletin-2013"


def fill(sheet: Path) -> int:
    """Every village's and community's April delivery, each with its own signed list."""
    book = load_workbook(sheet)
    filled = 0
    for row in book["证据"].iter_rows(min_row=2):
        if row[2].value != "deliver-to-households" or row[4].value != "2013-04":
            continue
        unit = row[0].value
        (sheet.parent / f"{unit}.txt").write_text(f"{unit} 4月月报签收单", encoding="utf-8")
        row[6].value, row[7].value, row[8].value = "2013-04-20", f"p-{unit}-sec", "已发放到户"
        row[9].value, row[10].value = "households=120;opinions=3", f"{unit}.txt"
        filled += 1
    book.save(sheet)
    return filled


def check_store(home: Path) -> None:
    """Every evidence row's files are stored, whole: each file's name is its content's hash."""
    with sqlite3.connect(home / "campaign.db") as conn:
        named = {
            f["sha256"]
            for (files,) in conn.execute("SELECT files FROM evidence")
            for f in json.loads(files or "[]")
        }
    stored = {}
    for path in (home / "files").rglob("*") if (home / "files").exists() else []:
        if path.is_file() and len(path.name) == 64:
            stored[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    assert all(name == digest for name, digest in stored.items()), "a half-written file"
    assert named <= set(stored), "an evidence row without its file"


def test_a_killed_import_loses_nothing_and_counts_nothing_twice(
    campaign_home: Path, tmp_path: Path
) -> None:
    assert import_shipped_org(tmp_path).returncode == 0  # with this login as a proxy operator
    assert run("rollout", KEY, "--as-of", "2013-04-01").returncode == 0
    sheet = tmp_path / "月报" / "证据.xlsx"
    assert run("evidence", "template", KEY, "--xlsx", sheet).returncode == 0
    rows = fill(sheet)
    assert rows == 135
    for delay in (1.5, 3.0, 4.5):
        importer = subprocess.Popen(
            [str(CAMPAIGN), "evidence", "import", str(sheet)],
            cwd=REPO,
            env=cli_env(),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        if importer.poll() is None:
            os.killpg(importer.pid, signal.SIGKILL)
        importer.wait(30)
        check_store(campaign_home)
    again = run("evidence", "import", sheet)
    # either the rows are in now, or an earlier run committed them all and they are refused
    assert again.returncode == 0 or "已于" in again.stderr, again.stderr
    check_store(campaign_home)
    with sqlite3.connect(campaign_home / "campaign.db") as conn:
        assert conn.execute("SELECT count(*) FROM evidence").fetchone() == (rows,)
        assert conn.execute(
            "SELECT count(*) FROM checklist_item WHERE obligation_key = 'deliver-to-households' "
            "AND occurrence = '2013-04' AND status = 'accepted'"
        ).fetchone() == (rows,)
    stored = [p for p in (campaign_home / "files").rglob("*") if p.is_file() and len(p.name) == 64]
    assert len(stored) == rows  # each list once, however many runs sent it
