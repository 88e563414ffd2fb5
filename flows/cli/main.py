"""The `campaign` command: one CLI for people and tests alike.

Errors a user can cause (CampaignError) become one line per problem and an exit code; no
command prints a traceback unless CAMPAIGN_DEBUG is set.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import httpx
import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from config.settings import (
    HOME_PROBLEMS,
    SettingsError,
    get_settings,
    missing_database,
    os_login,
)

# isort: off
# They register their commands as they are imported, and `--help` lists them in that order
# (app.py's panels: prepare, run, record), so this order is kept by hand.
from flows.cli import setup, planning, run, inspections, sheets, audit, web  # noqa: F401

# isort: on
from flows.cli.app import app, err
from flows.cli.typer_zh import command_tree, usage_lines
from models.errors import CampaignError
from models.store import audit as audit_trail
from models.store import db


def quiet_prefect(verbose: bool) -> Path:
    """Prefect's run logs go to the Prefect API (the UI shows them) and to a log file in
    CAMPAIGN_HOME, not among the command's own output; `-v` shows them as well. Returns
    the log file. (Prefect configured its logging when it was imported: its console
    handlers are turned down here, not replaced.)"""
    from prefect.logging.formatters import PrefectFormatter
    from prefect.logging.handlers import PrefectConsoleHandler

    log = Path(os.environ.get("CAMPAIGN_HOME", ".campaign")).resolve() / "logs" / "campaign.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, PrefectConsoleHandler) and not verbose:
                handler.setLevel(logging.WARNING)
    to_file = logging.FileHandler(log, encoding="utf-8")
    to_file.setLevel(logging.INFO)
    to_file.setFormatter(
        PrefectFormatter(
            "%(asctime)s | %(levelname)-7s | %(name)s - %(message)s",
            flow_run_fmt="%(asctime)s | %(levelname)-7s | Flow run %(flow_run_name)r - %(message)s",
            task_run_fmt="%(asctime)s | %(levelname)-7s | Task run %(task_run_name)r - %(message)s",
        )
    )
    logging.getLogger().addHandler(to_file)
    return log


def main() -> None:
    """Entry point: domain errors become messages and exit codes, never tracebacks."""
    code = 0
    verbose = any(a in ("-v", "--verbose") for a in sys.argv[1:2])
    if verbose:
        del sys.argv[1]
    try:
        check_environment()
        quiet_prefect(verbose)
        with audit_trail.through(f"cli:{os_login()}"):
            code = command_tree(app).main(standalone_mode=False) or 0
    except NoArgsIsHelpError as exc:  # a group named alone: its help
        exc.show()
        code = exc.exit_code
    except UsageError as exc:  # a missing option, an unknown one: the usage line; exit 2
        for line in usage_lines(exc):
            err.print(line, markup=False, highlight=False)
        code = exc.exit_code
    except ClickException as exc:  # any other of Typer's own (a file it could not open)
        err.print(f"错误：{exc.format_message()}", markup=False)
        code = exc.exit_code
    except CampaignError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            err.print(f"错误：{line}", markup=False)
        code = exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        err.print("已中断")
        code = 130
    except Exception as exc:  # the last line of defence: a message, not a traceback
        if os.environ.get("CAMPAIGN_DEBUG"):
            raise
        if (problem := _environment_fault(exc)) is not None:
            err.print(f"错误：{problem}", markup=False)
            code = 2
        elif _unauthorized(exc):
            err.print(
                f"错误：Prefect 服务器 {os.environ.get('PREFECT_API_URL')} 拒绝了访问"
                "（401 Unauthorized）：请把 PREFECT_API_AUTH_STRING 设为其 用户:密码",
                markup=False,
            )
            code = 77
        else:
            err.print(
                f"错误：意外的 {type(exc).__name__}：{exc}（设置 CAMPAIGN_DEBUG=1 可看到调用栈）",
                markup=False,
            )
            code = 70
    finally:
        db.dispose_all()
    sys.exit(code)


def check_environment() -> None:
    """Faults of the environment, each one line and exit 2 before any command runs: a data
    folder that cannot be made, a settings value that cannot be used, a SQLite path outside
    CAMPAIGN_HOME that does not exist (only `db upgrade` makes one there)."""
    if HOME_PROBLEMS:
        raise SettingsError("\n".join(dict.fromkeys(HOME_PROBLEMS)))
    settings = get_settings()
    if sys.argv[1:3] != ["db", "upgrade"] and (problem := missing_database(settings)):
        raise SettingsError(problem)
    if not settings.resolved_database_url.startswith("sqlite"):
        # a server that is down or a database that is missing: said here, before a flow
        # run logs it with its traceback
        with db.get_engine(settings.resolved_database_url).connect():
            pass


def _environment_fault(exc: BaseException) -> str | None:
    """What a server we depend on said, when it is unreachable or refuses: one line."""
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        reason = str(exc.orig or exc).strip().splitlines()
        url = db_url_shown()
        return f"数据库 {url} 无法使用：{reason[0] if reason else exc}"
    if isinstance(exc, RuntimeError) and str(exc).startswith("Failed to reach API"):
        return (
            f"Prefect 服务器 {os.environ.get('PREFECT_API_URL')} 没有应答：请启动它，"
            "或取消 PREFECT_API_URL 以使用临时服务器"
        )
    return None


def db_url_shown() -> str:
    """The database URL without a password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(get_settings().resolved_database_url).render_as_string(hide_password=True)
    except Exception:
        return "(CAMPAIGN_DATABASE_URL)"


def _unauthorized(raised: BaseException) -> bool:
    """Whether a server refused our credentials (Prefect wraps httpx's error in its own)."""
    exc: BaseException | None = raised
    while exc is not None:
        if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 401:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


if __name__ == "__main__":
    main()
