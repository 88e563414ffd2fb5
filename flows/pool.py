"""The work pool a scaled set-up deploys to, and the automation that finds dead runs in it."""

from __future__ import annotations

import datetime as dt

from prefect.automations import Automation
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.exceptions import ObjectNotFound

from config.settings import get_settings
from models.errors import CampaignError

ZOMBIE_AUTOMATION = "campaign: crash runs whose heartbeats stopped"


def check_pool(pool: str) -> None:
    """The pool exists and its workers start processes; else say how to create it."""
    with get_client(sync_client=True) as client:
        try:
            found = client.read_work_pool(pool)
        except ObjectNotFound:
            raise CampaignError(
                f"{client.api_url} 上没有工作池 {pool}；先建立：prefect work-pool create "
                f"{pool} --type process"
            ) from None
    if found.type != "process":
        raise CampaignError(
            f"工作池 {pool} 的类型是 {found.type}；campaign 只部署到 process 类型的工作池"
            "（其 worker 运行已安装的本项目）"
        )


# A run's life as its events show it. A worker that dies while its run is Pending (picked up,
# process not yet started) or just Running leaves a run that never sends a heartbeat: Prefect's
# own recipe (after a heartbeat, expect another) never fires for it and a rollout waiting on
# that batch waits for ever. So each of these starts the window, and each ends the last one.
_ALIVE = ("prefect.flow-run.Pending", "prefect.flow-run.Running", "prefect.flow-run.heartbeat")
_ENDED = (
    "prefect.flow-run.Completed",
    "prefect.flow-run.Failed",
    "prefect.flow-run.Cancelled",
    "prefect.flow-run.Crashed",
    # not dead, waiting: a gate's pause or suspension, a retry or a resumed run's new schedule
    "prefect.flow-run.Paused",
    "prefect.flow-run.Suspended",
    "prefect.flow-run.Scheduled",
    "prefect.flow-run.AwaitingRetry",
)


def _zombie_automation() -> Automation:
    within = dt.timedelta(seconds=get_settings().zombie_after_seconds)
    return Automation(
        name=ZOMBIE_AUTOMATION,
        description="运行中或已被领取的任务超过规定时间没有心跳（所在机器或worker已停止），标记为Crashed",
        trigger=EventTrigger(
            after=set(_ALIVE),
            expect=set(_ALIVE + _ENDED),
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=within,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"no heartbeat for {within.total_seconds():.0f} s: its worker is gone",
            )
        ],
    )


def ensure_zombie_automation() -> bool:
    """Create, once per server, the automation that marks a run Crashed when its heartbeats
    stop (its machine or worker died), so the rollout re-submits that batch; an older one of
    the same name is brought up to this one. Returns whether it was created or changed now.
    Workers must send heartbeats: PREFECT_FLOWS_HEARTBEAT_FREQUENCY."""
    wanted = _zombie_automation()
    with get_client(sync_client=True) as client:
        found = client.read_automations_by_name(ZOMBIE_AUTOMATION)
    if not found:
        wanted.create()
        return True
    trigger, target = found[0].trigger, wanted.trigger
    if (
        isinstance(trigger, EventTrigger)
        and isinstance(target, EventTrigger)
        and trigger.after == target.after
        and trigger.expect == target.expect
        and trigger.within == target.within
    ):
        return False
    wanted.id = found[0].id
    wanted.update()
    return True
