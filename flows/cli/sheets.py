"""`campaign evidence template|import`: evidence kept offline in spreadsheets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from config.evidence_sheet import read_evidence_sheet
from flows.cli.app import acting, context, evidence_app, parse_day, say
from flows.cli.params import CampaignArg, UnitOption
from models.domain.planning import begun
from models.domain.wording import STATUS_ZH, windows_ahead_zh
from models.errors import CampaignError
from models.evidence_template import write_template
from models.store import audit
from models.store.evidence_import import import_rows
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.rollout import campaign_id, to_answer


@evidence_app.command("template")
def template(
    campaign: CampaignArg,
    xlsx: Annotated[Path, typer.Option(help="工作簿写到哪里")],
    unit: UnitOption = None,
) -> None:
    """生成离线填写的工作簿：每个未办事项一行，并写明每项要报什么。"""
    run = context()
    loaded = run.campaign(campaign)
    with run.session() as session:
        org = load_snapshot(session, loaded.spec.organization)
        items = to_answer(session, campaign_id(session, loaded.spec.key))
        if unit is not None:
            root = org.unit_coded(unit).id  # NotFound before a workbook is written
            items = [i for i in items if org.is_within(i.unit_id, root)]
        today = parse_day(None)
        listed = begun(items, today)
        rows = write_template(xlsx, listed.now, loaded, org)
    ahead = listed.ahead
    later = f"；{windows_ahead_zh(len(ahead), min(ahead), today)}" if ahead else ""
    say(f"已写出 {xlsx}：{rows} 个待办事项{later}")


@evidence_app.command("import")
def import_sheet(
    file: Annotated[Path, typer.Argument(metavar="文件", help="填好的模板（.xlsx）或 .csv")],
    campaign: Annotated[str | None, typer.Option(help="活动编码（默认取模板里写明的）")] = None,
    by: Annotated[str | None, typer.Option(help="没有填“录入人”的行由谁登记（人员编码）")] = None,
) -> None:
    """逐行登记，要么全部登记，要么一条不写：有错的行报 文件:行: 说明；
    行里写的文件从表格所在目录读取。"""
    run = context()
    key = campaign or _template_campaign(file)
    loaded = run.campaign(key)
    rows = read_evidence_sheet(file)
    org_key = loaded.spec.organization
    default = acting(by, org_key).person
    # each row's person is judged as --by would be: rows of others only for an operator
    # allowed to enter for others, and then the audit says who typed them in
    typists = {acting(r.by or default, org_key).entered_by for r in rows} - {None}
    with (
        run.session() as session,
        audit.entered_by(next(iter(typists), None)),
    ):
        done = import_rows(
            session,
            loaded=loaded,
            org=load_snapshot(session, loaded.spec.organization),
            rows=rows,
            default_by=default,
            sheet_dir=file.parent,
            home=run.settings.home.resolve(),
            max_bytes=run.settings.max_file_bytes,
            calendar=run.calendar,
            now=utc_now(),
        )
    summary = "，".join(f"{STATUS_ZH.get(k, k)}{v}项" for k, v in sorted(done.items()))
    say(f"已导入 {file}：{sum(done.values())} 行（{summary}）")


def _template_campaign(file: Path) -> str:
    if file.suffix.lower() in (".xlsx", ".xlsm") and file.is_file():
        from openpyxl import load_workbook

        title = load_workbook(file, read_only=True).properties.title
        if title:
            return title
    raise CampaignError(f"{file}：请用 --campaign 指明活动")
