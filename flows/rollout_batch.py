"""Flow: one group of towns of a rollout, run by a worker of the pool (the fan-out's unit)."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from flows.run_tags import tag_current_run
from tasks.rollout_tasks import load_batch_context, plan_rollout, write_checklist_items


@flow(name="rollout-batch", flow_run_name="{campaign} · v{version} · {label}")
def rollout_batch(
    campaign: str,
    version: int,
    as_of: dt.date,
    towns: list[int | None],
    waves: list[str | None],
    label: str,
    replan: bool = False,
) -> int:
    """Write these towns' items of the stored version in one transaction; returns how many
    were new. Safe to run again: a re-run after a crash writes only what is missing."""
    tag_current_run([f"campaign:{campaign}", "rollout-batch"])
    ctx = load_batch_context(campaign, version, as_of, replan)
    planner = plan_rollout(ctx)
    return write_checklist_items(ctx, planner, towns, set(waves), label=label)["inserted"]
