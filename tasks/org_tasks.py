"""Tasks over the organization tree."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from sqlmodel import Session

from config.org_file import read_org_files
from config.settings import os_login
from models.domain.campaign import CampaignSpec
from models.domain.org_import import ImportResult, Readdressed
from models.domain.org_snapshot import OrgSnapshot
from models.domain.reminder_planning import unreached
from models.domain.wording import UNIT_KIND_NAMES_ZH, default_roles_zh, org_import_zh, unreached_zh
from models.domain.working_days import WorkCalendar
from models.store import audit, db
from models.store.catalog import campaigns_of, stored_org_names, stored_vocabulary
from models.store.instant import utc_now
from models.store.orgs import OrgCounts, import_org, load_snapshot, org_counts, org_id_of
from models.store.reminders import owed_unit_items, plan_missing, readdress_pending
from models.store.rollout import campaign_id, cancel_items_of_units
from tasks.channels import unusable_channels
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
) -> OrgImported:
    """Check and write organization files, as one import, in a single transaction."""
    with db.session_for(database_url) as session:
        return import_org_files(task_context(), session, [Path(p) for p in paths], org, actor)


@dataclass(frozen=True)
class OrgImported:
    result: ImportResult
    after: Readdressed
    lines: list[str]  # what the import did, in the words the planner reads
    counts: OrgCounts  # what the organization holds after it

    def summary(self) -> dict[str, int | str | bool]:
        """The import-organization flow's result, as the UI shows it."""
        return {
            **asdict(self.result),
            "reminders_moved": self.after.moved,
            "reminders_cancelled": self.after.cancelled,
            "reminders_planned": self.after.planned,
        }


def import_org_files(
    run: TaskContext, session: Session, paths: list[Path], org: str | None, actor: str
) -> OrgImported:
    """One organization import, the command's and the flow's: read the files as one import,
    write it, then readdress and plan the reminders of the organization's campaigns, all in
    the caller's transaction."""
    data = read_org_files(paths)
    result = import_org(session, data, org, actor=actor, operator=os_login())
    after = (
        readdress_reminders(run, session, result.org, actor) if result.changed else Readdressed()
    )
    source = str(paths[0]) if len(paths) == 1 else f"{len(paths)} 个文件"
    names = stored_org_names(session, result.org)
    lines = org_import_zh(result, after, source, names) + unusable_channels(data.people)
    if result.created:
        vocabulary = stored_vocabulary(session, result.org)
        lines += default_roles_zh(vocabulary, names) if vocabulary else []
    return OrgImported(result, after, lines, org_counts(session, org_id_of(session, result.org)))


@task(name="publish-org-summary")
def publish_org_summary(counts: OrgCounts, source: str, lines: list[str]) -> None:
    """A markdown artifact, so the UI shows what the import did and what the tree holds."""
    rows = "\n".join(f"| {UNIT_KIND_NAMES_ZH.get(k, k)} | {v} |" for k, v in counts.units.items())
    said = "".join(f"- {line}\n" for line in lines)
    create_markdown_artifact(
        key="org-summary",
        markdown=(
            f"## 组织机构\n\n来源：`{source}`\n\n{said}\n| 类型 | 数量 |\n|---|---:|\n{rows}\n\n"
            f"人员 {counts.people} 人，结对 {counts.pairings} 对，角色 {counts.roles} 种\n"
        ),
        description="组织机构汇总",
    )


def readdress_reminders(
    run: TaskContext, session: Session, org_key: str, actor: str = "system"
) -> Readdressed:
    """After an import changed who is who, in its transaction: what units tagged 已撤销 still
    owed is cancelled, the reminders not yet sent of every campaign of the organization go
    to whom they would be planned for now (a new secretary, not the one who left), those
    nobody could be given are planned, and what still reaches nobody is said."""
    keys = campaigns_of(session, org_key)
    if not keys:
        return Readdressed()
    session.flush()
    org = load_snapshot(session, org_key)
    retired = {u.id: u.code for u in org.units.values() if u.retired}
    cancelled = cancel_items_of_units(session, unit_ids=retired)
    if cancelled:
        units = sorted({retired[c.unit_id] for c in cancelled})
        audit.append(
            session,
            actor=actor,
            action="items.cancelled",
            entity="org",
            entity_key=org_key,
            payload={"retired": units, "items": [c.id for c in cancelled]},
            now=utc_now(),
        )
    done = [
        readdress_campaign(session, run.stored_in(session, key).spec, org, run.calendar)
        for key in keys
    ]
    return Readdressed(
        sum(d.moved for d in done),
        sum(d.cancelled for d in done),
        sum(d.planned for d in done),
        tuple(f"{key}：{note}" for key, d in zip(keys, done, strict=True) for note in d.unreached),
        # the units whose items were cancelled now (a unit retired before has none left)
        len({c.unit_id for c in cancelled}),
        len(cancelled),
    )


def readdress_campaign(
    session: Session, spec: CampaignSpec, org: OrgSnapshot, calendar: WorkCalendar
) -> Readdressed:
    """After the organization or the campaign's own roles changed: its reminders not yet
    sent go to whom they would be planned for now, those nobody could be given are planned,
    and what still reaches nobody is said."""
    campaign = campaign_id(session, spec.key)
    done = readdress_pending(session, spec=spec, campaign=campaign, org=org)
    planned = plan_missing(session, spec=spec, campaign=campaign, org=org, calendar=calendar)
    notes = unreached_notes(session, spec, campaign, org)
    return Readdressed(done.moved, done.cancelled, planned, tuple(notes))


def unreached_notes(
    session: Session, spec: CampaignSpec, campaign: int, org: OrgSnapshot
) -> list[str]:
    """What of a campaign reaches nobody, in the words a planner acts on."""
    gap = unreached(org, spec, owed_unit_items(session, campaign))
    return unreached_zh(gap, [org.units[u].name for u in gap.units], org.role_names)
