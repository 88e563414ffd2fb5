"""Flow: roll out a campaign version, wave by wave, stopping at gates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, pause_flow_run, suspend_flow_run
from prefect.context import get_run_context
from prefect.input import RunInput

from flows.run_tags import tag_current_run
from models.instant import today_in
from models.planning import released_waves
from tasks.progress_tasks import publish_progress
from tasks.rollout_tasks import (
    load_campaign_version,
    plan_rollout,
    read_gate_decisions,
    record_gate_decision,
    refresh_statistics,
    town_batches,
    write_checklist_items,
)


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
) -> dict[str, Any]:
    """Write the checklist items of every wave that may go; at a gate that has no answer,
    wait for one when `wait_at_gates` (the UI shows its form), else stop there.

    Everything before a gate is safe to run again: a resumed suspended run starts from the top.
    """
    logger = get_run_logger()
    ctx = load_campaign_version(campaign, as_of or today_in("Asia/Shanghai"))
    spec = ctx.loaded.spec
    tag_current_run([f"campaign:{spec.key}"])
    planner = plan_rollout(ctx)
    approved, latest = read_gate_decisions(ctx)
    written: set[str | None] = set()
    inserted = _write_waves(ctx, planner, released_waves(spec, approved), written)

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
        inserted += _write_waves(ctx, planner, released_waves(spec, approved), written)

    progress = publish_progress(spec.key, ctx.as_of)
    return {
        "campaign": spec.key,
        "version": ctx.version,
        "inserted": inserted,
        "items": sum(p["items"] for p in progress["phases"]),
        "waiting_at": waiting,
    }


def _write_waves(ctx: Any, planner: Any, waves: set[str | None], written: set[str | None]) -> int:
    todo = waves - written
    if not todo:
        return 0
    inserted = 0
    for i, towns in enumerate(town_batches(planner, todo)):
        inserted += write_checklist_items(ctx, planner, towns, todo, label=f"batch-{i + 1}")
    refresh_statistics(inserted)
    written |= todo
    return inserted


def _wait_for_gate(ctx: Any, gate: str, timeout: int) -> GateInput:
    """Pause (or suspend, in a deployment) until a reviewer answers; a bad answer (unknown
    person, a role that may not answer) is logged and the gate asked again."""
    logger = get_run_logger()
    run = get_run_context().flow_run  # type: ignore[union-attr]
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
