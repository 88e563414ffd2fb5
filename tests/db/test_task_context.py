"""The one set-up of tasks, flows and commands: settings, calendar, sessions, campaigns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from config.settings import get_settings
from models.errors import NotFound, SpecError
from models.store.tables import Organization
from tasks.context import task_context
from tasks.phase_tasks import close_phase_task


def test_the_context_reads_the_configured_database_and_campaigns(db_url: str) -> None:
    run = task_context()
    assert run.url == db_url
    with run.session() as session:
        session.add(Organization(key="elsewhere-district", name="另一个区"))
    with run.read_session() as session:
        keys = session.execute(select(col(Organization.key))).scalars().all()
    assert keys == ["elsewhere-district"]
    loaded = run.campaign("mass-line-2013")
    # the file says 2013-08-25, a Sunday: read on the context's calendar, the phase starts
    # on the next working day
    assert (loaded.spec.key, str(loaded.first_day)) == ("mass-line-2013", "2013-08-26")
    assert run.calendar is run.calendar  # read once, kept


def test_a_broken_holiday_table_stops_only_what_needs_the_calendar(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "holidays"
    folder.mkdir()
    (folder / "2013.yaml").write_text("year: 2013\nholidays: [not a day]\n", encoding="utf-8")
    monkeypatch.setenv("CAMPAIGN_HOLIDAYS_DIR", str(folder))
    get_settings.cache_clear()
    run = task_context()  # nothing read yet: the table's problem waits for the calendar
    with run.session() as session:
        organizations = session.execute(select(func.count()).select_from(Organization))
        assert organizations.scalar_one() == 0
    with pytest.raises(SpecError, match=r"2013\.yaml"):
        _ = run.calendar
    # a step with no use for working days still answers: closing a phase of a campaign that
    # was never rolled out says so, rather than the holiday table's problem
    with pytest.raises(NotFound, match="活动 mass-line-2013 尚未下发"):
        close_phase_task.fn("mass-line-2013", "learning", dt.date(2013, 9, 1))
