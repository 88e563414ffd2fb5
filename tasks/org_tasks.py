"""Tasks over the organization tree."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from sqlmodel import Session

from config.org_file import read_org_files
from config.settings import os_login
from models.domain.campaign import CampaignSpec
from models.domain.org_snapshot import OrgSnapshot
from models.domain.reminder_planning import unreached
from models.domain.wording import unreached_zh
from models.org_rules import UNIT_KIND_NAMES_ZH
from models.store import db
from models.store.catalog import campaigns_of
from models.store.orgs import OrgCounts, import_org, load_snapshot, org_counts, org_id_of
from models.store.reminders import Readdressed, owed_unit_items, plan_missing, readdress_pending
from models.store.rollout import campaign_id
from tasks.context import TaskContext, task_context
from tasks.retry import retry_unless_user_error


@task(
    name="import-org-file",
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=retry_unless_user_error,
)
def import_org_file(
    paths: list[str], database_url: str, org: str | None = None, actor: str = "system"
) -> dict[str, int | str | bool]:
    """Check and write organization files, as one import, in a single transaction."""
    with db.session_for(database_url) as session:
        data = read_org_files([Path(p) for p in paths])
        result = import_org(session, data, org, actor=actor, operator=os_login())
        readdressed = (
            readdress_reminders(task_context(), session, result.org)
            if result.changed
            else Readdressed()
        )
    return {
        **asdict(result),
        "reminders_moved": readdressed.moved,
        "reminders_cancelled": readdressed.cancelled,
        "reminders_planned": readdressed.planned,
    }


@task(name="count-org")
def count_org(database_url: str, org: str) -> OrgCounts:
    with db.session_for(database_url) as session:
        return org_counts(session, org_id_of(session, org))


@task(name="publish-org-summary")
def publish_org_summary(counts: OrgCounts, source: str) -> None:
    """A markdown artifact, so the UI shows what the tree holds after an import."""
    rows = "\n".join(f"| {UNIT_KIND_NAMES_ZH.get(k, k)} | {v} |" for k, v in counts.units.items())
    create_markdown_artifact(
        key="org-summary",
        markdown=(
            f"## 组织机构\n\n来源：`{source}`\n\n| 类型 | 数量 |\n|---|---:|\n{rows}\n\n"
            f"人员 {counts.people} 人，结对 {counts.pairings} 对，角色 {counts.roles} 种\n"
        ),
        description="组织机构汇总",
    )


def readdress_reminders(run: TaskContext, session: Session, org_key: str) -> Readdressed:
    """After an import changed who is who, in its transaction: the reminders not yet sent of
    every campaign of the organization go to whom they would be planned for now (a new
    secretary, not the one who left), and those nobody could be given are planned."""
    moved = cancelled = planned = 0
    keys = campaigns_of(session, org_key)
    if not keys:
        return Readdressed()
    session.flush()
    org = load_snapshot(session, org_key)
    for key in keys:
        spec, campaign = run.stored_in(session, key).spec, campaign_id(session, key)
        done = readdress_pending(session, spec=spec, campaign=campaign, org=org)
        moved, cancelled = moved + done.moved, cancelled + done.cancelled
        planned += plan_missing(
            session, spec=spec, campaign=campaign, org=org, calendar=run.calendar
        )
    return Readdressed(moved, cancelled, planned)


def unreached_notes(
    session: Session, spec: CampaignSpec, campaign: int, org: OrgSnapshot
) -> list[str]:
    """What of a campaign reaches nobody, in the words a planner acts on."""
    gap = unreached(org, spec, owed_unit_items(session, campaign))
    return unreached_zh(gap, [org.units[u].name for u in gap.units], org.role_names)


def unreached_of_org(run: TaskContext, session: Session, org_key: str) -> list[str]:
    """The same for each campaign of an organization, each line under its campaign's key."""
    org = load_snapshot(session, org_key)
    return [
        f"{key}：{note}"
        for key in campaigns_of(session, org_key)
        for note in unreached_notes(
            session, run.stored_in(session, key).spec, campaign_id(session, key), org
        )
    ]
