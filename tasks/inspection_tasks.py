"""Tasks of inspections: make the checks that are due."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from models.store.inspections import run_inspections
from models.store.instant import utc_now
from models.store.phase_clock import bring_to_day
from models.store.rollout import campaign_id
from tasks.context import task_context
from tasks.logs import task_logger


@task(name="make-checks", cache_policy=NO_CACHE, task_run_name="make-checks · {as_of}")
def make_checks(
    campaign: str, as_of: dt.date, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The checks due by `as_of` and the re-inspections of rectifications past their
    deadline, each with its sample; nothing twice."""
    ctx = task_context()
    loaded = ctx.campaign(campaign)
    with ctx.session() as session:
        bring_to_day(session, loaded, ctx.calendar, as_of, now=now or utc_now())
        made = run_inspections(
            session,
            loaded=loaded,
            campaign=campaign_id(session, loaded.spec.key),
            calendar=ctx.calendar,
            as_of=as_of,
            now=now or utc_now(),
        )
    for check in made:
        task_logger().info("check %s %s: %d sampled", check.inspection, check.label, check.sampled)
    return [asdict(m) for m in made]
