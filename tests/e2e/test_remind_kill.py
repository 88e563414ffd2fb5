"""A sweep killed with SIGKILL mid-batch loses no reminder; the ones in flight are sent
again by the next sweep and marked uncertain (they may have arrived twice)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import col

from config.settings import get_settings
from models.store import db
from models.store.tables import Person, Reminder, core
from tests.e2e.test_cli import CAMPAIGN, REPO, cli_env, run
from tests.receivers import http_receiver


def test_a_killed_sweep_loses_nothing(campaign_home: Path) -> None:
    assert run("orgs", "import", REPO / "config" / "orgs" / "weihai-etdz.yaml").returncode == 0
    assert run("rollout", "village-rectification-2013", "--as-of", "2012-11-01").returncode == 0
    url = get_settings().resolved_database_url
    with db.session_for(url) as session:
        # everyone on the default channel: one slow delivery per person
        session.execute(core(Person).update().values(channels=[]))
    with http_receiver("slow") as hook:
        env = cli_env({"CAMPAIGN_NOTIFY_DEFAULT": hook.url()})
        sweep = subprocess.Popen(
            [str(CAMPAIGN), "remind", "--as-of", "2012-11-26"],
            cwd=REPO,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while not hook.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert hook.received, "the sweep never delivered anything"
        os.killpg(sweep.pid, signal.SIGKILL)  # mid-batch, the temporary server with it
        sweep.wait(30)
        with db.session_for(url) as session:
            in_flight = session.execute(
                select(func.count()).where(col(Reminder.status) == "sending")
            ).scalar_one()
        assert in_flight >= 1
        # status tells the claims in flight apart from those waiting to be sent
        shown = json.loads(
            run("status", "village-rectification-2013", "--as-of", "2012-11-26", "--json").stdout
        )
        assert shown["reminders"]["sending"] == in_flight
        hook.mode = "ok"
        again = run("remind", "--as-of", "2012-11-27", env={"CAMPAIGN_NOTIFY_DEFAULT": hook.url()})
        assert again.returncode == 0, again.stderr
    with db.session_for(url) as session:
        by_status = dict(
            session.execute(
                select(col(Reminder.status), func.count())
                .where(col(Reminder.send_on) <= "2012-11-27")
                .group_by(col(Reminder.status))
            ).all()
        )
        uncertain = session.execute(
            select(func.count()).where(
                col(Reminder.uncertain).is_(True), col(Reminder.status) == "sent"
            )
        ).scalar_one()
    assert by_status.get("sending", 0) == 0 and by_status.get("pending", 0) == 0
    assert uncertain == in_flight
    shown = json.loads(
        run("status", "village-rectification-2013", "--as-of", "2012-11-27", "--json").stdout
    )
    assert shown["reminders"]["uncertain"] == in_flight
    table = run("status", "village-rectification-2013", "--as-of", "2012-11-27").stdout
    assert "其中可能重复" in table and "发送中" in table
