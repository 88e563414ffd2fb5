"""Flow: roll out a campaign version, wave by wave, stopping at gates."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from prefect import flow, get_run_logger, pause_flow_run, suspend_flow_run
from prefect.context import FlowRunContext
from prefect.input import RunInput

from config.settings import get_settings
from flows.fan_out import run_batches
from flows.run_tags import tag_current_run
from models.domain.planning import released_waves
from models.store.instant import today_in
from tasks.progress_tasks import publish_progress
from tasks.rollout_tasks import (
    BATCH_ITEMS,
    check_reach,
    count_items,
    done_items,
    load_campaign_version,
    plan_rollout,
    read_gate_decisions,
    record_gate_decision,
    refresh_statistics,
    town_batches,
    write_checklist_items,
)
from tasks.run_day_tasks import check_run_day


class GateInput(RunInput):
    """The form a reviewer fills in at a gate (the Prefect UI renders it)."""

    approved: bool
    reviewer: str
    notes: str = ""


@flow(name="rollout-campaign", flow_run_name="{campaign} · 全部环节 · rollout", log_prints=True)
def rollout_campaign(
    campaign: str,
    as_of: dt.date | None = None,
    wait_at_gates: bool = False,
    gate_timeout_seconds: int = 3600,
    batch_deployment: str | None = None,
    batch_items: int = BATCH_ITEMS,
) -> dict[str, Any]:
    """Write the checklist items of every wave that may go; at a gate that has no answer,
    wait for one when `wait_at_gates` (the UI shows its form), else stop there.

    With `batch_deployment` (a `rollout-batch` deployment on a work pool) each group of towns
    of up to `batch_items` items is its own flow run, so the pool's workers share them.

    Everything before a gate is safe to run again: a resumed suspended run starts from the top.
    """
    logger = get_run_logger()
    if as_of is not None:
        check_run_day(as_of, "as_of", campaign)
    ctx = load_campaign_version(campaign, as_of or today_in(get_settings().timezone))
    spec = ctx.loaded.spec
    tag_current_run([f"campaign:{spec.key}"])
    planner = plan_rollout(ctx)
    approved, latest = read_gate_decisions(ctx)
    written: set[str | None] = set()
    fan_out = Batches(batch_deployment, batch_items)
    changes = _write_waves(ctx, planner, released_waves(spec, approved), written, fan_out)

    waiting: list[str] = []
    for wave in spec.waves:
        if wave.key in written or wave.after_gate is None:
            continue
        gate = wave.after_gate
        if latest.get(gate) is False:
            logger.warning("gate %s was rejected: wave %s keeps waiting", gate, wave.key)
            waiting.append(gate)
            continue
        if not wait_at_gates:
            logger.info(
                "wave %s waits at gate %s (answer: campaign gate approve %s %s --by ...)",
                wave.key,
                gate,
                spec.key,
                gate,
            )
            waiting.append(gate)
            continue
        answer = _wait_for_gate(ctx, gate, gate_timeout_seconds)
        if not answer.approved:
            waiting.append(gate)
            continue
        approved.add(gate)
        changes += _write_waves(ctx, planner, released_waves(spec, approved), written, fan_out)

    progress = publish_progress(spec.key, ctx.as_of)
    reach = check_reach(ctx, planner)
    return {
        "campaign": spec.key,
        "version": ctx.version,
        "inserted": changes["inserted"],
        "moved": changes["moved"],
        "cancelled": changes["cancelled"],
        "reminders": changes["reminders"],
        "done_kept": done_items(ctx) if ctx.replan else 0,
        "new_version": ctx.new_version,
        "items": sum(p["items"] for p in progress["phases"]),
        "waiting_at": waiting,
        "unreached": list(reach.unreached),
        "readdressed": {
            "moved": reach.moved,
            "cancelled": reach.cancelled,
            "planned": reach.planned,
        },
    }


@dataclass(frozen=True)
class Batches:
    """Where a rollout's batches run: here, or as runs of a deployment on a pool."""

    deployment: str | None
    items: int


def _write_waves(
    ctx: Any, planner: Any, waves: set[str | None], written: set[str | None], fan_out: Batches
) -> Counter[str]:
    todo = waves - written
    if not todo:
        return Counter()
    groups = town_batches(planner, todo, fan_out.items)
    if fan_out.deployment:
        before = count_items(ctx)
        run_batches(
            fan_out.deployment,
            [
                {
                    "campaign": ctx.loaded.spec.key,
                    "version": ctx.version,
                    "as_of": ctx.as_of.isoformat(),
                    "towns": towns,
                    "waves": sorted(todo, key=lambda w: w or ""),
                    "label": f"batch-{i + 1}",
                    "replan": ctx.replan,
                }
                for i, towns in enumerate(groups)
            ],
        )
        changes = Counter(inserted=count_items(ctx) - before)
    else:
        changes = Counter()
        for i, towns in enumerate(groups):
            changes.update(write_checklist_items(ctx, planner, towns, todo, label=f"batch-{i + 1}"))
    refresh_statistics(changes["inserted"])
    written |= todo
    return changes


def _wait_for_gate(ctx: Any, gate: str, timeout: int) -> GateInput:
    """Pause (or suspend, in a deployment) until a reviewer answers; a bad answer (unknown
    person, a role that may not answer) is logged and the gate asked again."""
    logger = get_run_logger()
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("a gate waits inside a flow run")
    run = context.flow_run
    attempt = 0
    while True:
        attempt += 1
        key = f"gate-{gate}-{attempt}"
        logger.info("waiting at gate %s for a reviewer's answer", gate)
        if run.deployment_id is not None:
            answer = suspend_flow_run(wait_for_input=GateInput, key=key, timeout=timeout)
        else:
            answer = pause_flow_run(wait_for_input=GateInput, key=key, timeout=timeout)
        try:
            record_gate_decision(
                ctx, gate, answer.reviewer, answer.approved, answer.notes, str(run.id)
            )
        except Exception as exc:
            logger.error("gate %s: answer refused: %s", gate, exc)
            continue
        return answer
