"""The reminder sweep against the database's plain UPDATE of the same rows, in one run.

    .venv/bin/python bench/reminders.py [--units 100000] [--due 100000] [--db sqlite|postgresql]

It rolls out about 1,000,000 items over a synthetic tree (bench/rollout.py's), gives 1,000
people a channel each on a local HTTP receiver (another process), plants `--due` reminders due
now, and times one sweep: claim, render the digests, deliver them, record the outcomes. The
baseline is one plain UPDATE of the same rows (status and sent_at, in batches of 5,000).
The last line is `ratio=R reminders_per_s=N seconds=S` (R: baseline time / sweep time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import col

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from monthly_campaign import monthly_campaign

RECEIVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # a real server's backlog; the default 5 drops bursts of SYNs
s = S(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""

CAMPAIGN = monthly_campaign(
    "bench-reminders", "基准测试：提醒", head="reminders: {before: 0, on_due: false}"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="campaign-bench-"))
    (home / "campaigns").mkdir()
    (home / "campaigns" / "bench-reminders.yaml").write_text(CAMPAIGN, encoding="utf-8")
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    assert receiver.stdout is not None  # started with stdout=PIPE
    port = int(receiver.stdout.readline())
    os.environ.update(
        {
            "CAMPAIGN_HOME": str(home),
            "CAMPAIGN_CAMPAIGNS_DIR": str(home / "campaigns"),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
    )
    url = f"sqlite:///{home / 'bench.db'}" if args.db == "sqlite" else fresh_pg()
    os.environ["CAMPAIGN_DATABASE_URL"] = url
    from rollout import build_tree
    from sqlalchemy import insert, select, update

    from config.settings import get_settings
    from models.store import db
    from models.store.tables import Person, Reminder, Unit

    get_settings.cache_clear()
    try:
        build_tree(url, args.units)
        with db.session_for(url) as session:
            towns = (
                session.execute(select(col(Unit.id)).where(col(Unit.kind) == "town"))
                .scalars()
                .all()
            )
            org_id = session.execute(select(col(Unit.org_id)).limit(1)).scalar_one()
            session.execute(
                insert(Person),
                [
                    {
                        "org_id": org_id,
                        "code": f"p{i}",
                        "name": f"干部{i}",
                        "unit_id": towns[i % len(towns)],
                        "channels": [f"json://127.0.0.1:{port}/hook"],
                        "origin": "filled",
                    }
                    for i in range(1000)
                ],
            )
        from flows.rollout import rollout_campaign

        rollout_campaign("bench-reminders", dt.date(2013, 1, 4))
        now = dt.datetime(2013, 3, 1, 1, 0, tzinfo=dt.UTC)
        with db.session_for(url) as session:
            people = session.execute(select(col(Person.id))).scalars().all()
            from models.store.tables import ChecklistItem

            items = (
                session.execute(
                    select(col(ChecklistItem.id)).order_by(col(ChecklistItem.id)).limit(args.due)
                )
                .scalars()
                .all()
            )
            rows = [
                {
                    "item_id": item,
                    "rule": "due",
                    "recipient_id": people[i % len(people)],
                    "send_on": dt.date(2013, 3, 1),
                    "send_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "uncertain": False,
                }
                for i, item in enumerate(items)
            ]
            for start in range(0, len(rows), 20_000):
                session.execute(insert(Reminder), rows[start : start + 20_000])
        # the rollout refreshes the statistics after its load; these reminders are planted
        # here, so the same is done for them (as autovacuum would by the morning)
        db.analyze(url, ("reminder",))
        from tasks.reminder_tasks import sweep_reminders

        started = time.perf_counter()
        counts = sweep_reminders.fn(now)
        seconds = time.perf_counter() - started
        with db.session_for(url) as session:
            ids = session.execute(select(col(Reminder.id))).scalars().all()
        started = time.perf_counter()
        for start in range(0, len(ids), 5000):
            with db.session_for(url) as session:
                session.execute(
                    update(Reminder)
                    .where(col(Reminder.id).in_(ids[start : start + 5000]))
                    .values(status="archived", sent_at=now)
                )
        baseline = time.perf_counter() - started
        sent = counts.get("sent", 0)
        print(
            f"{args.db}: swept {sent} reminders in {counts.get('digests', 0)} digests in "
            f"{seconds:.1f} s ({sent / seconds:,.0f}/s); plain UPDATE of the same rows "
            f"{baseline:.1f} s",
            flush=True,
        )
        print(
            f"ratio={baseline / seconds:.2f} reminders_per_s={sent / seconds:.0f} "
            f"seconds={seconds:.1f}"
        )
    finally:
        receiver.terminate()
        db.dispose_all()


def fresh_pg() -> str:
    """A new, empty PostgreSQL database on this machine's server; its URL."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"campaign_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


if __name__ == "__main__":
    main()
