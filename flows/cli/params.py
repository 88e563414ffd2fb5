"""The arguments and options several commands share, each spelled once: its type, its
name on the command line and its help."""

from __future__ import annotations

from typing import Annotated

import typer

CampaignArg = Annotated[str, typer.Argument(help="campaign key or file")]
PersonArg = Annotated[str, typer.Argument(help="the person's code")]
SubjectOption = Annotated[str, typer.Option(help="unit, person or pairing code")]
ObligationOption = Annotated[str, typer.Option(help="the obligation's key")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="the day, YYYY-MM-DD (default today)")]
OrgOption = Annotated[
    str | None, typer.Option(help="the organization (needed only when the database holds several)")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]
