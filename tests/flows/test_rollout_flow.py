"""The rollout, its gate, phases and artifacts, through Prefect as the UI sees them."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from prefect.client.schemas.objects import StateType
from sqlalchemy import func, select

from flows.phase import close_campaign_phase, open_campaign_phase
from flows.rollout import rollout_campaign
from models.store import db
from models.store.gates import latest_decisions
from models.store.rollout import campaign_id
from models.store.tables import AuditEvent, GateDecision
from tests.db.rollout_helpers import import_shipped_org, item_count

D = dt.date
VR = "village-rectification-2013"


def test_rollout_twice_converges_and_names_its_runs(db_url: str) -> None:
    import_shipped_org(db_url)
    first = rollout_campaign(VR, D(2012, 11, 1))
    second = rollout_campaign(VR, D(2012, 11, 1))
    assert (first["inserted"], second["inserted"]) == (39, 0)
    assert first["waiting_at"] == second["waiting_at"] == ["pilot-review"]
    assert item_count(db_url) == 39
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                name=FlowRunFilterName(any_=[f"{VR} · 全部环节 · rollout"])
            )
        )
    assert len(runs) >= 2
    assert all(f"campaign:{VR}" in r.tags for r in runs)


def _paused_run(started: float, timeout: float = 90) -> Any:
    with get_client(sync_client=True) as client:
        while time.monotonic() - started < timeout:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    name=FlowRunFilterName(any_=[f"{VR} · 全部环节 · rollout"])
                )
            )
            paused = [r for r in runs if r.state and r.state.type == StateType.PAUSED]
            if paused:
                return paused[0]
            time.sleep(0.5)
    raise AssertionError("the rollout never paused at its gate")


def _rollout_in_thread(result: dict[str, Any]) -> threading.Thread:
    def run() -> None:
        result.update(
            rollout_campaign(VR, D(2012, 12, 3), wait_at_gates=True, gate_timeout_seconds=120)
        )

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_gate_answered_through_the_api(db_url: str) -> None:
    import_shipped_org(db_url)
    result: dict[str, Any] = {}
    started = time.monotonic()
    thread = _rollout_in_thread(result)
    run = _paused_run(started)
    with get_client(sync_client=True) as client:
        bad = client.resume_flow_run(run.id, run_input={"approved": "perhaps"})
        assert bad.status.value == "REJECT"  # the typed form refuses it; the run stays paused
        state = client.read_flow_run(run.id).state
        assert state is not None and state.type == StateType.PAUSED
        # A person whose role may not answer: refused by the flow, which asks again.
        client.resume_flow_run(run.id, run_input={"approved": True, "reviewer": "p-org-01"})
    run = _paused_run(time.monotonic())
    with get_client(sync_client=True) as client:
        ok = client.resume_flow_run(
            run.id,
            run_input={"approved": True, "reviewer": "p-org-head-1", "notes": "试点经验已总结"},
        )
        assert ok.status.value == "ACCEPT"
    thread.join(120)
    assert result["waiting_at"] == []
    assert item_count(db_url) == 168
    with db.session_for(db_url) as session:
        decisions = session.execute(select(GateDecision)).scalars().all()
    assert len(decisions) == 1
    assert decisions[0].approved and decisions[0].notes == "试点经验已总结"


def test_a_rejected_gate_keeps_the_rest_waiting(db_url: str) -> None:
    import_shipped_org(db_url)
    result: dict[str, Any] = {}
    thread = _rollout_in_thread(result)
    run = _paused_run(time.monotonic())
    with get_client(sync_client=True) as client:
        client.resume_flow_run(
            run.id,
            run_input={
                "approved": False,
                "reviewer": "p-org-head-2",
                "notes": "试点问题未整改到位",
            },
        )
    thread.join(120)
    assert result["waiting_at"] == ["pilot-review"]
    assert item_count(db_url) == 39
    again = rollout_campaign(VR, D(2012, 12, 10))
    assert again["waiting_at"] == ["pilot-review"] and item_count(db_url) == 39
    with db.session_for(db_url) as session:
        decision = latest_decisions(session, campaign_id(session, VR))["pilot-review"]
    assert not decision.approved and decision.notes == "试点问题未整改到位"


def test_a_duplicate_phase_run_changes_nothing(db_url: str) -> None:
    import_shipped_org(db_url)
    rollout_campaign("mass-line-2013", D(2013, 9, 3))

    def audit_count() -> int:
        with db.session_for(db_url) as session:
            return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()

    assert open_campaign_phase("mass-line-2013", "criticism", D(2013, 10, 8)) == 25
    events = audit_count()
    assert open_campaign_phase("mass-line-2013", "criticism", D(2013, 10, 8)) == 0
    first = close_campaign_phase("mass-line-2013", "criticism", D(2013, 10, 31))
    events_after_close = audit_count()
    assert close_campaign_phase("mass-line-2013", "criticism", D(2013, 10, 31)) == first
    assert audit_count() == events_after_close == events + 1


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "WARNING")
