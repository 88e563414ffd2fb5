"""Every test runs with its own data folder; nothing touches the developer's .campaign/."""

from __future__ import annotations

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


# The SQLite-and-PostgreSQL fixtures serve the db and flows tiers alike.
pytest_plugins = ["tests.db_fixtures"]
