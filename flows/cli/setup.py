"""Commands that set things up and look things up: validate, orgs, db, calendar, phases."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import pendulum
import typer

from config.campaign_files import calendar_for, org_names, read_campaign, shipped_campaigns
from config.org_file import read_org_files
from flows.cli import console as view
from flows.cli.app import app, db_app, operator, orgs_app, out, settings
from models.errors import DateRuleError, NotFound, SpecError
from models.store import db
from models.store.orgs import import_org, org_counts, org_id_of, org_tree, organizations


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="campaign files (YAML)", show_default=False)],
) -> None:
    """Check campaign files; print FILE:LINE: field: message for each problem, exit 2 if any."""
    config = settings()
    try:
        calendar = calendar_for(config)
    except SpecError as exc:
        for line in exc.problems:
            out.print(line, markup=False)
        raise typer.Exit(2) from None
    bad = 0
    for path in files:
        try:
            loaded = read_campaign(config, str(path), calendar)
        except SpecError as exc:
            bad += 1
            for line in exc.problems:
                out.print(line, markup=False)
            continue
        spec = loaded.spec
        first = min(d.starts for d in loaded.phase_dates.values())
        last = max(d.ends for d in loaded.phase_dates.values())
        obligations = sum(len(p.obligations) for p in spec.phases)
        out.print(
            f"{path}: ok: {spec.key}, {len(spec.phases)} phases, {obligations} obligations, "
            f"{first} to {last}",
            markup=False,
        )
    if bad:
        raise typer.Exit(2)


@orgs_app.command("import")
def orgs_import(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="organization files (.yaml, .csv, .xlsx), imported together as one",
            show_default=False,
        ),
    ],
    org: Annotated[
        str | None,
        typer.Option(help="the organization's key, when the files do not give it"),
    ] = None,
) -> None:
    """Import units, people and pairings; all or nothing, and re-importing updates."""
    config = settings()
    data = read_org_files(files)
    with db.session_for(config.resolved_database_url) as session:
        result = import_org(session, data, org, actor=operator(), operator=getpass.getuser())
        counts = org_counts(session, org_id_of(session, result.org))
    named = str(files[0]) if len(files) == 1 else f"{len(files)} files"
    if not result.changed:
        out.print(f"{result.org}: {named} 与库中一致，没有变化", markup=False)
    else:
        out.print(
            f"{result.org}: imported {named}: units {result.units_new} new, "
            f"{result.units_updated} updated; people {result.people_new} new, "
            f"{result.people_updated} updated; pairings {result.pairings_new} new, "
            f"{result.pairings_updated} updated",
            markup=False,
        )
    out.print(view.org_counts_line(counts, result.org))


@orgs_app.command("show")
def orgs_show(
    code: Annotated[str | None, typer.Argument(help="show the subtree of this unit")] = None,
    depth: Annotated[
        int | None, typer.Option(min=1, help="levels to expand (default 2, all for a unit)")
    ] = None,
    org: Annotated[
        str | None, typer.Option(help="which organization (when the database holds several)")
    ] = None,
) -> None:
    """Print the organization tree with the counts below each unit."""
    config = settings()
    with db.session_for(config.resolved_database_url) as session:
        keys = [org] if org else [o.key for o in organizations(session)]
        if not keys:
            if code is not None:
                raise NotFound(f"no unit with code {code!r}")
            out.print("组织机构为空：先运行 campaign orgs import FILE")
            return
        shown = []
        for key in keys:
            org_id = org_id_of(session, key)
            try:
                nodes = org_tree(session, org_id, code)
            except NotFound:
                if len(keys) == 1:
                    raise
                continue
            shown.append((key, nodes, org_counts(session, org_id)))
    if not shown:
        raise NotFound(f"no unit with code {code!r} in {', '.join(keys)}")
    for key, nodes, counts in shown:
        out.print(view.org_tree(nodes, depth or (2 if code is None else 99)))
        out.print(view.org_counts_line(counts, key))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (they also run on first use)."""
    config = settings()
    revision = db.upgrade(db.get_engine(config.resolved_database_url))
    out.print(f"database at revision {revision}", markup=False)


@app.command("calendar")
def calendar_cmd(
    month: Annotated[str, typer.Argument(help="YEAR-MONTH, e.g. 2013-10", metavar="YEAR-MONTH")],
) -> None:
    """Print a month with statutory holidays (休) and make-up working days (班) marked."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        pendulum.Date(year, mon, 1)
    except ValueError:
        raise DateRuleError(f"expected YEAR-MONTH such as 2013-10, got {month!r}") from None
    calendar = calendar_for(settings())
    days = calendar.month(year, mon)
    out.print(view.month_table(year, mon, days))
    working = sum(1 for d in days if d.working)
    out.print(f"工作日{working}天，休息日{len(days) - working}天")


@app.command("list")
def list_campaigns() -> None:
    """Every shipped campaign: its phases, their dates, whom they fall on and how often."""
    config = settings()
    calendar = calendar_for(config)
    names: dict[str, dict[str, str]] = {}
    bad = 0
    for path in shipped_campaigns(config):
        try:
            loaded = read_campaign(config, str(path), calendar)
        except SpecError as exc:
            bad += 1
            out.print(f"{path}: not valid ({exc.problems[0]})", markup=False)
            continue
        org = loaded.spec.organization
        if org not in names:
            names[org] = org_names(config, org)
        out.print(view.phase_table(loaded, names[org]))
    if bad:
        raise typer.Exit(2)


@app.command()
def phases(
    campaign: Annotated[str, typer.Argument(help="campaign key or file")],
    items: Annotated[
        bool, typer.Option("--items", help="also every deadline, per obligation and window")
    ] = False,
) -> None:
    """Print a campaign's phases with their resolved dates (and, with --items, every
    deadline it will set, before anything is rolled out)."""
    config = settings()
    calendar = calendar_for(config)
    loaded = read_campaign(config, campaign, calendar)
    out.print(view.phase_table(loaded))
    if items:
        out.print(view.deadline_table(loaded, calendar))
