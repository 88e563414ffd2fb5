"""The `campaign` command: one CLI for people and tests alike.

Errors a user can cause (CampaignError) become one line per problem and an exit code; no
command prints a traceback unless CAMPAIGN_DEBUG is set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import click
import pendulum
import typer

from config.campaign_files import calendar_for, read_campaign
from config.org_file import read_org_file
from config.settings import Settings, get_settings
from flows import console as view
from models import db
from models.errors import CampaignError, DateRuleError, SpecError
from models.org_store import import_org, org_counts, org_tree

app = typer.Typer(
    name="campaign",
    help="Workflow engine for campaign phases: validate, import the organization, roll out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
orgs_app = typer.Typer(help="The organization tree: units, people, pairings.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(orgs_app, name="orgs")
app.add_typer(db_app, name="db")

out = view.make_console()
err = view.make_console(stderr=True)


def _settings() -> Settings:
    return get_settings()


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="campaign files (YAML)", show_default=False)],
) -> None:
    """Check campaign files; print FILE:LINE: field: message for each problem, exit 2 if any."""
    settings = _settings()
    try:
        calendar = calendar_for(settings)
    except SpecError as exc:
        for line in exc.problems:
            out.print(line, markup=False)
        raise typer.Exit(2) from None
    bad = 0
    for path in files:
        try:
            loaded = read_campaign(settings, str(path), calendar)
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
    file: Annotated[Path, typer.Argument(help="organization file: .yaml, .csv or .xlsx")],
) -> None:
    """Import units, people and pairings; all or nothing, and re-importing updates."""
    settings = _settings()
    data = read_org_file(file)
    with db.session_for(settings.resolved_database_url) as session:
        result = import_org(session, data)
        counts = org_counts(session)
    out.print(
        f"imported {file}: units {result.units_new} new, {result.units_updated} updated; "
        f"people {result.people_new} new, {result.people_updated} updated; "
        f"pairings {result.pairings_new} new, {result.pairings_updated} updated",
        markup=False,
    )
    out.print(view.org_counts_line(counts))


@orgs_app.command("show")
def orgs_show(
    code: Annotated[str | None, typer.Argument(help="show the subtree of this unit")] = None,
    depth: Annotated[
        int | None, typer.Option(min=1, help="levels to expand (default 2, all for a unit)")
    ] = None,
) -> None:
    """Print the organization tree with the counts below each unit."""
    settings = _settings()
    with db.session_for(settings.resolved_database_url) as session:
        nodes = org_tree(session, code)
        counts = org_counts(session)
    if not nodes:
        out.print("组织机构为空：先运行 campaign orgs import FILE")
        return
    out.print(view.org_tree(nodes, depth or (2 if code is None else 99)))
    out.print(view.org_counts_line(counts))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (they also run on first use)."""
    settings = _settings()
    revision = db.upgrade(db.get_engine(settings.resolved_database_url))
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
    calendar = calendar_for(_settings())
    days = calendar.month(year, mon)
    out.print(view.month_table(year, mon, days))
    working = sum(1 for d in days if d.working)
    out.print(f"工作日{working}天，休息日{len(days) - working}天")


@app.command()
def phases(
    campaign: Annotated[str, typer.Argument(help="campaign key or file")],
) -> None:
    """Print a campaign's phases with their resolved dates."""
    loaded = read_campaign(_settings(), campaign)
    out.print(view.phase_table(loaded))


@app.command()
def demo() -> None:
    """Run the main job on the embedded default (SQLite in CAMPAIGN_HOME)."""
    from flows.demo import run_demo

    run_demo(_settings(), out)


def main() -> None:
    """Entry point: domain errors become messages and exit codes, never tracebacks."""
    code = 0
    try:
        code = app(standalone_mode=False) or 0
    except click.ClickException as exc:  # usage errors: click's own message, exit 2
        exc.show()
        code = exc.exit_code
    except CampaignError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            err.print(f"error: {line}", markup=False)
        code = exc.exit_code
    except (KeyboardInterrupt, click.Abort):
        err.print("interrupted")
        code = 130
    except Exception as exc:  # the last line of defence: a message, not a traceback
        if os.environ.get("CAMPAIGN_DEBUG"):
            raise
        err.print(
            f"error: unexpected {type(exc).__name__}: {exc} "
            "(set CAMPAIGN_DEBUG=1 for the traceback)",
            markup=False,
        )
        code = 70
    finally:
        db.dispose_all()
    sys.exit(code)


if __name__ == "__main__":
    main()
