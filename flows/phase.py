"""Flows: open and close a campaign's phase on its dates."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from flows.run_tags import tag_current_run
from tasks.phase_tasks import close_phase_task, open_phase_items, publish_phase_summary
from tasks.progress_tasks import publish_progress
from tasks.run_day_tasks import check_run_day


@flow(name="open-phase", flow_run_name="{campaign} · {phase} · open")
def open_campaign_phase(campaign: str, phase: str, on: dt.date) -> int:
    """The phase's items become due. Safe to run twice (a duplicate scheduled run)."""
    tag_current_run([f"campaign:{campaign}", f"phase:{phase}"])
    check_run_day(on, "on", campaign)
    opened = open_phase_items(campaign, phase, on)
    publish_progress(campaign, on)
    return opened


@flow(name="close-phase", flow_run_name="{campaign} · {phase} · close")
def close_campaign_phase(campaign: str, phase: str, on: dt.date) -> dict[str, object]:
    """Close the phase and publish its summary. Safe to run twice."""
    tag_current_run([f"campaign:{campaign}", f"phase:{phase}"])
    check_run_day(on, "on", campaign)
    close_phase_task(campaign, phase, on)
    summary = publish_phase_summary(campaign, phase, on)
    publish_progress(campaign, on)
    return summary
