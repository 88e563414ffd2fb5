"""Running a rollout's batches as flow runs of a deployment, so every worker of the pool
takes some; the rollout's own run waits for them and re-submits a batch whose run crashed.

A run crashes when its worker dies: a killed process leaves its run Running until the pool's
zombie automation (created by `campaign deploy --pool`) sees its heartbeats stop and marks it
Crashed. A batch is one transaction, so its re-run writes exactly what the crashed one did not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment

# A crash is a dead machine or process, not a bad batch: worth a second and third try.
CRASH_RESUBMITS = 2
POLL_SECONDS = 2.0


class BatchFailed(RuntimeError):
    """A batch run ended failed or cancelled, or crashed more often than it is re-submitted."""


@dataclass
class _Batch:
    parameters: dict[str, Any]
    run_id: UUID | None = None
    crashes: int = 0
    runs: list[UUID] = field(default_factory=list)


def _submit(deployment: str, batch: _Batch) -> None:
    # Called from a sync flow, so the sync branch of Prefect's async_dispatch answers.
    run = cast(
        FlowRun,
        run_deployment(name=deployment, parameters=batch.parameters, timeout=0, as_subflow=True),
    )
    batch.run_id = run.id
    batch.runs.append(run.id)


def run_batches(deployment: str, batches: list[dict[str, Any]]) -> int:
    """Submit every batch, wait until all completed; returns how many runs were submitted."""
    logger = get_run_logger()
    todo = [_Batch(p) for p in batches]
    for batch in todo:
        _submit(deployment, batch)
    logger.info("submitted %d batch runs of %s", len(todo), deployment)
    waiting = {b.run_id: b for b in todo}
    with get_client(sync_client=True) as client:
        while waiting:
            time.sleep(POLL_SECONDS)
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(waiting)))
            )
            for run in runs:
                if run.state is None or not run.state.is_final():
                    continue
                batch = waiting.pop(run.id)
                if run.state.type == StateType.COMPLETED:
                    continue
                label = batch.parameters["label"]
                if run.state.type == StateType.CRASHED and batch.crashes < CRASH_RESUBMITS:
                    batch.crashes += 1
                    logger.warning(
                        "batch %s crashed (%s): submitted again", label, run.state.message
                    )
                    _submit(deployment, batch)
                    waiting[batch.run_id] = batch
                    continue
                raise BatchFailed(
                    f"批次 {label}：运行 {run.name} 以 {run.state.name} 结束：{run.state.message}"
                )
    return sum(len(b.runs) for b in todo)
