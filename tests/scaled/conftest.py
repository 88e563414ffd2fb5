"""The scaled tier: one server for all its tests (each module marks itself xdist_group
"scaled", so that they share one xdist worker and this session fixture)."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import POOL, REPO, Cluster, cluster
from tests.receivers import HttpReceiver, http_receiver
from tests.scaled.campaign_now import today_in_shanghai, write_campaign, write_holidays


@dataclass
class Scaled:
    cluster: Cluster
    hook: HttpReceiver
    today: dt.date
    root: Path


ORG_FILES = [
    REPO / "config" / "orgs" / "weihai-etdz.yaml",
    *sorted((REPO / "config" / "orgs" / "weihai-etdz").glob("*.csv")),
]


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scaled]:
    """The server on PostgreSQL with auth, the pool, our database with the shipped
    organization, and two campaigns dated around today; no workers yet."""
    root = tmp_path_factory.mktemp("scaled")
    today = today_in_shanghai()
    for key in ("pairing-now", "pairing-now-b"):
        write_campaign(root / "campaigns", key, today)
    with http_receiver() as hook:
        env = {
            "CAMPAIGN_CAMPAIGNS_DIR": str(root / "campaigns"),
            "CAMPAIGN_HOLIDAYS_DIR": str(write_holidays(root / "holidays", today)),
            "CAMPAIGN_NOTIFY_DEFAULT": hook.url(),
            "CAMPAIGN_ZOMBIE_AFTER_SECONDS": "60",
        }
        with cluster(root / "cluster", env) as c:
            ok(c.campaign("orgs", "import", *map(str, ORG_FILES)))
            yield Scaled(c, hook, today, root)


@pytest.fixture(scope="session")
def rolled_out(scaled: Scaled) -> dict[str, Any]:
    """`pairing-now` deployed to the pool and rolled out by two workers: the rollout's own
    run on worker a (started first), its batches on a and b. Returns the rollout's run."""
    c = scaled.cluster
    ok(c.campaign("deploy", "pairing-now", "--pool", POOL, "--fan-out"))
    c.start_worker("a", limit=2)
    run_id = c.run_deployment("rollout-campaign/pairing-now", {"batch_items": 400})
    deadline = time.monotonic() + 120
    while c.api("GET", f"/flow_runs/{run_id}")["state_type"] in ("SCHEDULED", "PENDING"):
        assert time.monotonic() < deadline, c.diagnose()
        time.sleep(0.5)
    c.start_worker("b", limit=2)
    return c.wait_run(run_id, timeout=300)
