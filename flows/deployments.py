"""A loaded campaign as Prefect deployments, scheduled on its dates in its timezone.

One deployment per flow and campaign (named after the campaign), with one schedule per phase
(slugged by phase key), so that deploying again after the file changed replaces exactly the
schedules it had. A duplicate scheduled run is harmless: every flow here converges.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, RRule
from prefect.types.entrypoint import EntrypointType

from flows.inspection import inspect_campaign
from flows.phase import close_campaign_phase, open_campaign_phase
from flows.pool import check_pool, ensure_zombie_automation
from flows.refresh_progress import refresh_progress
from flows.remind import remind_due
from flows.rollout import rollout_campaign
from flows.rollout_batch import rollout_batch
from models.domain.campaign import LoadedCampaign
from models.errors import CampaignError

OPEN_AT = dt.time(7, 0)  # before the 09:00 reminder sweep, so the day's items are due
CLOSE_AT = dt.time(20, 0)
REFRESH_AT = dt.time(9, 30)
REMIND_AT = dt.time(9, 0)
INSPECT_AT = dt.time(8, 0)  # checks and re-inspections made before the morning's reminders


def _stamp(day: dt.date, at: dt.time) -> str:
    return f"{day:%Y%m%d}T{at:%H%M%S}"


def once(day: dt.date, at: dt.time, timezone: str, slug: str, parameters: dict[str, Any]) -> Any:
    return RRule(
        f"DTSTART:{_stamp(day, at)}\nRRULE:FREQ=DAILY;COUNT=1",
        timezone=timezone,
        slug=slug,
        parameters=parameters,
    )


def inspection_deployments(loaded: LoadedCampaign, pool: str | None) -> list[RunnerDeployment]:
    """A daily run of the campaign's checks while they can fall due: from its first day to
    its last, plus the longest rectification time for the last re-inspections."""
    spec = loaded.spec
    if not spec.inspections:
        return []
    dates = loaded.phase_dates
    first = min(d.starts for d in dates.values())
    last = max(d.ends for d in dates.values())
    last = last.add(days=2 * max(i.rectify_within for i in spec.inspections))
    # Built in sync code, so the sync branch of Prefect's async_dispatch answers.
    deployment = inspect_campaign.to_deployment(
        **placement(pool),
        name=spec.key,
        tags=[f"campaign:{spec.key}", "inspection"],
        parameters={"campaign": spec.key},
        schedules=[
            RRule(
                f"DTSTART:{_stamp(first, INSPECT_AT)}\n"
                f"RRULE:FREQ=DAILY;UNTIL={_stamp(last, INSPECT_AT)}",
                timezone=spec.timezone,
                slug="daily",
            )
        ],
        description=f"{spec.name}：每日08:00生成到期的抽查和复查",
    )
    return [cast(RunnerDeployment, deployment)]


def placement(pool: str | None) -> dict[str, Any]:
    """Where a deployment's runs go: served by `campaign serve` (None), or a work pool's
    workers, which import the flow by module from the installed project on their machine."""
    if pool is None:
        return {}
    return {"work_pool_name": pool, "entrypoint_type": EntrypointType.MODULE_PATH}


def batch_deployment_name(campaign: str) -> str:
    return f"rollout-batch/{campaign}"


def campaign_deployments(
    loaded: LoadedCampaign, pool: str | None = None, fan_out: bool = False
) -> list[RunnerDeployment]:
    """The campaign's deployments. With a pool there is also `rollout-batch/KEY`; with
    `fan_out` the scheduled rollout gives it each group of towns (else it writes them in its
    own run, which measured faster on one machine: see README, Speed)."""
    spec = loaded.spec
    where = placement(pool)
    rollout_parameters: dict[str, Any] = {"campaign": spec.key, "wait_at_gates": True}
    batches = []
    if pool is not None:
        if fan_out:
            rollout_parameters["batch_deployment"] = batch_deployment_name(spec.key)
        batches.append(
            rollout_batch.to_deployment(
                **where,
                name=spec.key,
                tags=[f"campaign:{spec.key}", "rollout-batch"],
                description=f"{spec.name}：一组镇街的事项（由rollout分派给各worker）",
            )
        )
    tz = spec.timezone
    dates = loaded.phase_dates
    first = min(d.starts for d in dates.values())
    last = max(d.ends for d in dates.values())
    tags = [f"campaign:{spec.key}"]
    iso = dt.date.isoformat

    def phase_edges(flow: Any, edge: str, at: dt.time, what: str) -> Any:
        """One schedule per phase on the day it starts (or ends), for the phase flow."""
        return flow.to_deployment(
            **where,
            name=spec.key,
            tags=tags,
            parameters={"campaign": spec.key},
            schedules=[
                once(
                    getattr(dates[p.key], edge),
                    at,
                    tz,
                    p.key,
                    {"phase": p.key, "on": iso(getattr(dates[p.key], edge))},
                )
                for p in spec.phases
            ],
            description=f"{spec.name}：{what}",
        )

    return [
        rollout_campaign.to_deployment(
            **where,
            name=spec.key,
            tags=tags,
            parameters=rollout_parameters,
            schedules=[once(first, dt.time(0, 5), tz, "rollout", {"as_of": iso(first)})],
            description=f"{spec.name}：按波次生成事项，试点后等待闸门批准",
        ),
        phase_edges(open_campaign_phase, "starts", OPEN_AT, "各环节开始"),
        phase_edges(close_campaign_phase, "ends", CLOSE_AT, "各环节结束并发布小结"),
        remind_due.to_deployment(
            **where,
            name="daily",
            tags=["reminders"],
            schedules=[Cron(f"{REMIND_AT.minute} {REMIND_AT.hour} * * *", timezone=tz)],
            description="每日09:00发送到期提醒（只在工作日有提醒）",
        ),
        refresh_progress.to_deployment(
            **where,
            name=spec.key,
            tags=tags,
            parameters={"campaign": spec.key},
            schedules=[
                RRule(
                    f"DTSTART:{_stamp(first, REFRESH_AT)}\n"
                    f"RRULE:FREQ=DAILY;UNTIL={_stamp(last, REFRESH_AT)}",
                    timezone=tz,
                    slug="daily",
                )
            ],
            description=f"{spec.name}：每日刷新进度",
        ),
        *inspection_deployments(loaded, pool),
        *batches,
    ]


def deploy_campaign(
    loaded: LoadedCampaign, pool: str | None = None, fan_out: bool = False
) -> list[str]:
    """Create or update the campaign's deployments; returns their full names."""
    if pool is not None:
        check_pool(pool)
        ensure_zombie_automation()
    names = []
    if fan_out and pool is None:
        raise CampaignError("--fan-out 须与 --pool 同用：分批的运行由工作池的 worker 执行")
    for deployment in campaign_deployments(loaded, pool, fan_out):
        deployment.apply()
        names.append(deployment.full_name)
    return names
