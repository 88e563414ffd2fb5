"""The scaled set-up end to end: a Prefect server on PostgreSQL with basic auth, a process
pool, two workers, a campaign deployed to the pool; rollout and reminders through the
workers; a worker killed mid-batch; the server restarted; catch-up.

The tests share one server and one xdist worker (tests/scaled/conftest), in an order xdist
chooses: each asks for what it needs (the `rolled_out` fixture) and assumes nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine, text

from tests.cluster import POOL, Cluster
from tests.scaled.campaign_now import months_touched
from tests.scaled.conftest import ORG_FILES, Scaled, ok


def digest_key(message: str) -> str:
    """The 提醒编号 a digest carries: the same digest twice carries the same one."""
    found = re.search(r"提醒编号：(\w+)", message)
    assert found, message
    return found[1]


ITEM_ROW = """
    SELECT i.phase_key, i.obligation_key, i.subject_type, i.subject_id, i.occurrence,
           i.due, i.status, i.unit_id, i.town_id, i.opens_on, i.closes_on, i.version
    FROM checklist_item i JOIN campaign c ON c.id = i.campaign_id WHERE c.key = :key
"""
REMINDER_ROW = """
    SELECT i.obligation_key, i.subject_type, i.subject_id, i.occurrence, r.rule,
           r.recipient_id, r.send_on, r.status
    FROM reminder r JOIN checklist_item i ON i.id = r.item_id
    JOIN campaign c ON c.id = i.campaign_id WHERE c.key = :key
"""
NATURAL_KEY = """
    SELECT count(*), count(DISTINCT (obligation_key, subject_type, subject_id, occurrence))
    FROM checklist_item i JOIN campaign c ON c.id = i.campaign_id WHERE c.key = :key
