"""Flows run on the Prefect test harness: runs recorded, artifacts readable, rows written."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.flows import load_flow_from_entrypoint

from config.campaign_files import shipped_campaigns
from config.settings import get_settings
from flows.import_org import import_organization
from flows.validate_campaigns import validate_campaigns
from models.errors import SpecError
from models.store import db
from models.store.orgs import org_counts, org_id_of
from tests.conftest import REPO

ENTRYPOINTS = [
    "flows/import_org.py:import_organization",
    "flows/validate_campaigns.py:validate_campaigns",
    "flows/rollout.py:rollout_campaign",
    "flows/phase.py:open_campaign_phase",
    "flows/phase.py:close_campaign_phase",
    "flows/simulate.py:simulate_campaign",
    "flows/refresh_progress.py:refresh_progress",
    "flows/remind.py:remind_due",
    "flows/inspection.py:inspect_campaign",
]
FLOW_NAMES = {"open_campaign_phase": "open-phase", "close_campaign_phase": "close-phase"}


@pytest.mark.parametrize("entrypoint", ENTRYPOINTS)
def test_every_entrypoint_loads_from_the_repository_root(
    entrypoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    function = entrypoint.split(":")[1]
    expected = FLOW_NAMES.get(function, function.replace("_", "-"))
    assert load_flow_from_entrypoint(entrypoint).name == expected


def test_import_flow_writes_rows_and_publishes_its_summary() -> None:
    path = str(get_settings().orgs_dir / "weihai-etdz.yaml")
    result = import_organization(path)
    assert result["units_new"] == 175
    with db.session_for(get_settings().resolved_database_url) as session:
        assert org_counts(session, org_id_of(session, "weihai-etdz")).units["village"] == 100
    with get_client(sync_client=True) as client:
        artifacts = client.read_latest_artifacts()
        runs = client.read_flow_runs()
    summary = next(a for a in artifacts if a.key == "org-summary")
    assert any(r.name == f"orgs · import · {path}" for r in runs)
    assert isinstance(summary.data, str)
    assert "| 村 | 100 |" in summary.data and "人员 185 人" in summary.data
    # what the command prints, the artifact says: here what the import did
    assert f"- weihai-etdz：已导入 {path}：单位新增 175、更新 0；人员新增 185" in summary.data
    again = import_organization(path)
    assert again["changed"] is False and again["reminders_planned"] == 0
    with get_client(sync_client=True) as client:
        latest = next(a for a in client.read_latest_artifacts() if a.key == "org-summary")
    assert f"- weihai-etdz：{path} 与库中一致，没有变化" in str(latest.data)


def test_validate_flow_fails_on_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("key: x\n", encoding="utf-8")
    assert validate_campaigns() == len(shipped_campaigns(get_settings()))
    with pytest.raises(SpecError, match=r"broken.yaml:1: name: 缺少此项（必填）"):
        validate_campaigns([str(broken)])
