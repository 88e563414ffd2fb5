"""The morning of a deadline, compressed: every cadre of the district signs in to the web
door, opens their list, opens one item and reports it, as fast as the server takes them.

    .venv/bin/python bench/web.py [--db sqlite|postgresql] [--workers N] [--concurrency 50]

It sets up the shipped district (its 1,184 cadres and their pairings with needy people), a
campaign dated around today that asks each pair for a visit, one sign-in link per cadre,
and `campaign web` on 127.0.0.1. Each cadre is a client of its own (aiohttp); `--concurrency`
of them at once. The same server's /health, at the same concurrency, is the baseline of
latency (what the server and the loopback cost with no page and no database). It prints
p50/p95/p99 latency and requests per second of each (the door's also for the requests begun
in its first second apart from those after: a worker's start shows there), then the
submissions in the database (exactly one per cadre: none lost, none twice) and the audit
chain walked after the morning; then the CPU the server, the load generator and (on
PostgreSQL) the database spent, and the server's CPU for a door request (steadier than
latency within a day; it moves between days with the machine) and in /health requests of
the same run. Last, what one cadre's morning costs the database, counted rather than
timed (the same on any machine): the statements each step runs and the pooled connections
it takes (each pinged on PostgreSQL), for one more cadre in this process, after a first
one has warmed the caches. The last line is `p95_ms=N health_p95_ms=N ratio=R
submissions=N` (R: health p95 / door p95).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import NamedTuple

from sqlmodel import col

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
import httpx
from reminders import fresh_pg

from tests.door_cost import STEPS, Answer, MorningFailed, a_morning, statements_of_a_morning

REPO = Path(__file__).resolve().parent.parent
CAMPAIGN_BIN = Path(sys.executable).parent / "campaign"


def campaign_text(today: dt.date) -> str:
    return f"""key: bench-door
name: 党员干部联系困难群众（基准测试）
organization: weihai-etdz
phases:
  - key: contact
    name: 沟通联系
    start: {today - dt.timedelta(days=5)}
    end: {today + dt.timedelta(days=30)}
    obligations:
      - key: visit
        title: 入户走访
        subject: {{pairings: {{kinds: [cadre-needy]}}}}
        due: {today + dt.timedelta(days=10)}
        evidence: {{note: true}}
"""


def cli(*args: str | Path) -> None:
    result = subprocess.run(
        [str(CAMPAIGN_BIN), *map(str, args)], cwd=REPO, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"campaign {args[0]} failed: {result.stderr}")


class AiohttpBrowser:
    """A cadre's client: aiohttp, which spends a third of the CPU httpx did on the cores the
    server shares with it (measured 2026-12-05: 0.6 to 0.8 against 1.8 to 2.0 ms a door
    request; /health at 1,900 to 3,300 requests a second against 370 to 500, so the
    baseline is the server's, not the client's). Its cookie jar takes the loopback's cookies
    (by default it refuses an IP address's)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=120),
        )

    async def get(self, path: str) -> Answer:
        async with self.session.get(self.base + path, allow_redirects=False) as response:
            return Answer(response.status, await response.text())

    async def post(self, path: str, data: dict[str, str]) -> Answer:
        async with self.session.post(
            self.base + path, data=data, allow_redirects=False
        ) as response:
            return Answer(response.status, await response.text())

    async def close(self) -> None:
        await self.session.close()


class ProcessCpu(NamedTuple):
    pid: int
    parent: int
    name: str
    seconds: float  # user + system


def processes() -> Iterator[ProcessCpu]:
    """Every process of the machine with its CPU time so far, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue  # gone meanwhile
        fields = rest.split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        yield ProcessCpu(int(stat.parent.name), int(fields[1]), name, seconds)


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children."""
    return sum(p.seconds for p in processes() if pid in (p.pid, p.parent))


def postgres_cpu() -> float:
    """CPU time of this machine's PostgreSQL processes, its backends included (one that
    exits between two readings takes its time with it: the pool keeps them open here)."""
    return sum(p.seconds for p in processes() if p.name.startswith("postgres"))


def percentiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


