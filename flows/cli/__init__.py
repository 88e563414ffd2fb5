"""The `campaign` command line: main.py runs it, app.py holds the shared options and the
acting operator, one module per group of commands, console.py the tables it prints."""

from flows.cli.main import main

__all__ = ["main"]
