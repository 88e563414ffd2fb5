"""The planner's commands: a campaign as a workbook and back (`plan export`, `plan import`),
and the burden the campaigns put on each unit (`burden`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from config.burden_workbook import write_burden_workbook
from config.campaign_files import (
    org_role_names,
    parse_text,
    rolled_out_keys,
    shipped_campaigns,
)
from config.campaign_workbook import (
    campaign_from_workbook,
    write_campaign_workbook,
)
from config.spec import as_written
from config.workbooks import save_in_place
from flows.cli import console as view
from flows.cli.app import PREPARE, app, context, out, parse_day, say, say_warnings
from flows.cli.params import CampaignArg, UnitOption
from models.domain.campaign import LoadedCampaign
from models.errors import CampaignError, ImportRejected, SpecError
from tasks.context import TaskContext

plan_app = typer.Typer(help="活动与工作簿（Excel、WPS）互转。", no_args_is_help=True)
app.add_typer(plan_app, name="plan", rich_help_panel=PREPARE)


@plan_app.command("export")
def plan_export(
    campaign: CampaignArg,
    xlsx: Annotated[Path, typer.Option("--xlsx", help="要写出的工作簿")],
) -> None:
    """把活动写成工作簿：中文表头，带下拉选项。"""
    run = context()
    loaded = run.campaign(campaign)
    write_campaign_workbook(
        as_written(loaded), xlsx, org_role_names(run.settings, loaded.spec.organization)
    )
    obligations = sum(len(p.obligations) for p in loaded.spec.phases)
    say(
        f"{xlsx}: {loaded.spec.key}（{loaded.spec.name}）：环节{len(loaded.spec.phases)}个，"
        f"事项{obligations}项"
    )


@plan_app.command("import")
def plan_import(
    xlsx: Annotated[Path, typer.Argument(metavar="工作簿", help="工作簿（.xlsx）")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="要写出的活动文件（默认与工作簿同目录）"),
    ] = None,
    replace: Annotated[bool, typer.Option(help="替换已有的活动文件")] = False,
) -> None:
    """把工作簿读回活动文件并校验；每个问题写成 文件:工作表!单元格: 说明，
    整个活动无误才写出文件。"""
    run = context()
    target = out_file or xlsx.with_suffix(".yaml")
    try:
        loaded, text, cell_of = campaign_from_workbook(run.settings, xlsx)
    except (ImportRejected, SpecError) as exc:
        for line in exc.problems:
            say(line)
        say(f"{xlsx}: 未导入，什么也没有写")
        raise typer.Exit(2) from None
    if target.exists() and not replace:
        raise CampaignError(f"{target} 已存在；确认要替换时加 --replace")
    # the text as it will be read from the file, checked before anything is written
    again = parse_text(run.settings, text, target.resolve(), run.calendar)
    if again.spec != loaded.spec:
        raise CampaignError(f"{target}: 写出的文件与工作簿不一致（请报告此问题）")
    save_in_place(target, lambda scratch: Path(scratch).write_text(text, encoding="utf-8"))
    say(view.valid_line(target, loaded))
    say_warnings(loaded, lambda loc: f"{cell_of(loc)}")


@app.command(rich_help_panel=PREPARE)
def burden(
    campaigns: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="活动...",
            help="活动编码或活动文件（默认：已下发的活动，及活动目录下组织已导入的活动）",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="只算此日（YYYY-MM-DD）及以后到期的事项")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="只算此日（YYYY-MM-DD）及以前到期的事项")
    ] = None,
    unit: UnitOption = None,
    xlsx: Annotated[Path | None, typer.Option(help="同时把每个单位的逐月负担写入此工作簿")] = None,
) -> None:
    """各活动逐月要每个单位做什么（事项、报送、文件、签字、会议），负担最重的单位和月份，
    以及两个活动在同一时段向同一单位要同一份材料之处（报一次即可两用）。"""
    from models.domain.burden import weigh
    from models.store.orgs import load_snapshot, organizations

    run = context()
    calendar = run.calendar
    first = parse_day(since, "--from") if since else None
    last = parse_day(until, "--to") if until else None
    with run.read_session() as session:
        known = {o.key for o in organizations(session)}
        if campaigns:
            loaded = [run.campaign(name) for name in campaigns]
        else:
            loaded = _campaigns_here(run, known)
        orgs = sorted({c.spec.organization for c in loaded})
        missing = [o for o in orgs if o not in known]
        if missing:
            raise CampaignError(
                f"组织 {'、'.join(missing)} 尚未导入：先运行 campaign orgs import 组织文件"
            )
        snapshots = {o: load_snapshot(session, o) for o in orgs}
    for org, snapshot in snapshots.items():
        mine = [c for c in loaded if c.spec.organization == org]
        under = None
        if unit is not None:
            under = snapshot.unit_coded(unit).id
        weighed = weigh(
            [(c.spec, c.phase_dates) for c in mine],
            snapshot,
            calendar,
            since=first,
            until=last,
            under=under,
        )
        named = snapshot.top_name or org
        out.print(view.burden_months(weighed, named, [c.spec.key for c in mine]))
        out.print(view.burden_units(weighed, snapshot))
        out.print(view.burden_repeats(weighed))
        if xlsx is not None:
            # one workbook an organization: a second would overwrite the first
            book = xlsx if len(snapshots) == 1 else xlsx.with_stem(f"{xlsx.stem}-{org}")
            write_burden_workbook(weighed, snapshot, book)
            say(f"{book}: 逐单位逐月负担已写出")


def _campaigns_here(run: TaskContext, known: set[str]) -> list[LoadedCampaign]:
    """What `burden` weighs when no campaign is named: those rolled out in this database, and
    those of the campaigns folder whose organization is imported (a department's own folder,
    or the shipped examples beside the shipped district)."""
    loaded = {key: run.campaign(key) for key in rolled_out_keys(run.settings)}
    elsewhere: set[str] = set()
    for path in shipped_campaigns(run.settings):
        found = run.campaign(str(path))
        if found.spec.key in loaded:
            continue
        if found.spec.organization in known:
            loaded[found.spec.key] = found
        else:
            elsewhere.add(found.spec.organization)
    if elsewhere:
        others = "、".join(sorted(elsewhere))
        say(f"活动目录 {run.settings.campaigns_dir} 中属于未导入组织（{others}）的活动未计入")
    if not loaded:
        raise CampaignError(
            "没有可计算的活动：数据库里没有已下发的活动，活动目录中也没有组织已导入的活动；"
            "请写明活动编码或活动文件"
        )
    return list(loaded.values())
