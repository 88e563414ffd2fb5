"""A web worker's first requests: it reads the organization and the campaigns ahead at its
start; what it holds is read once, however many requests missed it at the same moment; and a
cadre's morning costs the statements counted."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, col

from config.settings import get_settings
from flows.web import visit as visit_module
from flows.web.server import create_app
from flows.web.visit import read_ahead, visit
from models.domain.org_snapshot import OrgSnapshot
from models.domain.vocabulary import ItemStatus, SubjectType
from models.store import db, orgs
from models.store.door import open_session
from models.store.instant import utc_now
from models.store.tables import ChecklistItem, Pairing
from tests.db.rollout_helpers import import_shipped_org, rolled_out
from tests.door_cost import statements_of_a_morning

ORG = "weihai-etdz"
AS_OF = dt.date(2013, 11, 4)


def test_eight_first_requests_at_once_read_the_organization_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_shipped_org(db_url)
    with db.session_for(db_url) as session:
        people = sorted(orgs.load_snapshot(session, ORG).persons.values(), key=lambda p: p.code)
        cookies = {p.name: open_session(session, person_id=p.id, now=utc_now()) for p in people[:8]}
    reads: list[str] = []
    load = orgs.load_snapshot

    def counted(session: Session, org: str) -> OrgSnapshot:
        reads.append(org)
        return load(session, org)

    monkeypatch.setattr(orgs, "load_snapshot", counted)
    monkeypatch.setattr(orgs, "_held", {})  # the worker has just started: it holds nothing
    start = threading.Barrier(len(cookies))
    seen: dict[str, str] = {}

    def request(name: str, cookie: str) -> None:
        start.wait()
        with visit(cookie) as v:
            seen[name] = v.person.name

    threads = [threading.Thread(target=request, args=item) for item in cookies.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert seen == {name: name for name in cookies}  # each signed in as themselves
    assert reads == [ORG]


def _first_items(db_url: str) -> list[tuple[int, int, str]]:
    """(cadre, their first open pairing item, a date inside its window) of each cadre."""
    with db.session_for(db_url) as session:
        open_items = session.execute(
            select(col(Pairing.cadre_id), col(ChecklistItem.id), col(ChecklistItem.opens_on))
            .join(Pairing, col(Pairing.id) == col(ChecklistItem.subject_id))
            .where(
                col(ChecklistItem.subject_type) == SubjectType.PAIRING,
                col(ChecklistItem.status) == ItemStatus.OPEN,
            )
            .order_by(col(ChecklistItem.id))
        ).all()
    first: dict[int, tuple[int, dt.date]] = {}
    for cadre, item, opens_on in open_items:
        first.setdefault(cadre, (item, opens_on or AS_OF))
    return [(c, first[c][0], first[c][1].isoformat()) for c in sorted(first)]


def _warm_cost(db_url: str) -> dict[str, tuple[int, int]]:
    """(statements, pooled connections) of each step of a morning on a warm worker."""
    # sign in: the rate limit, the link, the session, the audit event (2 on PostgreSQL: the
    # event inserted after the head it locks, then its hash and the head moved); list: the
    # session, the items; item: the session, the item, the items one report could also
    # serve, what was recorded; report: as README's door section lists. Each step one pooled
    # connection, a report two (the writing, the page after); on SQLite three (the session
    # read apart from the writing, which holds the one writer's lock).
    expected = {"sign in": (5, 1), "list": (2, 1), "item": (4, 1), "submit": (14, 2)}
    if db_url.startswith("sqlite"):
        # each transaction opens with the BEGIN the store sends itself (a report has three),
        # and the audit event is four statements there: the head, the event, its hash, the
        # head moved (SQLite has one writer: no lock to take)
        expected |= {"sign in": (5 + 1 + 2, 1), "list": (3, 1), "item": (5, 1)}
        expected["submit"] = (14 + 3 + 2, 3)
    return expected


def test_a_cadres_morning_costs_the_statements_counted(db_url: str) -> None:
    """What a cadre's sign-in, list, item page and report send to the database, counted:
    a change that adds a query to every page shows here, whatever the machine's speed."""
    rolled_out(db_url, "cadre-pairing-2013", AS_OF, people=True)
    # the first warms the worker's caches, the second is counted
    (first, item_1, _), (second, item_2, dated) = _first_items(db_url)[:2]
    cost = statements_of_a_morning(db_url, [(first, item_1), (second, item_2)], dated)
    assert cost == _warm_cost(db_url)


def test_a_worker_that_read_ahead_serves_its_first_morning_warm(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker reads ahead at its start (the organization, the campaigns): its very first
    cadre's morning then costs no more than a warm one, where it would otherwise read the
    whole organization and the campaign in the middle of that cadre's sign-in."""
    rolled_out(db_url, "cadre-pairing-2013", AS_OF, people=True)
    cadre, item, dated = _first_items(db_url)[0]
    monkeypatch.setattr(orgs, "_held", {})  # the worker has just started: it holds nothing
    monkeypatch.setattr(visit_module, "_versions", {})
    cold = statements_of_a_morning(db_url, [(cadre, item)], dated)
    assert cold != _warm_cost(db_url)  # what reading ahead spares the first cadre

    monkeypatch.setattr(orgs, "_held", {})
    monkeypatch.setattr(visit_module, "_versions", {})
    assert read_ahead() == 1  # the one organization with a campaign rolled out
    # the same cadre and item again (reopened), in a worker just started that read ahead
    assert statements_of_a_morning(db_url, [(cadre, item)], dated) == _warm_cost(db_url)


def test_a_worker_opens_its_connections_before_its_first_request(db_url: str) -> None:
    """The connections a worker's request threads will take are open when it starts taking
    requests (on PostgreSQL each is a server process to start): the morning's first fifty
    do not each wait for one."""
    rolled_out(db_url, "cadre-pairing-2013", AS_OF)
    db.dispose_all()  # a worker just started: no connection open
    pool = db.get_engine(db_url).pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedin() == 0
    read_ahead()
    assert pool.checkedin() == get_settings().web_threads == 8


def _health_after_start() -> int:
    """Start the application as a uvicorn worker does (its lifespan), then ask /health."""
    app = create_app()

    async def started() -> int:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://door") as client:
                return (await client.get("/health")).status_code

    return asyncio.run(started())


def test_a_worker_reads_ahead_at_its_start_and_serves_when_it_cannot(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The application's start (as each uvicorn worker runs it) reads the organization
    ahead; a database it cannot reach then does not keep the worker from serving: it says
    why, and its first requests meet the error themselves."""
    rolled_out(sqlite_url, "cadre-pairing-2013", AS_OF, people=True)
    monkeypatch.setattr(orgs, "_held", {})
    assert _health_after_start() == 200
    assert [org for _, org in orgs._held] == [ORG]

    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:9/gone")
    get_settings.cache_clear()
    with caplog.at_level(logging.WARNING):
        assert _health_after_start() == 200
    assert "could not read ahead" in caplog.text
