"""Publishing progress to the Prefect UI as keyed artifacts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE

from models.progress_text import summary_markdown, town_rows
from models.store.progress import CampaignProgress, campaign_progress
from tasks.context import task_context


def compute_progress(campaign: str, as_of: dt.date) -> CampaignProgress:
    ctx = task_context()
    loaded = ctx.campaign(campaign)
    with ctx.session() as session:
        return campaign_progress(session, loaded, as_of)


@task(name="publish-progress", cache_policy=NO_CACHE)
def publish_progress(campaign: str, as_of: dt.date) -> dict[str, Any]:
    """Artifacts keyed by campaign (and phase): progress, a table by town, a summary."""
    progress = compute_progress(campaign, as_of)
    key = progress.campaign
    create_progress_artifact(
        progress.percent,
        key=f"{key}-progress",
        description=f"{progress.name}：已完成事项占比（截至{progress.as_of}）",
    )
    for phase in progress.phases:
        create_progress_artifact(
            phase.percent,
            key=f"{key}-{phase.key}-progress",
            description=f"{phase.name}：已完成事项占比",
        )
    create_table_artifact(
        town_rows(progress),
        key=f"{key}-towns",
        description=f"{progress.name}：各镇街进度（截至{progress.as_of}）",
    )
    create_markdown_artifact(
        summary_markdown(progress), key=f"{key}-summary", description=f"{progress.name}：进度与目标"
    )
    return progress.as_json()
