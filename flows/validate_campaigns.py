"""Flow: validate campaign files (the `campaign validate` of the Prefect UI)."""

from __future__ import annotations

from prefect import flow, task
from prefect.artifacts import create_table_artifact

from config.campaign_files import calendar_for, read_campaign, shipped_campaigns
from config.settings import get_settings
from models.errors import SpecError


@task(name="check-campaign-files")
def check_campaign_files(files: list[str]) -> list[dict[str, str]]:
    settings = get_settings()
    calendar = calendar_for(settings)
    rows = []
    for file in files:
        try:
            loaded = read_campaign(settings, file, calendar)
        except SpecError as exc:
            rows += [{"file": file, "result": "invalid", "problem": p} for p in exc.problems]
            continue
        rows.append({"file": file, "result": "ok", "problem": loaded.spec.key})
    return rows


@flow(name="validate-campaigns", flow_run_name="campaigns · validate")
def validate_campaigns(files: list[str] | None = None) -> int:
    """Check campaign files (default: every shipped one); fails when any is invalid."""
    files = files or [str(p) for p in shipped_campaigns(get_settings())]
    rows = check_campaign_files(files)
    create_table_artifact(key="campaign-validation", table=rows, description="方案校验结果")
    problems = [r["problem"] for r in rows if r["result"] == "invalid"]
    if problems:
        raise SpecError(problems)
    return len(files)
