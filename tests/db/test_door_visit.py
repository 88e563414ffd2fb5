"""A web worker's first requests after it starts: what it holds of the organization is read
once, however many requests missed it at the same moment."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session

from flows.web.visit import visit
from models.domain.org_snapshot import OrgSnapshot
from models.store import db, orgs
from models.store.door import open_session
from models.store.instant import utc_now
from tests.db.rollout_helpers import import_shipped_org

ORG = "weihai-etdz"


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
