"""Tasks over the organization tree."""

from __future__ import annotations

import getpass
from dataclasses import asdict
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact

from config.org_file import read_org_files
from models.org_rules import UNIT_KIND_NAMES_ZH
from models.store import db
from models.store.orgs import OrgCounts, import_org, org_counts, org_id_of
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
        result = import_org(session, data, org, actor=actor, operator=getpass.getuser())
    return asdict(result)


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
