"""Flow: make a campaign's checks that are due (the `campaign inspect` of the Prefect UI)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow

from config.settings import get_settings
from flows.run_tags import tag_current_run
from models.store.instant import today_in
from tasks.inspection_tasks import make_checks
from tasks.run_day_tasks import check_run_day


@flow(name="inspect-campaign", flow_run_name="{campaign} · 抽查 · {as_of}")
def inspect_campaign(campaign: str, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Create the checks due by `as_of` (default today) with their samples, and the
    re-inspections of rectifications whose deadline has passed."""
    tag_current_run([f"campaign:{campaign}", "inspection"])
    if as_of is not None:
        check_run_day(as_of, "as_of", campaign)
    day = as_of or today_in(get_settings().timezone)
    return make_checks(campaign, day)
