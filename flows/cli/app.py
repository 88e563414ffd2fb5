"""The Typer application and what its commands share: consoles, dates, the acting person."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import typer

from config.settings import Settings, get_settings, os_login
from config.yaml_lines import format_loc, load_yaml_text
from flows.cli import console as view
from models.domain.burden import restraint_warnings
from models.domain.campaign import LoadedCampaign
from models.domain.date_rules import not_after_today, read_day, run_day
from models.domain.operators import Acting, acting_for, operators_of
from models.domain.planning import half_gated
from models.domain.wording import half_gated_zh
from models.errors import DateRuleError
from models.store.instant import today_in
from tasks.context import TaskContext, task_context

# The panels of `campaign --help`, in the order of a planner's year (main.py imports the
# command modules so that they register in this order)
PREPARE = "准备：组织、日历、活动文件"
RUN = "下发与运行"
RECORD = "登记与查看"

app = typer.Typer(
    name="campaign",
    help="活动分阶段推进的工作流引擎：校验活动文件、导入组织机构、下发、登记佐证、"
    "查看进度。Prefect 的运行日志写入 CAMPAIGN_HOME/logs/campaign.log 并显示在 Prefect "
    "界面上；`campaign -v 命令` 也在这里显示。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
orgs_app = typer.Typer(help="组织机构：单位、人员、结对。", no_args_is_help=True)
db_app = typer.Typer(help="数据库。", no_args_is_help=True)
gate_app = typer.Typer(help="审批活动的闸门。", no_args_is_help=True)
evidence_app = typer.Typer(help="登记佐证与签字。", no_args_is_help=True)
phase_app = typer.Typer(help="手动开启或结束阶段。", no_args_is_help=True)
app.add_typer(orgs_app, name="orgs", rich_help_panel=PREPARE)
app.add_typer(db_app, name="db", rich_help_panel=PREPARE)
app.add_typer(gate_app, name="gate", rich_help_panel=RUN)
app.add_typer(evidence_app, name="evidence", rich_help_panel=RECORD)
app.add_typer(phase_app, name="phase", rich_help_panel=RUN)

out = view.make_console()
err = view.make_console(stderr=True)


def say(text: str) -> None:
    """A line for the user, printed as it is: codes and names come from people's files and
    may hold [brackets], which Rich would otherwise read as markup."""
    out.print(text, markup=False)


def say_warnings(
    loaded: LoadedCampaign,
    where: Callable[[Sequence[str | int]], str],
    more: Sequence[tuple[tuple[str | int, ...], str]] = (),
) -> None:
    """Where the campaign asks what the burden-reduction rules restrict (photos every week,
    check-ins, rankings of persons), or holds back only part of an obligation at a gate:
    warnings, never failures, said wherever a campaign comes in (validate, plan import,
    rollout). `where`: a field's place, FILE:LINE or FILE:CELL."""
    gated = [(found.loc, half_gated_zh(found)) for found in half_gated(loaded.spec)]
    for loc, message in [*restraint_warnings(loaded.spec), *gated, *more]:
        say(f"{where(loc)}: 提醒：{message}")


def file_lines(loaded: LoadedCampaign, path: Path) -> Callable[[Sequence[str | int]], str]:
    """A campaign file's fields by line: FILE:LINE: field.path."""
    lines = load_yaml_text(loaded.text, path)
    return lambda loc: f"{path}:{lines.line_of(loc)}: {format_loc(loc)}"


def settings() -> Settings:
    return get_settings()


def context() -> TaskContext:
    """The settings, the calendar, a session and the campaigns, set up as every task does."""
    return task_context()


def parse_day(value: str | None, what: str = "--as-of") -> dt.date:
    """A YYYY-MM-DD option, or today in the default timezone."""
    if value is None:
        return today_in(settings().timezone)
    return read_day(value, what)


def parse_done_day(value: str | None, what: str = "--date") -> dt.date:
    """The day something was done, signed or checked: YYYY-MM-DD, today or before."""
    return not_after_today(parse_day(value, what), parse_day(None), what)


def parse_run_day(value: str | None, what: str = "--as-of") -> dt.date:
    """The day a run acts for (rollout, remind, inspect, a phase, a gate): today or before,
    for what it does reaches people now."""
    return run_day(parse_day(value, what), parse_day(None), what)


def parse_instant(value: str, what: str = "--now") -> dt.datetime:
    """An ISO 8601 instant with its offset (a bare local time would be ambiguous)."""
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        raise DateRuleError(
            f"{what}：应写成如 2026-11-28T10:00+08:00 的时刻，而不是 {value}"
        ) from None
    if instant.tzinfo is None:
        raise DateRuleError(f"{what}：请写明时区偏移，如 {value}+08:00")
    return instant


def operator() -> str:
    """Who runs this command: the operating-system user (what the audit trail records of
    changes no person is named for, such as an organization import)."""
    return f"os:{os_login()}"


def acting(by: str | None, org: str) -> Acting:
    """Whom a command acts for: the person the OS login is an operator of in `org`, or,
    for an operator allowed to enter for others, --by (else CAMPAIGN_USER)."""
    from models.store import db
    from models.store.orgs import find_org

    with db.read_session_for(settings().resolved_database_url) as session:
        rows = find_org(session, org).operators or []
    return acting_for(os_login(), operators_of(rows), org, by or settings().user)


def ensure_prefect() -> None:
    """Start this process's temporary Prefect server under a lock in PREFECT_HOME.

    Without a server (PREFECT_API_URL unset) each CLI process starts its own on the same
    Prefect database; two starting at once on a new home race on its migrations and one
    dies. The first holds the lock until its server is up, the database migrated.
    """
    if os.environ.get("PREFECT_API_URL"):
        return
    from prefect.client.orchestration import get_client

    home = Path(os.environ.get("PREFECT_HOME", ".campaign/prefect"))
    home.mkdir(parents=True, exist_ok=True)
    with (home / "campaign-start.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            with get_client(sync_client=True) as client:
                client.api_healthcheck()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
