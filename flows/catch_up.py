"""Flow: run, once, what a campaign's schedules should have run while nothing ran.

After an outage (server, workers, or a campaign deployed after its first dates) the late
scheduled runs are taken over (cancelled, saying why) and their work done here in order:
the rollout (missing items, phases whose start has come), the closing of phases whose end
has passed, the due checks, one reminder sweep for everything due by now, and progress.
Every step converges, so a second catch-up does nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow

from flows.deployments import CLOSE_AT, REMIND_AT
from flows.inspection import inspect_campaign
from flows.phase import close_campaign_phase
from flows.refresh_progress import refresh_progress
from flows.remind import remind_due
from flows.rollout import rollout_campaign
from flows.run_tags import tag_current_run
from models.domain.catch_up import last_sweep_day, phases_to_close
from models.store.instant import utc_now
from tasks.catch_up_tasks import read_phase_states, take_over_late_runs
from tasks.context import task_context
from tasks.run_day_tasks import check_run_day


@flow(name="catch-up-campaign", flow_run_name="{campaign} · 补做")
def catch_up_campaign(campaign: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """`now` (default: the clock) is the instant caught up to."""
    loaded = task_context().campaign(campaign)
    key = loaded.spec.key
    tag_current_run([f"campaign:{key}", "catch-up"])
    instant = (now or utc_now()).astimezone(dt.UTC)
    local = instant.astimezone(ZoneInfo(loaded.spec.timezone))
    if now is not None:  # before late runs are taken over
        check_run_day(local.date(), "now", key)
    taken = take_over_late_runs(key, instant)
    rollout = rollout_campaign(key, as_of=local.date())
    closing = phases_to_close(loaded.phase_dates, read_phase_states(key), local, CLOSE_AT)
    for phase, ends in closing:
        close_campaign_phase(key, phase, ends)
    checks = inspect_campaign(key, local.date()) if loaded.spec.inspections else []
    reminders = remind_due(last_sweep_day(local, REMIND_AT))
    refresh_progress(key, local.date())
    return {
        "campaign": key,
        "late_runs_taken_over": taken,
        "items_written": rollout["inserted"],
        "waiting_at": rollout["waiting_at"],
        "phases_closed": [phase for phase, _ in closing],
        "checks": len(checks),
        "reminders_sent": reminders.get("sent", 0),
        "digests": reminders.get("digests", 0),
        "reminders_failed": reminders.get("failed", 0),
        "newly_overdue": reminders.get("overdue", 0),
        "failure_reasons": reminders.get("reasons", []),
        "next_due": reminders.get("next_due"),
    }
