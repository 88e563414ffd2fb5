"""Every test runs with its own data folder; nothing touches the developer's .campaign/."""

from __future__ import annotations

import os

# Before any test module imports Prefect (collecting the db tier imports the tasks): a test
# that runs a task outside the flow tier's harness starts a temporary server, stopped at the
# worker's exit, and at Prefect's default INFO that stop is logged to a stream pytest has
# closed by then ("--- Logging error ---" after the summary).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import get_settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def campaign_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("CAMPAIGN_HOME", str(home))
    monkeypatch.delenv("CAMPAIGN_DATABASE_URL", raising=False)
    monkeypatch.delenv("CAMPAIGN_HOLIDAYS_DIR", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def campaigns_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A campaign folder outside the repository, holding a copy of mass-line-2013.yaml for
    the test to edit, and the settings pointed at it."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    shutil.copy(REPO / "config" / "campaigns" / "mass-line-2013.yaml", folder)
    monkeypatch.setenv("CAMPAIGN_CAMPAIGNS_DIR", str(folder))
    get_settings.cache_clear()
    return folder


# The SQLite-and-PostgreSQL fixtures serve the db and flows tiers alike.
pytest_plugins = ["tests.db_fixtures"]