"""

# One server for the tier: every test of it on the same xdist worker.
pytestmark = pytest.mark.xdist_group("scaled")


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows of one query on the campaign database, on a connection of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def rows(url: str, sql: str, key: str) -> Counter[tuple[Any, ...]]:
    return Counter(
        tuple(str(v) if v is not None else None for v in row) for row in query(url, sql, key=key)
    )


def runs_named(c: Cluster, prefix: str) -> list[dict[str, Any]]:
    return c.flow_runs(flow_runs={"name": {"like_": prefix}})


def test_a_client_without_the_auth_string_is_refused(scaled: Scaled) -> None:
    c = scaled.cluster
    refused = httpx.post(f"{c.api_url}/flows/filter", json={}, timeout=10)
    assert refused.status_code == 401
    assert c.api("POST", "/flows/filter", {}) is not None  # with it: served
    listed = c.prefect("work-pool", "ls", auth=False)
    assert listed.returncode != 0
    assert "401" in listed.stdout + listed.stderr or "Unauthorized" in listed.stdout + listed.stderr
    deploy = c.campaign("deploy", "pairing-now", "--pool", POOL, auth=False)
    assert deploy.returncode == 77, deploy.stdout + deploy.stderr
    assert "拒绝了访问（401 Unauthorized）：请把 PREFECT_API_AUTH_STRING" in deploy.stderr
    assert "Traceback" not in deploy.stderr
    assert POOL in ok(c.prefect("work-pool", "ls"))


def test_deploying_to_a_missing_pool_says_how_to_create_it(scaled: Scaled) -> None:
    result = scaled.cluster.campaign("deploy", "pairing-now", "--pool", "nowhere")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "上没有工作池 nowhere" in result.stderr
    assert "prefect work-pool create nowhere --type process" in result.stderr


def test_two_workers_roll_out_each_item_once(scaled: Scaled, rolled_out: dict[str, Any]) -> None:
    c = scaled.cluster
    assert rolled_out["state_type"] == "COMPLETED", c.diagnose()
    batches = runs_named(c, "pairing-now · v1 · batch-%")
    assert len(batches) >= 3 and {b["state_type"] for b in batches} == {"COMPLETED"}
    # the rollout's run and its batches are one tree in the UI
    assert {b["parent_task_run_id"] is not None for b in batches} == {True}
    ran_on = {w for w in ("a", "b") if "pairing-now · v1 · batch-" in c.log(f"worker-{w}")}
    assert ran_on == {"a", "b"}, "each worker should have run some batches"

    start, end = scaled.today - dt.timedelta(days=10), scaled.today + dt.timedelta(days=21)
    expected = 1 + 1224 + 135 * months_touched(start, end)  # plan, visits, monthly duty
    total, distinct = rows(c.campaign_db, NATURAL_KEY, "pairing-now").most_common(1)[0][0]
    assert int(total) == int(distinct) == expected


def test_the_sweep_through_a_worker_delivers_each_reminder_once(
    scaled: Scaled, rolled_out: dict[str, Any]
) -> None:
    c, hook = scaled.cluster, scaled.hook
    run = c.wait_run(c.run_deployment("remind-due/daily", {"as_of": str(scaled.today)}))
    assert run["state_type"] == "COMPLETED", c.diagnose()
    sent = query(
        c.campaign_db, "SELECT digest, count(*) FROM reminder WHERE status = 'sent' GROUP BY digest"
    )
    [(pending_due,)] = query(
        c.campaign_db,
        "SELECT count(*) FROM reminder WHERE status NOT IN ('sent', 'superseded') "
        "AND send_at <= (SELECT max(sent_at) FROM reminder)",
    )
    keys = Counter(digest_key(m["message"]) for m in hook.received)
    assert sent and pending_due == 0
    assert max(keys.values()) == 1  # no digest arrived twice
    assert set(keys) == {digest for digest, _ in sent}  # each sent digest arrived
    # one line per reminder, or counted in a town's line or the digest's 另有N项
    per_digest = dict(sent)
    for m in hook.received:
        said = sum(line["items"] for line in m["lines"]) + sum(m["more"].values())
        assert said == per_digest[m["key"]], m["message"]
    assert len(hook.received) >= 1000  # most of the 1,184 cadres have a pairing due


def test_a_worker_killed_mid_batch_changes_no_row(
    scaled: Scaled, rolled_out: dict[str, Any]
) -> None:
    """Worker b dies (SIGKILL, with its runs) while its batch holds an open transaction; the
    pool's automation marks that run Crashed, the rollout submits the batch again, and the
    rows are those of an undisturbed rollout of the same file into a fresh database."""
    c = scaled.cluster
    ok(c.campaign("deploy", "pairing-now-b", "--pool", POOL, "--fan-out"))
    reference = f"sqlite:///{scaled.root / 'reference.db'}"
    # a new database outside CAMPAIGN_HOME is made on purpose (a mistyped path is refused)
    ok(c.campaign("db", "upgrade", extra={"CAMPAIGN_DATABASE_URL": reference}))
    ok(
        c.campaign(
            "orgs", "import", *map(str, ORG_FILES), extra={"CAMPAIGN_DATABASE_URL": reference}
        )
    )
    ok(
        c.campaign(
            "rollout",
            "pairing-now-b",
            "--as-of",
            str(scaled.today),
            extra={"CAMPAIGN_DATABASE_URL": reference},
        )
    )

    plain = c.campaign_db.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain) as blocker:
        # Batches write their items, then plan reminders: with the reminder table locked
        # each batch waits inside its transaction, items written but not committed.
        blocker.execute("LOCK TABLE reminder IN EXCLUSIVE MODE")
        parent_id = c.run_deployment("rollout-campaign/pairing-now-b", {"batch_items": 400})
        victim = _a_blocked_batch_on_a_worker_without(c, parent_id)
        killed = c.kill_worker(c.worker_of(victim["infrastructure_pid"]) or "")
        assert int(victim["infrastructure_pid"]) in killed
        blocker.rollback()

    parent = c.wait_run(parent_id, timeout=400)
    assert parent["state_type"] == "COMPLETED", c.diagnose()
    crashed = c.api("GET", f"/flow_runs/{victim['id']}")
    assert crashed["state_type"] == "CRASHED"
    batches = runs_named(c, "pairing-now-b · v1 · batch-%")
    redone = [b for b in batches if b["name"] == victim["name"] and b["id"] != victim["id"]]
    assert [b["state_type"] for b in redone] == ["COMPLETED"]

    assert rows(c.campaign_db, ITEM_ROW, "pairing-now-b") == rows(
        reference, ITEM_ROW, "pairing-now-b"
    )
    assert rows(c.campaign_db, REMINDER_ROW, "pairing-now-b") == rows(
        reference, REMINDER_ROW, "pairing-now-b"
    )


def _a_blocked_batch_on_a_worker_without(c: Cluster, parent_id: str) -> dict[str, Any]:
    """A batch run of the rollout `parent_id`, on a worker other than the rollout's own,
    once every running batch waits on the lock (so is inside its transaction)."""
    plain = c.campaign_db.replace("postgresql+psycopg", "postgresql")
    deadline = time.monotonic() + 180
    with psycopg.connect(plain, autocommit=True) as monitor:
        while time.monotonic() < deadline:
            time.sleep(0.5)
            parent = c.api("GET", f"/flow_runs/{parent_id}")
            home = c.worker_of(parent["infrastructure_pid"])
            running = [
                r
                for r in runs_named(c, "pairing-now-b · v1 · batch-%")
                if r["state_type"] == "RUNNING" and r["infrastructure_pid"]
            ]
            waiting = monitor.execute(
                "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_class t "
                "ON t.oid = l.relation WHERE t.relname = 'reminder' AND NOT l.granted"
            ).fetchone()
            elsewhere = [
                r for r in running if c.worker_of(r["infrastructure_pid"]) not in (None, home)
            ]
            if home and elsewhere and waiting and waiting[0] == len(running):
                return dict(elsewhere[0])
    raise AssertionError(f"no batch blocked on a second worker:\n{c.diagnose()}")


def test_a_server_restart_loses_nothing_and_catch_up_runs_what_was_due_once(
    scaled: Scaled, rolled_out: dict[str, Any]
) -> None:
    """Everything goes down while phase `contact` is open. After the restart the scheduled
    runs are the same ones; a run that fell due meanwhile is late. `campaign catch-up`
    takes it over, closes `kickoff` (ended yesterday, never closed: the campaign was
    deployed after its closing time), sweeps; a second catch-up finds nothing to do, and a
    worker coming back runs nothing again."""
    c, hook = scaled.cluster, scaled.hook
    scheduled = {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}
    before = {r["id"]: r for r in c.flow_runs(**scheduled)}
    assert before, "the deployments should have future runs scheduled"
    c.stop_workers()
    c.stop_server()
    c.start_server()
    after = c.flow_runs(**scheduled)
    assert set(before) <= {r["id"] for r in after}
    slots = Counter((r["deployment_id"], r["expected_start_time"]) for r in after)
    assert max(slots.values()) == 1  # no schedule occurrence twice

    # a sweep that fell due while nothing ran: scheduled a minute ago, so it is late
    sweep = c.deployment("remind-due/daily")
    due = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    late = c.api(
        "POST",
        f"/deployments/{sweep['id']}/create_flow_run",
        {"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": due}}},
    )
    received = len(hook.received)

    first = ok(c.campaign("catch-up", "pairing-now"))
    taken_over = re.search(r"接手误点的运行 (\d+) 个；", first)
    assert taken_over and int(taken_over[1]) >= 1, first  # ours, and any that fell due now
    assert "写入事项 0；" in first, first
    # kickoff ended yesterday: closed now, by the catch-up or by the day's sweep before it
    # (any command brings the phases to its day)
    assert re.search(r"结束的环节：(kickoff|无)；", first), first
    phases = (
        "SELECT s.status FROM phase_state s JOIN campaign c ON c.id = s.campaign_id "
        "WHERE c.key = 'pairing-now'"  # pairing-now-b, deployed beside it, has a kickoff too
    )
    assert query(c.campaign_db, f"{phases} AND s.phase_key = 'kickoff'") == [("closed",)]
    second = ok(c.campaign("catch-up", "pairing-now"))
    assert "接手误点的运行 0 个；写入事项 0；结束的环节：无；" in second, second
    assert "发送提醒 0 条" in second, second

    taken = c.api("GET", f"/flow_runs/{late['id']}")
    assert taken["state_type"] == "CANCELLED"
    assert "catch-up" in taken["state"]["message"]
    c.start_worker("c", limit=2)
    time.sleep(8)  # a worker's first polls: it must not run the taken-over sweep
    assert c.api("GET", f"/flow_runs/{late['id']}")["state_type"] == "CANCELLED"
    assert len(hook.received) == received + _sent_by(first)
    keys = Counter(digest_key(m["message"]) for m in hook.received)
    # across every sweep and catch-up: nothing twice. Before 09:00 in Shanghai nothing is
    # due yet today and the catch-up sweeps yesterday, so there may be nothing at all
    assert max(keys.values(), default=0) <= 1
    closings = query(
        c.campaign_db,
        "SELECT count(*) FROM audit_event WHERE action = 'phase.closed' "
        "AND entity_key = 'pairing-now:kickoff'",
    )
    status = query(c.campaign_db, f"{phases} ORDER BY s.phase_key")
    assert [s for (s,) in status] == ["open", "closed"]  # contact, kickoff
    assert closings == [(1,)]


def _sent_by(output: str) -> int:
    """Digests a catch-up's sweep delivered: read off its line, which counts reminders;
    with every person on one channel, a digest per person who had any."""
    found = re.search(r"（(\d+) 份汇总）", output)
    return int(found[1]) if found else 0
