"""Database fixtures: a test that takes `db_url` runs once on SQLite and once on PostgreSQL.

PostgreSQL is the server on 127.0.0.1:5432 (CAMPAIGN_TEST_PG_ADMIN to change it); each test
session gets a database of its own. Under CI=true an unreachable server fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from models.store import db

PG_ADMIN = os.environ.get(
    "CAMPAIGN_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with fresh_pg_database() as url:
        yield url


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A PostgreSQL database of its own, dropped at the end."""
    name = f"campaign_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL is not reachable at {PG_ADMIN}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    yield url
    db.dispose_all()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(url: str) -> None:
    engine = db.get_engine(url)
    db.ensure_schema(engine)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated, empty database of each kind, also set as CAMPAIGN_DATABASE_URL."""
    return _database(request, request.param, tmp_path, monkeypatch)


@pytest.fixture
def sqlite_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """An empty SQLite database only: for long rehearsals whose database code the db tier
    already runs on both."""
    return _database(request, "sqlite", tmp_path, monkeypatch)


@pytest.fixture
def postgres_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    return _database(request, "postgresql", tmp_path, monkeypatch)


def _database(
    request: pytest.FixtureRequest, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    from config.settings import get_settings

    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'campaign.db'}"
    else:
        url = request.getfixturevalue("pg_url")
        _truncate(url)
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", url)
    get_settings.cache_clear()
    return url
