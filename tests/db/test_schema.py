"""The schema: migrations reach head, instants are UTC-aware, natural keys hold."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import SQLModel, col

from models.store import db
from models.store.instant import NaiveDatetimeError
from models.store.tables import AuditEvent, ChecklistItem, Unit


def test_migrations_reach_head(db_url: str) -> None:
    engine = db.get_engine(db_url)
    assert db.upgrade(engine) == db.head_revision() == "0006"
    with engine.connect() as conn:
        assert db.current_revision(conn) == "0006"
        # the migrated schema is the one the models describe: nothing left to autogenerate
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_items_written_before_windows_survive_the_upgrade(db_url: str) -> None:
    engine = db.get_engine(db_url)
    db.upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(_config(conn), "0001")
        conn.execute(
            text(
                "INSERT INTO checklist_item (campaign_id, phase_key, obligation_key, "
                "subject_type, subject_id, occurrence, due, status, version, unit_id) "
                "VALUES (1, 'p', 'o', 'unit', 7, 'once', '2013-09-30', 'open', 1, 7)"
            )
        )
    assert db.upgrade(engine) == "0006"
    with db.session_for(db_url) as session:
        item = session.execute(select(ChecklistItem)).scalar_one()
    assert (item.subject_id, item.due, item.opens_on, item.closes_on) == (
        7,
        dt.date(2013, 9, 30),
        None,
        None,
    )


def _config(conn: Connection) -> Config:
    config = db.alembic_config()
    config.attributes["connection"] = conn
    return config


def audit_row(at: dt.datetime) -> dict[str, object]:
    return {
        "at": at,
        "actor": "t",
        "action": "a",
        "entity": "e",
        "entity_key": "k",
        "payload": {},
        "prev_hash": "0" * 64,
        "hash": "1" * 64,
    }


def test_instants_come_back_in_utc(db_url: str) -> None:
    shanghai = dt.datetime(2013, 10, 8, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with db.session_for(db_url) as session:
        session.execute(insert(AuditEvent), [audit_row(shanghai)])
    with db.session_for(db_url) as session:
        at = session.execute(select(col(AuditEvent.at))).scalar_one()
    assert at == shanghai
    assert at.utcoffset() == dt.timedelta(0) and at.hour == 1


def test_naive_instants_are_refused(db_url: str) -> None:
    with pytest.raises(StatementError) as caught, db.session_for(db_url) as session:
        session.execute(insert(AuditEvent), [audit_row(dt.datetime(2013, 10, 8, 9, 0))])
    assert isinstance(caught.value.orig, NaiveDatetimeError)
    with db.session_for(db_url) as session:
        assert session.execute(select(col(AuditEvent.id))).all() == []


def test_unit_codes_are_unique(db_url: str) -> None:
    row = {
        "code": "etdz",
        "name": "经区",
        "kind": "district",
        "tags": [],
        "origin": "seed",
        "path": "/etdz/",
    }
    with pytest.raises(IntegrityError), db.session_for(db_url) as session:
        session.execute(insert(Unit), [row, row])


def test_a_database_from_before_organizations_keeps_its_tree(db_url: str) -> None:
    """A 0003 database with units, people and a campaign: the upgrade gives them all to the
    organization its campaigns name, and keeps every id (foreign keys hold)."""
    from config.org_file import read_org_file
    from config.settings import get_settings
    from models.store.orgs import import_org, org_counts, org_id_of

    engine = db.get_engine(db_url)
    db.upgrade(engine)
    with db.session_for(db_url) as session:
        import_org(session, read_org_file(get_settings().orgs_dir / "weihai-etdz.yaml"))
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":  # as db.upgrade does: batch mode copies tables
            db.raw_connection(conn).execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            _downgrade_with_a_campaign(conn)
    assert db.upgrade(engine) == "0006"
    with db.session_for(db_url) as session:
        counts = org_counts(session, org_id_of(session, "weihai-etdz"))
        orphans = session.execute(
            select(col(Unit.code)).where(col(Unit.org_id).is_(None))
        ).all()  # fmt: skip
    assert counts.units["village"] == 100 and counts.people == 185 and not orphans


def _downgrade_with_a_campaign(conn: Connection) -> None:
    command.downgrade(_config(conn), "0003")
    conn.execute(text("INSERT INTO campaign (key, name) VALUES ('c', 'C')"))
    conn.execute(
        text(
            "INSERT INTO campaign_version (campaign_id, version, content_hash, source_path, "
            "text, loaded_at) VALUES (1, 1, 'h', 'c.yaml', "
            "'key: c\norganization: weihai-etdz\n', '2013-01-01T00:00:00+00:00')"
        )
    )
