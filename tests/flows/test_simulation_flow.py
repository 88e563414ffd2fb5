"""A rehearsal through the real flows: dates, progress, and the artifacts the UI shows."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from prefect.client.orchestration import get_client
from sqlalchemy import select
from sqlmodel import col

from flows.simulate import simulate_campaign
from models.store import db
from models.store.tables import PhaseState
from tests.conftest import REPO
from tests.db.rollout_helpers import import_shipped_org

D = dt.date
ML = "mass-line-2013"


def latest_artifact(client, key: str):
    return next(a for a in client.read_latest_artifacts() if a.key == key)


def test_mass_line_rehearsal_opens_phase_two_after_national_day(db_url: str) -> None:
    import_shipped_org(db_url)
    result = simulate_campaign(ML, D(2013, 8, 25), D(2013, 10, 31), seed=7)
    with db.session_for(db_url) as session:
        opened = dict(
            session.execute(select(col(PhaseState.phase_key), col(PhaseState.opened_on))).all()
        )
        closed = dict(
            session.execute(select(col(PhaseState.phase_key), col(PhaseState.closed_on))).all()
        )
    assert opened["preparation"] == D(2013, 8, 26)
    assert opened["study"] == D(2013, 9, 3)
    assert opened["criticism"] == D(2013, 10, 8)
    assert opened["rectification"] is None
    assert closed["study"] == D(2013, 9, 30) and closed["criticism"] == D(2013, 10, 31)
    assert [c["key"] for c in result["closed"]] == ["preparation", "study", "criticism"]
    progress = result["progress"]
    assert progress["as_of"] == "2013-10-31"
    accepted = sum(p["accepted"] for p in progress["phases"])
    assert 0 < accepted <= 44  # preparation 1 + study 18 + criticism 25 items

    status = subprocess.run(
        [
            str(Path(sys.executable).parent / "campaign"),
            "status",
            ML,
            "--as-of",
            "2013-10-31",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={**os.environ, "CAMPAIGN_DATABASE_URL": db_url},
    )
    assert status.returncode == 0, status.stderr
    from_cli = json.loads(status.stdout)
    assert from_cli == progress

    with get_client(sync_client=True) as client:
        towns = latest_artifact(client, f"{ML}-towns")
        overall = latest_artifact(client, f"{ML}-progress")
        summary = latest_artifact(client, f"{ML}-summary")
        phase = latest_artifact(client, f"{ML}-criticism-summary")
    table = json.loads(towns.data) if isinstance(towns.data, str) else towns.data
    assert [(r["编码"], r["事项"], r["已完成"], r["逾期"], r["完成率%"]) for r in table] == [
        (t["code"], t["items"], t["accepted"], t["overdue"], t["percent"])
        for t in from_cli["towns"]
    ]
    items = sum(p["items"] for p in from_cli["phases"])
    assert float(overall.data) == round(100.0 * accepted / items, 1)
    assert f"已完成 {accepted} 项" in summary.data
    assert "查摆问题、开展批评" in phase.data

    # the rehearsal's weekly load, town by town, in its result and in the UI: the 44 items of
    # the three phases fall on the department and its cadres (区直), none on a town
    load = result["town_load"]
    assert sum(r["事项"] for r in load) == 44
    assert {r["镇街"] for r in load} == {"区直"}
    with get_client(sync_client=True) as client:
        shown = latest_artifact(client, f"town-load-{ML}")
    assert (json.loads(shown.data) if isinstance(shown.data, str) else shown.data) == load


def test_a_campaign_file_kept_elsewhere_is_rehearsed_in_a_fresh_folder(
    db_url: str, tmp_path: Path
) -> None:
    """The department's own file, never rolled out here nor shipped: the rehearsal rolls the
    file out (it once rolled out by key, which nothing here knew yet, and failed)."""
    import_shipped_org(db_url)
    plan = tmp_path / "elsewhere" / "spring-visits-2013.yaml"
    plan.parent.mkdir()
    plan.write_text(
        """key: spring-visits-2013
name: 春季走访（演练）
organization: weihai-etdz
phases:
  - key: visits
    name: 走访
    start: 2013-03-01
    end: 2013-03-29
    obligations:
      - {key: report, title: 报送走访情况, subject: {units: {kinds: [community]}}}
""",
        encoding="utf-8",
    )
    result = simulate_campaign(str(plan), D(2013, 3, 1), D(2013, 3, 29), seed=3)
    assert result["campaign"] == "spring-visits-2013"
    assert [c["key"] for c in result["closed"]] == ["visits"]
    (phase,) = result["progress"]["phases"]
    assert phase["items"] == 35  # the district's 35 communities
    assert 0 < phase["accepted"] <= 35
