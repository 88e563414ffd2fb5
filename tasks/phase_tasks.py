"""Tasks that open and close a campaign's phases."""

from __future__ import annotations

import datetime as dt

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from models.store import audit
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.reminders import plan_initial_reminders
from models.store.rollout import campaign_id, close_phase, in_phase, open_phase
from tasks.context import task_context
from tasks.progress_tasks import compute_progress


@task(name="open-phase-items", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def open_phase_items(campaign: str, phase: str, on: dt.date) -> int:
    """Pending items of the phase become open (due); running it twice opens nothing more."""
    ctx = task_context()
    with ctx.session() as session:
        cid = campaign_id(session, campaign)
        opened = open_phase(session, cid, phase, on)
        if opened:
            spec = ctx.campaign(campaign).spec
            plan_initial_reminders(
                session,
                spec=spec,
                campaign=cid,
                org=load_snapshot(session, spec.organization),
                calendar=ctx.calendar,
                where=[in_phase(phase)],
            )
            audit.append(
                session,
                actor="system",
                action="phase.opened",
                entity="phase",
                entity_key=f"{campaign}:{phase}",
                payload={"items": opened, "on": on.isoformat()},
                now=utc_now(),
            )
        return opened


@task(name="close-phase", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def close_phase_task(campaign: str, phase: str, on: dt.date) -> bool:
    with task_context().session() as session:
        closed = close_phase(session, campaign_id(session, campaign), phase, on)
        if closed:
            audit.append(
                session,
                actor="system",
                action="phase.closed",
                entity="phase",
                entity_key=f"{campaign}:{phase}",
                payload={"on": on.isoformat()},
                now=utc_now(),
            )
        return closed


@task(name="publish-phase-summary", cache_policy=NO_CACHE)
def publish_phase_summary(campaign: str, phase: str, on: dt.date) -> dict[str, object]:
    """The closing phase's numbers as a keyed markdown artifact."""
    progress = compute_progress(campaign, on)
    p = next(x for x in progress.phases if x.key == phase)
    towns = "\n".join(
        f"| {t.name} | {t.items} | {t.accepted} | {t.overdue} | {t.percent}% |"
        for t in progress.towns
    )
    create_markdown_artifact(
        f"## {progress.name} · {p.name}（{p.starts} 至 {p.ends}）\n\n"
        f"环节结束：事项 {p.items} 项，已完成 {p.accepted} 项（{p.percent}%），"
        f"逾期 {p.overdue} 项。\n\n全活动各镇街：\n\n"
        "| 镇街 | 事项 | 已完成 | 逾期 | 完成率 |\n|---|---:|---:|---:|---:|\n"
        f"{towns}\n",
        key=f"{campaign}-{phase}-summary",
        description=f"{p.name}环节小结",
    )
    return {
        "key": p.key,
        "items": p.items,
        "accepted": p.accepted,
        "overdue": p.overdue,
        "percent": p.percent,
    }
