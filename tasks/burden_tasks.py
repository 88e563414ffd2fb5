"""What a rehearsed campaign asks of each town, week by week, as a table in the Prefect UI."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from models.domain.burden import town_loads, week_of, weigh
from models.store.orgs import load_snapshot
from tasks.context import task_context


@task(name="publish-town-load", cache_policy=NO_CACHE)
def publish_town_load(campaign: str, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Each town's weekly load over [start, end]: one row per town and week."""
    ctx = task_context()
    loaded = ctx.campaign(campaign)
    with ctx.read_session() as session:
        org = load_snapshot(session, loaded.spec.organization)
    burden = weigh(
        [(loaded.spec, loaded.phase_dates)],
        org,
        ctx.calendar,
        since=start,
        until=end,
        period=week_of,
    )
    rows = [
        {
            "镇街": town,
            "周": week,
            "事项": load.items,
            "报送": load.submissions,
            "附件": load.files,
            "签字": load.sign_offs,
            "会议": load.meetings,
        }
        for town, week, load in town_loads(burden, org)
    ]
    create_table_artifact(
        key=f"town-load-{loaded.spec.key}",
        table=rows,
        description=f"{loaded.spec.name}：各镇（街道）每周负担（{start}至{end}）",
    )
    return rows
