"""One request of a signed-in person: the session cookie checked against the database, the
person and their organization, the campaigns, a transaction. Nothing is kept in process
memory that another worker would need: every worker reads the same rows."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session

from config.campaign_files import calendar_for, parse_stored
from config.settings import Settings, get_settings
from models.domain.campaign import LoadedCampaign, Obligation
from models.domain.door import DoorPages, pages_for, same_token
from models.domain.org_snapshot import OrgSnapshot, PersonInfo
from models.domain.working_days import WorkCalendar
from models.errors import CampaignError, NotFound, PermissionRefused
from models.store import audit, db
from models.store import door as store
from models.store.catalog import stored_campaign
from models.store.instant import today_in, utc_now
from models.store.orgs import current_snapshot, held_snapshot

COOKIE = "campaign_door"
# A stored version never changes: each worker parses one once (a new version is a new key).
_versions: dict[tuple[str, str, int, WorkCalendar], LoadedCampaign] = {}
# What a worker holds is read once, by one request thread: the others that missed it at the
# same moment (the requests in flight after an import, or after a start whose read-ahead
# failed) wait for that one rather than each reading the whole organization or parsing the
# campaign again.
_loading = threading.Lock()


class SignInNeeded(CampaignError):
    """No session, or one that expired or was revoked."""


class FormRefused(PermissionRefused):
    """A POST without the session's CSRF token."""


@dataclass
class Visit:
    session: Session
    me: store.SignedIn
    org: OrgSnapshot
    person: PersonInfo
    settings: Settings
    calendar: WorkCalendar
    now: dt.datetime
    _campaigns: dict[str, LoadedCampaign] = field(default_factory=dict)

    @property
    def today(self) -> dt.date:
        return today_in(self.settings.timezone)

    @property
    def title(self) -> str:
        """Whose door this is: the organization's top unit (临港区), as its people call it."""
        return self.org.top_name or "组织工作"

    def campaigns(self) -> dict[str, LoadedCampaign]:
        """The organization's rolled-out campaigns, as their current stored versions say."""
        if not self._campaigns:
            for key, version in self.me.campaigns:
                self._campaigns[key] = _campaign(
                    self.session, self.settings, self.calendar, key, version
                )
        return self._campaigns

    def pages(self) -> DoorPages:
        """The pages beyond 我的待办 this person's roles are offered, as tabs."""
        return pages_for(self.person, (loaded.spec for loaded in self.campaigns().values()))

    def campaign(self, key: str) -> LoadedCampaign:
        found = self.campaigns().get(key)
        if found is None:
            raise NotFound("没有这个活动")
        return found

    def obligation(self, campaign: str, key: str) -> Obligation:
        """An obligation of the campaign, or the rectification a failed check raised (the
        spec's obligations include those)."""
        for _, obligation in self.campaign(campaign).spec.obligations():
            if obligation.key == key:
                return obligation
        raise NotFound("没有这个事项")


def _campaign(
    session: Session, settings: Settings, calendar: WorkCalendar, key: str, version: int
) -> LoadedCampaign:
    """A stored campaign version, parsed once by this worker. The calendar is part of the
    key: a new holiday table (a new calendar) moves dates."""
    found = (settings.resolved_database_url, key, version, calendar)
    held = _versions.get(found)
    if held is None:
        with _loading:
            held = _versions.get(found)
            if held is None:
                stored = stored_campaign(session, key, version)
                if stored is None:
                    raise NotFound("没有这个活动")
                held = parse_stored(settings, stored, calendar)
                _versions[found] = held
    return held


def read_ahead() -> int:
    """What a worker's first requests would each wait for, done before it takes any: the
    schema checked, the connections its request threads will use opened, each served
    organization's snapshot read and its campaigns parsed.
    Returns how many organizations it holds. A deadline morning's first fifty requests
    otherwise queued behind this (p95 of the first second 1.1 s against 0.3 s after)."""
    settings = get_settings()
    url = settings.resolved_database_url
    calendar = _calendar(settings)
    db.open_connections(url, settings.web_threads)
    with db.read_session_for(url) as session:
        served = store.served_orgs(session)
        for org in served:
            current_snapshot(session, org.key, org.revision)
            for key, version in org.campaigns:
                _campaign(session, settings, calendar, key, version)
    return len(served)


_calendar_held: list[tuple[float, WorkCalendar]] = []
CALENDAR_RECHECK = 30.0  # seconds: a new holiday table is seen within this


def _calendar(settings: Settings) -> WorkCalendar:
    """The working-day calendar, its holiday folder looked at again every 30 s, not on
    every request."""
    now = time.monotonic()
    if _calendar_held and now - _calendar_held[0][0] < CALENDAR_RECHECK:
        return _calendar_held[0][1]
    calendar = calendar_for(settings)
    _calendar_held[:] = [(now, calendar)]
    return calendar


@contextmanager
def visit(
    cookie: str | None, *, write: bool = False, form: Mapping[str, Any] | None = None
) -> Iterator[Visit]:
    """The signed-in person's request, in one transaction (a write one only for a POST,
    whose form must carry the session's CSRF token). On SQLite, everything a write needs
    to read first (the session, the organization) is read before the write transaction
    begins, so that its one writer holds its lock only for the writing; PostgreSQL has no
    such lock, and reads them in the write transaction (one connection, not two). Events
    appended inside say they came through the web, naming the signed-in person."""
    if not cookie:
        raise SignInNeeded("请先登录")
    settings = get_settings()
    url = settings.resolved_database_url
    now = utc_now()
    posted = (form or {}) if write else None  # a write without a form has no CSRF token
    if write and not db.one_writer(url):
        with db.session_for(url) as session, audit.through("web"):
            yield _visit_in(session, cookie, settings, now, posted)
        return
    with db.read_session_for(url, snapshot=False) as reader:
        v = _visit_in(reader, cookie, settings, now, posted)
        if not write:
            with audit.through("web"):
                yield v
            return
    with db.session_for(url) as session, audit.through("web"):
        yield replace(v, session=session)


def _visit_in(
    session: Session,
    cookie: str,
    settings: Settings,
    now: dt.datetime,
    form: Mapping[str, Any] | None,
) -> Visit:
    """Who a cookie signs in, read in `session`; with a form (a POST), its CSRF token
    checked."""
    url = settings.resolved_database_url
    me = store.signed_in(session, token=cookie, now=now)
    if me is None:
        raise SignInNeeded("登录已过期或已退出，请用新的登录链接")
    if form is not None and not same_token(str(form.get("csrf") or ""), me.csrf):
        raise FormRefused("表单已失效，请返回后重新提交")
    org = held_snapshot(url, me.org_key, me.org_revision)
    if org is None:  # read whole, in one transaction, once per import
        with _loading:
            org = held_snapshot(url, me.org_key, me.org_revision)
            if org is None:
                with db.read_session_for(url) as whole:
                    org = current_snapshot(whole, me.org_key, me.org_revision)
    person = org.persons[me.person_id]
    return Visit(session, me, org, person, settings, _calendar(settings), now)


@contextmanager
def revisit(v: Visit) -> Iterator[Visit]:
    """The same signed-in person again, in a new read transaction: the page a POST answers
    with, its session having been checked moments before in this very request."""
    url = v.settings.resolved_database_url
    with db.read_session_for(url, snapshot=False) as reader, audit.through("web"):
        yield Visit(reader, v.me, v.org, v.person, v.settings, v.calendar, v.now, v._campaigns)
