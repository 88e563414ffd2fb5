"""Flow: refresh a campaign's progress artifacts (scheduled daily while it runs)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow

from config.settings import get_settings
from flows.run_tags import tag_current_run
from models.store.instant import today_in
from tasks.progress_tasks import publish_progress
from tasks.run_day_tasks import check_run_day


@flow(name="refresh-progress", flow_run_name="{campaign} · 全部环节 · progress")
def refresh_progress(campaign: str, as_of: dt.date | None = None) -> dict[str, Any]:
    tag_current_run([f"campaign:{campaign}"])
    if as_of is not None:  # the UI's progress is today's: a day ahead is `status --as-of`
        check_run_day(as_of, "as_of", campaign)
    return publish_progress(campaign, as_of or today_in(get_settings().timezone))
