"""The scaled set-up on this machine, as the README has a user build it: a Prefect server on
PostgreSQL with basic auth, a process work pool, workers as separate processes, and our data
in a PostgreSQL database of its own. Used by tests/scaled and bench/rollout.py --pool.

Everything talks to the server the way a user's shell would (the `prefect` and `campaign`
commands, and the REST API with the auth string), never through this process's settings.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
PG_ADMIN = os.environ.get(
    "CAMPAIGN_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
POOL = "campaigns"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database (psycopg URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Cluster:
    root: Path
    prefect_db: str  # psycopg URL; the server gets it as asyncpg
    campaign_db: str
    campaign_env: dict[str, str] = field(default_factory=dict)
    auth: str = "campaign-admin:" + uuid.uuid4().hex[:16]
    port: int = field(default_factory=free_port)
    server: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, *, auth: bool = True, home: str = "client") -> dict[str, str]:
        """A client's environment: API URL, auth string, our database, its own Prefect home."""
        env = {
            **os.environ,
            "COLUMNS": "200",
            "PREFECT_HOME": str(self.root / "homes" / home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "CAMPAIGN_HOME": str(self.root / "campaign-home"),
            "CAMPAIGN_DATABASE_URL": self.campaign_db,
            **self.campaign_env,
        }
        env.pop("PREFECT_API_AUTH_STRING", None)
        if auth:
            env["PREFECT_API_AUTH_STRING"] = self.auth
        return env

    # -- the server -----------------------------------------------------------------------

    def start_server(self, timeout: float = 180) -> None:
        env = {
            **self.env(auth=False, home="server"),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": self.prefect_db.replace(
                "postgresql+psycopg", "postgresql+asyncpg"
            ),
            "PREFECT_SERVER_API_AUTH_STRING": self.auth,
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            "PREFECT_UI_API_URL": self.api_url,  # else the UI calls 127.0.0.1:4200
        }
        env.pop("PREFECT_API_URL")
        log = (self.root / "server.log").open("ab")
        self.server = subprocess.Popen(
            [
                str(BIN / "prefect"),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                f"{self.port}",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"prefect server exited: {self.log('server')[-2000:]}")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"prefect server not up in {timeout} s: {self.log('server')[-2000:]}")

    def stop_server(self) -> None:
        if self.server is not None:
            _stop(self.server)
            self.server = None

    # -- workers --------------------------------------------------------------------------

    def start_worker(self, name: str, limit: int = 2, extra: dict[str, str] | None = None) -> None:
        env = {
            **self.env(home=f"worker-{name}"),
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
            **(extra or {}),
        }
        log = (self.root / f"worker-{name}.log").open("ab")
        self.workers[name] = subprocess.Popen(
            [
                str(BIN / "prefect"),
                "worker",
                "start",
                "--pool",
                POOL,
                "--name",
                name,
                "--limit",
                str(limit),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.root,
        )

    def stop_workers(self) -> None:
        for name in list(self.workers):
            _stop(self.workers.pop(name))

    def kill_worker(self, name: str) -> list[int]:
        """SIGKILL a worker and every process it started, as when its machine dies.
        Returns the pids killed (the worker first)."""
        worker = self.workers.pop(name)
        pids = [worker.pid, *_descendants(worker.pid)]
        _signal(pids, signal.SIGKILL)
        worker.wait(10)
        return pids

    def worker_of(self, pid: int | str | None) -> str | None:
        """The name of the worker that started process `pid` (the API gives a run's
        infrastructure_pid as text), if one of ours did."""
        if not pid:
            return None
        for name, worker in self.workers.items():
            if int(pid) in _descendants(worker.pid):
                return name
        return None

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- commands and the API -------------------------------------------------------------

    def prefect(self, *args: str, auth: bool = True) -> subprocess.CompletedProcess[str]:
        return _run([str(BIN / "prefect"), *args], self.env(auth=auth))

    def campaign(
        self, *args: str, auth: bool = True, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return _run([str(BIN / "campaign"), *args], {**self.env(auth=auth), **(extra or {})})

    def api(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        user, _, password = self.auth.partition(":")
        response = httpx.request(
            method,
            f"{self.api_url}{path}",
            json=body,
            auth=(user, password) if auth else None,
            timeout=30,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def flow_runs(self, **flow_run_filter: Any) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sort": "EXPECTED_START_TIME_ASC", "limit": 200}
        for key, value in flow_run_filter.items():
            body[key] = value
        return list(self.api("POST", "/flow_runs/filter", body))

    def deployment(self, name: str) -> dict[str, Any]:
        flow, _, deployment = name.partition("/")
        return dict(self.api("GET", f"/deployments/name/{flow}/{deployment}"))

    def run_deployment(self, name: str, parameters: dict[str, Any] | None = None) -> str:
        """Create a flow run of a deployment (as `prefect deployment run` does); its id."""
        deployment = self.deployment(name)
        run = self.api(
            "POST",
            f"/deployments/{deployment['id']}/create_flow_run",
            {"parameters": parameters or {}},
        )
        return str(run["id"])

    def wait_run(self, run_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.api("GET", f"/flow_runs/{run_id}")
            if run["state_type"] in FINAL:
                return dict(run)
            time.sleep(1)
        raise TimeoutError(f"flow run {run_id} not finished in {timeout} s:\n{self.diagnose()}")

    def diagnose(self) -> str:
        names = ["server", *(f"worker-{n}" for n in self.workers)]
        return "\n".join(f"--- {n}\n{self.log(n)[-3000:]}" for n in names)


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    _signal([process.pid, *_descendants(process.pid)], signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        _signal([process.pid, *_descendants(process.pid)], signal.SIGKILL)
        process.wait(10)


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, sig)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (runs start in sessions of their own, so a process group
    would miss them)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@contextmanager
def cluster(root: Path, campaign_env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """A running server with the pool created; workers are the caller's to start."""
    root.mkdir(parents=True, exist_ok=True)
    with pg_database("prefect_scaled") as prefect_db, pg_database("campaign_scaled") as data:
        c = Cluster(root, prefect_db, data, dict(campaign_env or {}))
        try:
            c.start_server()
            created = c.prefect("work-pool", "create", POOL, "--type", "process")
            if created.returncode != 0:
                raise RuntimeError(created.stdout + created.stderr)
            yield c
        finally:
            c.stop_workers()
            c.stop_server()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)
