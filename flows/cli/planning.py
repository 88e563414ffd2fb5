"""The planner's commands: a campaign as a workbook and back (`plan export`, `plan import`),
and the burden the campaigns put on each unit (`burden`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from config.campaign_files import calendar_for, org_names, org_vocabulary, parse_text
from config.campaign_workbook import (
    CellLocatedYaml,
    campaign_yaml,
    read_campaign_workbook,
    write_campaign_workbook,
)
from config.spec import parse_campaign
from flows.cli.app import app, out, settings
from models.domain.campaign import OrgVocabulary
from models.errors import CampaignError, ImportRejected, SpecError

plan_app = typer.Typer(help="A campaign as a workbook (Excel, WPS) and back.", no_args_is_help=True)
app.add_typer(plan_app, name="plan")


@plan_app.command("export")
def plan_export(
    campaign: Annotated[str, typer.Argument(help="campaign key or file")],
    xlsx: Annotated[Path, typer.Option("--xlsx", help="the workbook to write")],
) -> None:
    """Write a campaign as a workbook with Chinese headers and drop-down lists."""
    from config.campaign_files import read_campaign

    config = settings()
    loaded = read_campaign(config, campaign, calendar_for(config))
    vocabulary = org_vocabulary(config, loaded.spec.organization)
    names = org_names(config, loaded.spec.organization)
    roles = (
        {r: names.get(r, "") for r in vocabulary.roles}
        if isinstance(vocabulary, OrgVocabulary)
        else {}
    )
    write_campaign_workbook(loaded.spec, xlsx, roles)
    obligations = sum(len(p.obligations) for p in loaded.spec.phases)
    out.print(
        f"{xlsx}: {loaded.spec.key}（{loaded.spec.name}）：环节{len(loaded.spec.phases)}个，"
        f"事项{obligations}项",
        markup=False,
    )


@plan_app.command("import")
def plan_import(
    xlsx: Annotated[Path, typer.Argument(help="the workbook (.xlsx)")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="the campaign file to write (default: beside the workbook)"),
    ] = None,
    replace: Annotated[bool, typer.Option(help="replace an existing campaign file")] = False,
) -> None:
    """Read a workbook back into a campaign file and validate it; every problem is
    FILE:SHEET!CELL: 说明, and nothing is written unless the whole campaign is valid."""
    config = settings()
    target = out_file or xlsx.with_suffix(".yaml")
    try:
        data, cells = read_campaign_workbook(xlsx)
        text = campaign_yaml(data)
        loaded = parse_campaign(
            CellLocatedYaml(xlsx, data, cells),
            calendar=calendar_for(config),
            org_lookup=lambda key: org_vocabulary(config, key),
            text=text,
        )
    except (ImportRejected, SpecError) as exc:
        for line in exc.problems:
            out.print(line, markup=False)
        out.print(f"{xlsx}: 未导入，什么也没有写", markup=False)
        raise typer.Exit(2) from None
    if target.exists() and not replace:
        raise CampaignError(f"{target} 已存在；确认要替换时加 --replace")
    # written beside, read back as a campaign file, then moved in place
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=target.parent, prefix=".plan-", suffix=".yaml")
    with os.fdopen(handle, "w", encoding="utf-8") as f:
        f.write(text)
    try:
        again = parse_text(config, text, target.resolve(), calendar_for(config))
        if again.spec != loaded.spec:
            raise CampaignError(f"{target}: 写出的文件与工作簿不一致（请报告此问题）")
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)
    spec = loaded.spec
    first = min(d.starts for d in loaded.phase_dates.values())
    last = max(d.ends for d in loaded.phase_dates.values())
    out.print(
        f"{target}: ok: {spec.key}（{spec.name}），环节{len(spec.phases)}个，"
        f"事项{sum(len(p.obligations) for p in spec.phases)}项，{first} 至 {last}",
        markup=False,
    )
