"""The `campaign` command: one CLI for people and tests alike.

Errors a user can cause (CampaignError) become one line per problem and an exit code; no
command prints a traceback unless CAMPAIGN_DEBUG is set.
"""

from __future__ import annotations

import os
import sys

import click

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
