"""A web worker's first requests after it starts: what it holds of the organization is read
once, however many requests missed it at the same moment."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from flows.web.visit import visit
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


def test_a_cadres_morning_costs_the_statements_counted(db_url: str) -> None:
    """What a cadre's sign-in, list, item page and report send to the database, counted:
    a change that adds a query to every page shows here, whatever the machine's speed."""
    rolled_out(db_url, "cadre-pairing-2013", AS_OF, people=True)
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
        first.setdefault(cadre, (item, opens_on))
    cadres = sorted(first)[:2]  # the first warms the worker's caches, the second is counted
    dated = first[cadres[-1]][1] or AS_OF  # inside the item's window, where it has one
    cost = statements_of_a_morning(db_url, [(c, first[c][0]) for c in cadres], dated.isoformat())
    # sign in: the rate limit, the link, the session, the audit event (5); list: the
    # session, the items; item: the session, the item, the items one report could also
    # serve, what was recorded; report: as README's door section lists. Each step one pooled
    # connection, a report three (the session read apart from the writing, the page after).
    expected = {"sign in": (8, 1), "list": (2, 1), "item": (4, 1), "submit": (16, 3)}
    if db_url.startswith("sqlite"):
        # each transaction opens with the BEGIN the store sends itself (a report has three),
        # and the audit chain takes no lock statement there (SQLite has one writer)
        expected |= {"sign in": (8 + 1 - 1, 1), "list": (3, 1), "item": (5, 1)}
        expected["submit"] = (16 + 3 - 1, 3)
    assert cost == expected
