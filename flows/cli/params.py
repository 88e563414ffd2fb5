"""The arguments and options several commands share, each spelled once: its type, its
name on the command line and its help."""

from __future__ import annotations

from typing import Annotated

import typer

CampaignArg = Annotated[str, typer.Argument(metavar="活动", help="活动编码或活动文件")]
PersonArg = Annotated[str, typer.Argument(metavar="人员", help="人员编码")]
SubjectOption = Annotated[str, typer.Option(help="单位、人员或结对的编码")]
ObligationOption = Annotated[str, typer.Option(help="事项编码")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="哪一天，YYYY-MM-DD（默认今天）")]
OrgOption = Annotated[str | None, typer.Option(help="组织编码（数据库里有多个组织时才需要）")]
JsonFlag = Annotated[bool, typer.Option("--json", help="输出 JSON")]
UnitOption = Annotated[str | None, typer.Option(help="只看此单位及其下级单位")]
