"""What every task and command sets up the same way: the settings, the working-day
calendar, a session on the configured database, the campaigns read through their stored
versions. `task_context()` is the one place that set-up is written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property

from sqlmodel import Session

from config.campaign_files import calendar_for, read_campaign, read_stored_in
from config.settings import Settings, get_settings
from models.domain.campaign import LoadedCampaign
from models.domain.working_days import WorkCalendar
from models.errors import CampaignError
from models.store import db
from models.store.catalog import stored_campaign_keys


@dataclass(frozen=True)
class StoredCampaigns:
    """Every stored campaign that can be read now, and why each of the others cannot."""

    readable: list[LoadedCampaign] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[LoadedCampaign]:
        return iter(self.readable)


@dataclass(frozen=True)
class TaskContext:
    settings: Settings

    @cached_property
    def calendar(self) -> WorkCalendar:
        """Read on first use: a step that needs no calendar does not read the holiday tables."""
        return calendar_for(self.settings)

    @property
    def url(self) -> str:
        return self.settings.resolved_database_url

    def session(self) -> AbstractContextManager[Session]:
        """A session that commits at the end (rolls back on an error)."""
        return db.session_for(self.url)

    def read_session(self, *, snapshot: bool = True) -> AbstractContextManager[Session]:
        """A session for reading only (see `db.read_session_for`)."""
        return db.read_session_for(self.url, snapshot=snapshot)

    def campaign(self, key: str, *, prefer_file: bool = False) -> LoadedCampaign:
        """A campaign by key or file (see `read_campaign`), on this context's calendar."""
        return read_campaign(self.settings, key, self.calendar, prefer_file=prefer_file)

    def stored_in(self, session: Session, key: str) -> LoadedCampaign:
        """The campaign the database holds as `session` sees it (see `read_stored_in`)."""
        return read_stored_in(self.settings, session, key, self.calendar)

    def stored_campaigns(self) -> StoredCampaigns:
        """One campaign that cannot be read must not stop the others: it is set aside with
        its reason, for the caller to report."""
        with self.session() as session:
            keys = stored_campaign_keys(session)
        out = StoredCampaigns()
        for key in keys:
            try:
                out.readable.append(self.campaign(key))
            except CampaignError as exc:
                out.problems[key] = str(exc)
        return out


def task_context() -> TaskContext:
    return TaskContext(get_settings())