async def health(url: str, requests: int, concurrency: int) -> tuple[list[float], float]:
    gate = asyncio.Semaphore(concurrency)
    times: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as client:

        async def one() -> None:
            async with gate:
                start = time.perf_counter()
                async with client.get(f"{url}/health") as response:
                    response.raise_for_status()
                    await response.read()
                times.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
    return times, time.perf_counter() - began


async def morning(
    url: str, tokens: list[tuple[str, int]], concurrency: int, today: str
) -> tuple[dict[str, list[float]], float, int]:
    gate = asyncio.Semaphore(concurrency)
    times: dict[str, list[float]] = defaultdict(list)
    failures = 0
    errors: list[str] = []
    began = time.perf_counter()

    async def timed(kind: str, call: Awaitable[Answer]) -> Answer:
        start = time.perf_counter()
        response = await call
        took = time.perf_counter() - start
        times[kind].append(took)
        # the first second apart: a worker that read nothing ahead queued it all (p50 0.8 s)
        times["first second" if start - began < 1 else "after"].append(took)
        return response

    async def cadre(token: str, item: int) -> None:
        nonlocal failures
        # a connection and a cookie jar of its own
        async with gate:
            browser = AiohttpBrowser(url)
            try:
                await a_morning(browser, token, item, today, timed)
            except MorningFailed as exc:
                failures += 1
                errors.append(str(exc))
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures += 1
                errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                await browser.close()

    await asyncio.gather(*(cadre(t, i) for t, i in tokens))
    for error in errors[:5]:
        print(f"  {error}", flush=True)
    return times, time.perf_counter() - began, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, help="default: 1 on SQLite, 2 on PostgreSQL")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--profile", type=Path, help="write the server's cProfile here (one worker only)"
    )
    args = parser.parse_args()
    workers = args.workers or (1 if args.db == "sqlite" else 2)
    from tests.scaled.campaign_now import today_in_shanghai, write_holidays

    home = Path(tempfile.mkdtemp(prefix="campaign-bench-web-"))
    today = today_in_shanghai()
    port = 18_000 + os.getpid() % 1000
    url = f"sqlite:///{home / 'campaign.db'}" if args.db == "sqlite" else fresh_pg()
    os.environ.update(
        {
            "CAMPAIGN_HOME": str(home),
            "PREFECT_HOME": str(home / "prefect"),
            "CAMPAIGN_DATABASE_URL": url,
            "CAMPAIGN_HOLIDAYS_DIR": str(write_holidays(home / "holidays", today)),
            "CAMPAIGN_WEB_URL": f"http://127.0.0.1:{port}",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
    )
    from config.settings import os_login  # after the environment above is set

    operators = home / "operators.csv"
    operators.write_text(f"登录名,人员编码,代录\n{os_login()},p-org-01,是\n", encoding="utf-8")
    plan = home / "bench-door.yaml"
    plan.write_text(campaign_text(today), encoding="utf-8")
    print(f"setting up the district and the campaign ({args.db}) ...", flush=True)
    orgs = REPO / "config" / "orgs"
    cli("orgs", "import", orgs / "weihai-etdz.yaml", *sorted((orgs / "weihai-etdz").glob("*.csv")),
        operators)  # fmt: skip
    cli("rollout", plan)

    from sqlalchemy import distinct, func, select

    from config.settings import get_settings
    from models.store import audit, db
    from models.store.door import create_links
    from models.store.instant import utc_now
    from models.store.tables import ChecklistItem, Evidence, Pairing

    get_settings.cache_clear()
    with db.session_for(url) as session:
        # each cadre reports the item of their own (first) pair
        own: dict[int, int] = {}
        for cadre, item in session.execute(
            select(col(Pairing.cadre_id), col(ChecklistItem.id))
            .join(ChecklistItem, col(ChecklistItem.subject_id) == col(Pairing.id))
            .where(col(ChecklistItem.subject_type) == "pairing")
            .order_by(col(ChecklistItem.id))
        ).all():
            own.setdefault(cadre, item)
        links = create_links(
            session, person_ids=sorted(own), purpose="printed", now=utc_now(),
            lifetime=dt.timedelta(days=1),
        )  # fmt: skip
        tokens = [(links[cadre], own[cadre]) for cadre in sorted(own)]
        counted = [(cadre, own[cadre]) for cadre in sorted(own)[:2]]
    profiled = [sys.executable, "-m", "cProfile", "-o", str(args.profile)] if args.profile else []
    server = subprocess.Popen(
        [*profiled, str(CAMPAIGN_BIN), "web", "--port", str(port), "--workers", str(workers)],
        cwd=REPO,
        stdout=(home / "web.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        print(f"{len(tokens)} cadres, {args.concurrency} at once, {workers} worker(s)", flush=True)
        asyncio.run(health(base, 200, args.concurrency))  # warm-up
        health_before = cpu_seconds(server.pid)
        base_times, base_wall = asyncio.run(health(base, 4 * len(tokens), args.concurrency))
        server_before, client_before = cpu_seconds(server.pid), time.process_time()
        health_cpu = server_before - health_before
        database_before = postgres_cpu()
        times, wall, failures = asyncio.run(
            morning(base, tokens, args.concurrency, today.isoformat())
        )
        server_cpu = cpu_seconds(server.pid) - server_before
        database_cpu = postgres_cpu() - database_before
        client_cpu = time.process_time() - client_before
    finally:
        server.send_signal(signal.SIGINT) if args.profile else server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        print((home / "web.log").read_text(errors="replace")[-3000:])
    with db.session_for(url) as session:
        submissions = session.execute(
            select(func.count()).select_from(Evidence).where(col(Evidence.kind) == "submission")
        ).scalar_one()
        items = session.execute(select(func.count(distinct(col(Evidence.item_id))))).scalar_one()
        chained, broken = audit.verify(session)  # every sign-in and report, one chain
    every = [t for kind in STEPS for t in times[kind]]
    print(f"{'requests':<12} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    rows: list[tuple[str, list[float], float | None]] = [
        ("/health", base_times, base_wall),
        ("door, all", every, wall),
    ]
    rows += [(kind, times[kind], None) for kind in (*STEPS, "first second", "after")]
    for name, values, span in rows:
        p50, p95, p99 = percentiles(values)
        rate = f"{len(values) / span:8.0f}" if span else f"{'':>8}"
        print(f"{name:<12} {len(values):>6} {p50:8.1f} {p95:8.1f} {p99:8.1f} {rate}")
    print(f"submissions {submissions} for {items} items; failed flows {failures}")
    print(f"audit chain of {chained} events " + (f"broken: {broken}" if broken else "holds"))
    door_requests = len(every)
    print(
        f"CPU over the morning ({wall:.0f} s): server {server_cpu:.0f} s "
        f"({1000 * server_cpu / door_requests:.1f} ms a request), load generator "
        f"{client_cpu:.0f} s ({1000 * client_cpu / door_requests:.1f} ms a request)"
        + (f", PostgreSQL {database_cpu:.0f} s" if args.db == "postgresql" else "")
    )
    # the server's CPU for a door request in /health requests of the same server, the same
    # run: a cost that should not move with the machine's load (it did, by a third, here)
    health_ms = 1000 * health_cpu / len(base_times)
    door_ms = 1000 * server_cpu / door_requests
    print(
        f"server CPU a request: door {door_ms:.2f} ms, /health {health_ms:.2f} ms "
        f"(a door request costs {door_ms / health_ms:.1f} /health requests)"
    )
    cost = statements_of_a_morning(url, counted, today.isoformat())
    print(
        "one cadre's morning, counted: "
        + "; ".join(f"{kind} {n} statements, {c} connections" for kind, (n, c) in cost.items())
        + f"; in all {sum(n for n, _ in cost.values())} statements, "
        f"{sum(c for _, c in cost.values())} connections"
    )
    door_p95, health_p95 = percentiles(every)[1], percentiles(base_times)[1]
    print(
        f"p95_ms={door_p95:.0f} health_p95_ms={health_p95:.0f} "
        f"ratio={health_p95 / door_p95:.2f} submissions={submissions}"
    )


if __name__ == "__main__":
    main()
