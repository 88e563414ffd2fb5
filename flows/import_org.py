"""Flow: import an organization file (the `campaign orgs import` of the Prefect UI)."""

from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run as prefect_flow_run

from config.settings import get_settings
from tasks.org_tasks import import_org_file, publish_org_summary


@flow(name="import-organization", flow_run_name="orgs · import · {path}", log_prints=True)
def import_organization(
    path: str, more: list[str] | None = None, org: str | None = None
) -> dict[str, int | str | bool]:
    """Import units, people and pairings from a .yaml, .csv or .xlsx file (and `more` files
    read with it as one import), all or nothing; `org` names the organization when the
    files do not."""
    url = get_settings().resolved_database_url
    # the audit trail names the run (the Prefect UI shows who started it)
    actor = f"prefect:flow-run:{prefect_flow_run.id}"
    done = import_org_file([path, *(more or [])], url, org, actor)
    for line in done.lines:  # the run's log says what the command prints
        print(line)
    publish_org_summary(done.counts, path, done.lines)
    return done.summary()
