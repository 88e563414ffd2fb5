"""The domain imports no database, Prefect or Excel code: checked in a fresh interpreter, so
that nothing another test imported first can hide a dependency."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import models.domain

FORBIDDEN = ("sqlalchemy", "sqlmodel", "prefect", "openpyxl", "psycopg")
# and the layers above it: config depends on the domain, never the other way round
ABOVE = ("config", "tasks", "flows")  # and models.store
REPO = Path(__file__).resolve().parents[2]


def test_every_domain_module_loads_without_database_prefect_or_excel() -> None:
    names = [f"models.domain.{m.name}" for m in pkgutil.iter_modules(models.domain.__path__)]
    assert len(names) >= 10
    script = (
        "import sys\n"
        f"for name in {names!r}:\n"
        "    __import__(name)\n"
        f"bad = sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN!r}))\n"
        f"bad += sorted(m for m in sys.modules if m.split('.')[0] in {ABOVE!r}"
        f" or m.startswith('models.store'))\n"
        "print(','.join(bad))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "", f"the domain loaded {found.stdout.strip()}"
