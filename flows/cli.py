"""The `campaign` command: one CLI for people and tests alike.

Errors a user can cause (CampaignError) become one line per problem and an exit code; no
command prints a traceback unless CAMPAIGN_DEBUG is set.
"""

from __future__ import annotations

import os
import sys

import click
import httpx

from flows import (  # noqa: F401  (they register their commands)
    cli_audit,
    cli_inspect,
    cli_run,
    cli_setup,
    cli_sheets,
)
from flows.cli_app import app, err
from models import db
from models.errors import CampaignError


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
        if _unauthorized(exc):
            err.print(
                f"error: the Prefect server at {os.environ.get('PREFECT_API_URL')} refused "
                "us (401 Unauthorized): set PREFECT_API_AUTH_STRING to its user:password",
                markup=False,
            )
            code = 77
        else:
            err.print(
                f"error: unexpected {type(exc).__name__}: {exc} "
                "(set CAMPAIGN_DEBUG=1 for the traceback)",
                markup=False,
            )
            code = 70
    finally:
        db.dispose_all()
    sys.exit(code)


def _unauthorized(exc: BaseException) -> bool:
    """Whether a server refused our credentials (Prefect wraps httpx's error in its own)."""
    while exc is not None:
        if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 401:
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


if __name__ == "__main__":
    main()
