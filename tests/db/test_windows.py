"""Recurring obligations: evidence counts for the window its date falls in, at least N."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from models.errors import EvidenceError
from models.store import db
from models.store.evidence import Submission, submit
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.tables import ChecklistItem, Evidence
from tests.db.rollout_helpers import locate, rolled_out

D = dt.date
KEY = "cadre-pairing-2013"
PAIR = "cn-0001"


@pytest.fixture
def rolled(db_url: str) -> str:
    return rolled_out(db_url, KEY, D(2013, 11, 4), people=True)


def record(url: str, obligation: str, dated: dt.date, occurrence: str | None = None) -> str:
    """The pairing's cadre records one contact dated `dated`; returns the item's status."""
    with db.session_for(url) as session:
        found = locate(
            session, KEY, obligation, ("pairing", PAIR), occurrence=occurrence, dated=dated
        )
        org, rule, item = found.org, found.rule, found.item
        pair = org.pairing_by_code[PAIR]
        return submit(
            session,
            org=org,
            item=item,
            obligation=rule,
            person=org.persons[pair.cadre_id],
            submission=Submission({}, "电话联系，了解近况。", [], dated),
            calendar=found.calendar,
            now=utc_now(),
        )


def statuses(url: str, obligation: str) -> dict[str, tuple[str, int]]:
    """occurrence → (status, evidence rows) for the pair's items of the obligation."""
    with db.session_for(url) as session:
        pid = load_snapshot(session, "weihai-etdz").pairing_by_code[PAIR].id
        rows = session.execute(
            select(
                col(ChecklistItem.occurrence),
                col(ChecklistItem.status),
                func.count(col(Evidence.id)),
            )
            .outerjoin(Evidence, col(Evidence.item_id) == col(ChecklistItem.id))
            .where(
                col(ChecklistItem.obligation_key) == obligation,
                col(ChecklistItem.subject_type) == "pairing",
                col(ChecklistItem.subject_id) == pid,
            )
            .group_by(col(ChecklistItem.occurrence), col(ChecklistItem.status))
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_each_two_month_window_has_its_item_with_its_bounds(rolled: str) -> None:
    with db.session_for(rolled) as session:
        pid = load_snapshot(session, "weihai-etdz").pairing_by_code[PAIR].id
        items = session.execute(
            select(ChecklistItem)
            .where(
                col(ChecklistItem.obligation_key) == "contact", col(ChecklistItem.subject_id) == pid
            )
            .order_by(col(ChecklistItem.due))
        ).scalars()
        got = [(i.occurrence, i.opens_on, i.closes_on, i.due) for i in items]
    assert got[0] == ("2013-B6", D(2013, 11, 1), D(2013, 12, 31), D(2013, 12, 31))
    # 2014-02-28 is a Friday; 2014-10-31 a Friday
    assert got[1] == ("2014-B1", D(2014, 1, 1), D(2014, 2, 28), D(2014, 2, 28))
    assert [g[0] for g in got] == ["2013-B6"] + [f"2014-B{n}" for n in range(1, 7)]


def test_a_contact_satisfies_the_window_it_falls_in_and_no_other(rolled: str) -> None:
    assert record(rolled, "contact", D(2013, 12, 2)) == "accepted"
    got = statuses(rolled, "contact")
    assert got["2013-B6"] == ("accepted", 1)
    assert got["2014-B1"] == ("open", 0)
    # a contact in January goes to the January–February window
    assert record(rolled, "contact", D(2014, 1, 15)) == "accepted"
    assert statuses(rolled, "contact")["2014-B1"] == ("accepted", 1)


def test_evidence_outside_every_window_or_outside_the_named_one_is_refused(rolled: str) -> None:
    with pytest.raises(EvidenceError, match="（contact）没有哪个周期包含2013-10-30"):
        record(rolled, "contact", D(2013, 10, 30))
    with pytest.raises(
        EvidenceError,
        match=r"不在“.+”（contact）2014年第2个双月（3—4月，2014-B2）的周期内（2014-03-01",
    ):
        record(rolled, "contact", D(2014, 1, 15), occurrence="2014-B2")
    assert all(n == 0 for _, n in statuses(rolled, "contact").values())  # nothing written


def test_at_least_two_visits_in_the_year_before_the_item_is_done(rolled: str) -> None:
    assert record(rolled, "home-visit", D(2014, 3, 3)) == "open"
    assert statuses(rolled, "home-visit") == {"2014": ("open", 1)}
    assert record(rolled, "home-visit", D(2014, 9, 1)) == "accepted"
    assert statuses(rolled, "home-visit") == {"2014": ("accepted", 2)}
    with pytest.raises(EvidenceError, match=r"已于.*完成|都已完成"):
        record(rolled, "home-visit", D(2014, 10, 8))
