"""Rollout speed against the database's own bulk load of the same rows, in the same run.

    .venv/bin/python bench/rollout.py [--units 100000] [--db sqlite|postgresql|both]
    .venv/bin/python bench/rollout.py --pool [--units 40000] [--batch-items 50000]

It builds a synthetic tree (one district, a town per thousand units, villages), writes a
campaign that asks every village for a monthly record over ten months (about ten items a
village), and rolls it out through the real flow (`rollout_campaign`, Prefect included,
its temporary server warmed up first). The baseline loads the very rows the rollout wrote (items,
and the reminders planned beside them) into empty copies of the tables: sqlite3
`executemany` of plain INSERTs, PostgreSQL `COPY`.
The ratio is baseline time / rollout time (1.0: as fast as the driver). The last line is
`ratio=R items_per_s=N peak_mb=M`, for the slower database when both run.

With --pool it measures the fan-out instead: the scaled set-up of tests/cluster.py (a
Prefect server on PostgreSQL, a process pool, our data on PostgreSQL), the campaign deployed
to the pool, the same rollout run first with one worker, then (items deleted) with two.
Each worker takes `--limit 2`: the rollout's own run waits in one slot of the first. The last
line is `ratio=T2/T1 fan_out_vs_in_run=T2/T0 in_run_s=T0 one_worker_s=T1 two_workers_s=T2
batches=N`, T0 being the same rollout with no fan-out (its own run writes every batch).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlmodel import col

from models.store.tables import core

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monthly_campaign import monthly_campaign

CAMPAIGN = monthly_campaign("bench-rollout", "基准测试：村级月度台账", evidence="{files: 1}")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_tree(url: str, units: int) -> None:
    from sqlalchemy import insert

    from models.store import db
    from models.store.tables import Organization, Role, Unit

    towns = max(1, units // 1000)
    with db.session_for(url) as session:
        # the organization the bench campaigns name, with the one role they remind
        org = Organization(
            key="weihai-etdz",
            name="基准测试区",
            responsible_roles=["secretary"],
            district_roles=["secretary"],
        )
        session.add(org)
        session.flush()
        assert org.id is not None
        org_id = org.id
        session.add(Role(org_id=org_id, code="secretary", name="书记"))
        session.execute(
            insert(Unit),
            [
                {
                    "org_id": org_id,
                    "code": "d",
                    "name": "区",
                    "kind": "district",
                    "tags": [],
                    "origin": "filled",
                    "path": "/d/",
                }
            ],
        )
        district = session.execute(core(Unit).select()).one().id
        session.execute(
            insert(Unit),
            [
                {
                    "org_id": org_id,
                    "code": f"t{i}",
                    "name": f"镇{i}",
                    "kind": "town",
                    "tags": [],
                    "origin": "filled",
                    "path": f"/d/t{i}/",
                    "parent_id": district,
                }
                for i in range(towns)
            ],
        )
        town_ids = [
            r.id
            for r in session.execute(
                core(Unit).select().where(col(Unit.kind) == "town").order_by(col(Unit.id))
            )
        ]
        villages = units - towns - 1
        rows = [
            {
                "org_id": org_id,
                "code": f"v{i}",
                "name": f"村{i}",
                "kind": "village",
                "tags": [],
                "origin": "filled",
                "path": f"/d/t{i % towns}/v{i}/",
                "parent_id": town_ids[i % towns],
            }
            for i in range(villages)
        ]
        for start in range(0, len(rows), 20_000):
            session.execute(insert(Unit), rows[start : start + 20_000])


def fetch_rows(url: str, table: str, columns: tuple[str, ...]) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    from models.store import db

    with db.session_for(url) as session:
        return [
            tuple(r) for r in session.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))
        ]


def baseline(
    url: str, table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]
) -> float:
    """Seconds for the driver to load the rows into an empty table shaped like ours."""
    names = ", ".join(columns)
    copy_of = f"baseline_{table}"
    if url.startswith("sqlite"):
        import sqlite3

        path = url.removeprefix("sqlite:///")
        lite = sqlite3.connect(path)
        lite.execute("PRAGMA journal_mode=WAL")
        lite.execute("PRAGMA synchronous=NORMAL")
        ddl = lite.execute("SELECT sql FROM sqlite_master WHERE name=?", (table,)).fetchone()[0]
        lite.execute(ddl.replace(table, copy_of, 1))
        for name, sql in lite.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? "
            "AND sql IS NOT NULL",
            (table,),
        ).fetchall():
            lite.execute(sql.replace(name, f"b_{name}").replace(f" {table}", f" {copy_of}"))
        marks = ", ".join("?" for _ in columns)
        plain = [tuple(str(v) if isinstance(v, dt.date) else v for v in r) for r in rows]
        started = time.perf_counter()
        for i in range(0, len(plain), 20_000):
            lite.executemany(
                f"INSERT INTO {copy_of} ({names}) VALUES ({marks})", plain[i : i + 20_000]
            )
            lite.commit()
        elapsed = time.perf_counter() - started
        lite.close()
        return elapsed
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {copy_of} (LIKE {table} INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        for i in range(0, len(rows), 20_000):
            with cur.copy(f"COPY {copy_of} ({names}) FROM STDIN") as copy:
                for row in rows[i : i + 20_000]:
                    copy.write_row(row)
            conn.commit()
        elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def run_one(kind: str, units: int, home: Path) -> tuple[float, float, float]:
    """(ratio, items per second, peak MB of the rollout) on one database."""
    from config.settings import get_settings
    from models.store import db

    admin = None
    if kind == "sqlite":
        url = f"sqlite:///{home / f'bench-{uuid.uuid4().hex[:6]}.db'}"
    else:
        from sqlalchemy import create_engine, text

        name = f"campaign_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    os.environ["CAMPAIGN_DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        build_tree(url, units)
        from flows.rollout import rollout_campaign

        started = time.perf_counter()
        result = rollout_campaign("bench-rollout", dt.date(2013, 1, 4))
        ours = time.perf_counter() - started
        ours_peak = peak_mb()
        items = result["inserted"]
        from models.store.reminders import REMINDER_COLUMNS
        from models.store.rollout import ITEM_COLUMNS

        # The same rows the rollout wrote: its items and the reminders planned beside them.
        base = 0.0
        loaded = 0
        for table, columns in (("checklist_item", ITEM_COLUMNS), ("reminder", REMINDER_COLUMNS)):
            rows = fetch_rows(url, table, columns)
            base += baseline(url, table, columns, rows)
            loaded += len(rows)
            del rows
        ratio = base / ours
        print(
            f"{kind}: {items} items and their reminders ({loaded} rows) in {ours:.1f} s "
            f"({items / ours:,.0f} items/s); driver bulk load of the same rows {base:.1f} s; "
            f"ratio {ratio:.2f}; peak {ours_peak:.0f} MB",
            flush=True,
        )
        return ratio, items / ours, ours_peak
    finally:
        db.dispose_all()
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(
                    text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
                )
            admin.dispose()


def run_pool(units: int, batch_items: int, home: Path) -> None:
    """One worker against two on the same data; prints the ratio of their times."""
    from sqlalchemy import create_engine, text

    from tests.cluster import POOL, cluster

    env = {"CAMPAIGN_CAMPAIGNS_DIR": str(home / "campaigns")}
    with cluster(home / "cluster", env) as c:
        build_tree(c.campaign_db, units)
        deployed = c.campaign("deploy", "bench-rollout", "--pool", POOL)
        if deployed.returncode != 0:
            raise SystemExit(deployed.stdout + deployed.stderr)
        times = {}
        # (label, workers, fan out): the rollout's own run writing every batch itself, then
        # its batches as runs of their own on one worker, then on two.
        for label, workers, fan_out in (("in-run", 1, False), ("one", 1, True), ("two", 2, True)):
            engine = create_engine(c.campaign_db)
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE checklist_item, reminder CASCADE"))
            engine.dispose()
            for n in range(workers):
                if f"w{n}" not in c.workers:
                    c.start_worker(f"w{n}", limit=2)
            time.sleep(5)  # the workers' start, not the rollout's
            parameters: dict[str, object] = {"as_of": "2013-01-04", "batch_items": batch_items}
            parameters["batch_deployment"] = "rollout-batch/bench-rollout" if fan_out else None
            started = time.perf_counter()
            run = c.wait_run(
                c.run_deployment("rollout-campaign/bench-rollout", parameters), timeout=3600
            )
            elapsed = time.perf_counter() - started
            if run["state_type"] != "COMPLETED":
                raise SystemExit(f"rollout ended {run['state_type']}:\n{c.diagnose()}")
            engine = create_engine(c.campaign_db)
            with engine.connect() as conn:
                items = conn.execute(text("SELECT count(*) FROM checklist_item")).scalar_one()
            engine.dispose()
            times[label] = elapsed
            print(
                f"{label}: {workers} worker(s), {'batches as runs' if fan_out else 'in the run'}: "
                f"{items} items in {elapsed:.1f} s ({items / elapsed:,.0f} items/s)",
                flush=True,
            )
        batches = len(c.flow_runs(flow_runs={"name": {"like_": "bench-rollout · v1 · batch-%"}}))
        print(
            f"ratio={times['two'] / times['one']:.2f} "
            f"fan_out_vs_in_run={times['two'] / times['in-run']:.2f} "
            f"in_run_s={times['in-run']:.1f} one_worker_s={times['one']:.1f} "
            f"two_workers_s={times['two']:.1f} batches={batches // 2}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=None)
    parser.add_argument("--pool", action="store_true", help="one worker against two")
    parser.add_argument("--batch-items", type=int, default=50_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="campaign-bench-"))
    campaigns = home / "campaigns"
    campaigns.mkdir()
    (campaigns / "bench-rollout.yaml").write_text(CAMPAIGN, encoding="utf-8")
    os.environ.update(
        {
            "CAMPAIGN_HOME": str(home),
            "CAMPAIGN_CAMPAIGNS_DIR": str(campaigns),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
    )
    if args.pool:
        run_pool(args.units or 40_000, args.batch_items, home)
        return
    args.units = args.units or 100_000
    if args.db != "both":
        from prefect import flow

        @flow(name="bench-warm-up")
        def warm_up() -> None:
            """Start Prefect's temporary server before anything is timed."""

        warm_up()
    if args.db == "both":
        # Each database in a process of its own: peak memory is per process, and the first
        # run's baseline rows would otherwise count against the second.
        results = []
        for kind in ("sqlite", "postgresql"):
            done = subprocess.run(
                [sys.executable, __file__, "--units", str(args.units), "--db", kind],
                capture_output=True,
                text=True,
                check=True,
            )
            lines = done.stdout.strip().splitlines()
            print("\n".join(lines[:-1]), flush=True)
            fields = dict(part.split("=") for part in lines[-1].split())
            results.append(
                (float(fields["ratio"]), float(fields["items_per_s"]), float(fields["peak_mb"]))
            )
    else:
        results = [run_one(args.db, args.units, home)]
    ratio, per_second, _ = min(results)
    print(
        f"ratio={ratio:.2f} items_per_s={per_second:.0f} peak_mb={max(r[2] for r in results):.0f}"
    )


if __name__ == "__main__":
    main()
