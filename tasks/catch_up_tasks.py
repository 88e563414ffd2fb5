"""Tasks of catch-up: the phase states it reads, and the late runs it takes over."""

from __future__ import annotations

import datetime as dt

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    DeploymentFilterTags,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import State, StateType
from prefect.states import Cancelled

from models.store.rollout import campaign_id, phase_statuses
from tasks.context import task_context
from tasks.logs import task_logger


@task(name="read-phase-states", cache_policy=NO_CACHE)
def read_phase_states(campaign: str) -> dict[str, str]:
    with task_context().session() as session:
        return phase_statuses(session, campaign_id(session, campaign))


@task(name="take-over-late-runs", cache_policy=NO_CACHE)
def take_over_late_runs(campaign: str, now: dt.datetime) -> list[str]:
    """Cancel the campaign's scheduled runs (and the daily sweep's) whose time has passed,
    so that workers coming back do not run again what catch-up is about to do. A run a
    worker has already started is left to finish: every flow here converges."""
    with get_client(sync_client=True) as client:
        late = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                expected_start_time=FlowRunFilterExpectedStartTime(before_=now),
            ),
            deployment_filter=DeploymentFilter(
                tags=DeploymentFilterTags(all_=[f"campaign:{campaign}"]),
            ),
        )
        late += client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                expected_start_time=FlowRunFilterExpectedStartTime(before_=now),
            ),
            flow_filter=FlowFilter(name=FlowFilterName(any_=["remind-due"])),
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["daily"])),
        )
        taken: list[str] = []
        for run in late:
            cancelled: State[None] = Cancelled(
                message=f"由 campaign catch-up 于 {now:%Y-%m-%d %H:%M} UTC 补做"
            )
            result = client.set_flow_run_state(run.id, cancelled)
            if result.status.value == "ACCEPT":
                taken.append(run.name)
    task_logger().info("took over %d late runs", len(taken))
    return taken
