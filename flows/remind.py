"""Flow: the reminder sweep (scheduled daily at 09:00 in the campaigns' timezone)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from time import sleep
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from config.settings import Settings, get_settings
from models.domain.wording import sweep_zh, undelivered_zh, unread_campaign_zh
from models.domain.working_days import local_day
from models.store.instant import utc_now
from models.store.reminders import MAX_ATTEMPTS
from tasks.audit_tasks import anchor_audit_chain
from tasks.reminder_tasks import (
    campaign_problems,
    failure_reasons,
    mark_overdue_items,
    next_due,
    next_retry,
    reminder_totals,
    sweep_instant,
    sweep_reminders,
)
from tasks.run_day_tasks import check_run_day


@flow(name="remind-due", flow_run_name="reminders · {as_of}")
def remind_due(as_of: dt.date | None = None, retry_dead: bool = False) -> dict[str, Any]:
    """Mark newly overdue items (events, escalations planned), then deliver every reminder
    due by now: one digest per person and channel, each outcome recorded."""
    settings = get_settings()
    if as_of is not None:
        check_run_day(as_of, "as_of")
    now = sweep_instant(as_of, settings.timezone)
    today = local_day(now, settings.timezone)
    problems = campaign_problems()
    overdue = mark_overdue_items(today)
    counts = sweep_reminders(now, retry_dead=retry_dead)
    if as_of is None:  # live: a failed delivery is tried again on its schedule, in this run
        counts = _retries_on_schedule(settings, counts)
    totals = reminder_totals()
    reasons = failure_reasons()
    # said only by a sweep that sent nothing (why 发送 0 条): no query on a busy morning
    quiet = not (counts.get("sent") or counts.get("failed"))
    coming = next_due(now, today) if quiet else None
    anchor_audit_chain()  # once a day, with the daily sweep (when an anchor file is set)
    summary = sweep_zh(today, overdue=overdue, counts=counts, totals=totals)
    create_markdown_artifact(
        f"## 提醒（{today}）\n\n"
        + "\n\n".join(summary)
        + "\n"
        + "".join(f"\n- {undelivered_zh(error, n)}" for error, n in reasons)
        + "".join(f"\n- {unread_campaign_zh(p)}" for p in problems),
        key="reminders",
        description="提醒发送情况",
    )
    return {
        "day": today,  # the day the sweep took as today: its summary is dated by it
        "overdue": overdue,
        **counts,
        "totals": totals,
        "reasons": reasons,
        "problems": problems,
        "next_due": coming,
    }


def _retries_on_schedule(settings: Settings, counts: dict[str, int]) -> dict[str, int]:
    """Sweep again when each failed delivery's retry falls due (2, 4, 8 minutes later), until
    none waits any more (each ends sent or dead after MAX_ATTEMPTS)."""
    window = settings.retry_base_seconds * 2**MAX_ATTEMPTS
    total = Counter(counts)
    if counts.get("day_off"):
        return counts  # nothing leaves today: the next working day's sweep retries
    failed = counts.get("failed", 0)
    while (due := next_retry()) is not None:
        wait = (due - utc_now()).total_seconds()
        if wait > window:
            break  # not one of this run's: the next daily sweep takes it
        # minutes of silence read as a hang: say what the run waits for, and that stopping
        # it loses nothing (nothing is claimed while it waits)
        get_run_logger().warning(
            "%d deliveries failed; trying again at %s UTC (in %.0f s); "
            "stopping now leaves them to the next sweep",
            failed,
            due.strftime("%H:%M:%S"),
            max(0.0, wait),
        )
        sleep(max(0.0, wait))
        swept = sweep_reminders(utc_now())
        if not swept.get("sent") and not swept.get("failed"):
            break  # a retry due but not taken (a day off, a claim elsewhere): no loop on it
        total.update(swept)
        failed = swept.get("failed", 0)
    return dict(total)
