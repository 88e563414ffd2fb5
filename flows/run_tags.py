"""Tagging the running flow run, which a flow called directly cannot do at creation."""

from __future__ import annotations

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext


def tag_current_run(tags: list[str]) -> None:
    """Add tags to the running flow run (a run called directly gets no tags at creation)."""
    context = FlowRunContext.get()
    run = context.flow_run if context is not None else None
    if run is None:
        return
    merged = sorted(set(run.tags) | set(tags))
    if merged != sorted(run.tags):
        with get_client(sync_client=True) as client:
            client.update_flow_run(run.id, tags=merged)
