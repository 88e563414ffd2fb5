"""Every shipped campaign rehearsed over its whole span through the real flows: the items
it creates, their dates, the phases closing, evidence and reminders on the way."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from config.campaign_files import read_campaign, shipped_campaigns
from config.settings import get_settings
from flows.simulate import simulate_campaign
from models.store import db
from models.store.rollout import campaign_id
from models.store.tables import (
    ChecklistItem,
    Evidence,
    Inspection,
    InspectionSample,
    Pairing,
    Reminder,
)
from tests.db.rollout_helpers import import_full_org

D = dt.date

# Items each campaign creates over its span, counted from the seed and the organization
# (100 villages, 35 communities of which 34 urban, 3 towns + 3 streets, 16 two-new
# enterprises, 3 leading-group members, 540 grassroots party members, 20 member-help and
# 1,224 cadre-needy pairings).
ITEMS = {
    # 100 villages × (53 weeks from Fri 01-04 to Tue 12-31 + 12 months) + 3 towns × 6 months
    "village-meetings-2013": 100 * (53 + 12) + 3 * 6,
    # April–December: 6 towns and streets + 135 villages and communities, each month
    "village-bulletin-2013": (6 + 135) * 9,
    # org-dept 1 + 10 weak villages; org-dept 1 + 13 named; 10 villages × Q3, Q4 + 6 towns
    "weak-villages-2013": 1 + 10 + 1 + 13 + 10 * 2 + 6,
    # 540 self-analyses; 135 ratings + 540 targets; 20 pairs × Aug–Dec, 6 talks, 135 × Q3, Q4
    "member-mirror-2013": 540 + 135 + 540 + 20 * 5 + 6 + 135 * 2,
    # 1 + 34 + 34; 1 + 6 + 16 + Q3, Q4 + 1
    "community-and-two-new-2013": 1 + 34 + 34 + 1 + 6 + 16 + 2 + 1,
    # 1 + 1 + (12 months + 3 lectures) + 4 + (2 rules + 2 half-years) + 1
    "cadre-work-2013": 1 + 1 + 15 + 4 + 4 + 1,
    # 3 leaders × 2 festivals + 6 towns × 2 festivals + 6 surveys + 4 quarters
    "party-care-2013": 3 * 2 + 6 * 2 + 6 + 4,
}
PAIRS = 1224
# 2013-11→12 and six two-month windows of 2014; one home-visit item for 2014; first visit
PAIRING_ITEMS = 1 + 2 + 4 + 1 + PAIRS + 1 + PAIRS * 7 + PAIRS + 4

# Due dates a person would check against the 2013/2014 calendar.
DUE = {
    "village-meetings-2013": {
        # the Spring Festival week: Sunday 02-10 is a holiday, due the Friday before
        ("weekly-committee", "2013-W06"): D(2013, 2, 8),
        # Sunday 02-17 was a make-up working day (调休): due that Sunday
        ("weekly-committee", "2013-W07"): D(2013, 2, 17),
        ("area-exchange-meeting", "2013-07"): D(2013, 7, 31),
    },
    "village-bulletin-2013": {
        # 04-29–05-01 was the May Day holiday; Sunday 04-28 a make-up working day
        ("compile-issue", "2013-04"): D(2013, 4, 28),
        ("deliver-to-households", "2013-09"): D(2013, 9, 30),
    },
    "weak-villages-2013": {
        ("rectify-progress", "2013-Q3"): D(2013, 9, 30),
        ("year-end-adjustments", "once"): D(2013, 12, 31),
    },
    "member-mirror-2013": {
        ("written-self-analysis", "once"): D(2013, 6, 28),  # 06-30 is a Sunday
        ("pairing-help", "2013-08"): D(2013, 8, 30),
    },
    "community-and-two-new-2013": {
        ("funds-rules", "once"): D(2013, 5, 6),
        ("funds-notice", "once"): D(2013, 4, 26),
    },
    "cadre-work-2013": {
        ("practice-report", "once"): D(2013, 2, 20),  # 20 working days after 01-18
        ("ethics-test", "once"): D(2013, 12, 23),
    },
    "party-care-2013": {
        ("leader-visits", "2013-spring-festival"): D(2013, 2, 8),
        ("leader-visits-july", "2013-july-first"): D(2013, 6, 28),
    },
    "cadre-pairing-2013": {
        ("first-visit", "once"): D(2013, 9, 30),
        ("contact", "2014-B3"): D(2014, 6, 30),
        ("home-visit", "2014"): D(2014, 12, 31),
    },
}


def span(key: str) -> tuple[dt.date, dt.date]:
    dates = read_campaign(get_settings(), key).phase_dates.values()
    return min(d.starts for d in dates), max(d.ends for d in dates)


def rehearse(url: str, key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    # the people's channel (a file, as file channels write inside CAMPAIGN_HOME) is never
    # used by a rehearsal: its digests go to the rehearsal's outbox
    theirs = tmp_path / "home" / "people.jsonl"
    monkeypatch.setenv("CAMPAIGN_NOTIFY_DEFAULT", f"file://{theirs}")
    get_settings.cache_clear()
    outbox = get_settings().rehearsal_outbox
    import_full_org(url)
    first, last = span(key)
    result = simulate_campaign(key, first, last, seed=2013)
    phases = [p.key for p in read_campaign(get_settings(), key).spec.phases]
    assert sorted(c["key"] for c in result["closed"]) == sorted(phases)
    progress = result["progress"]
    assert progress["as_of"] == last.isoformat()
    accepted = sum(p["accepted"] for p in progress["phases"])
    items = sum(p["items"] for p in progress["phases"])
    assert 0.6 * items < accepted < items  # most done, not all: the behaviour model
    digests = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
    assert digests, "no reminder reached the rehearsal's outbox"
    assert not theirs.exists(), "a rehearsal wrote to the people's channel"
    assert all("title" in json.loads(line) for line in digests[:5])
    return result


def dues(url: str, key: str) -> dict[tuple[str, str], set[dt.date]]:
    with db.session_for(url) as session:
        cid = campaign_id(session, key)
        rows = session.execute(
            select(
                col(ChecklistItem.obligation_key),
                col(ChecklistItem.occurrence),
                col(ChecklistItem.due),
            )
            .where(col(ChecklistItem.campaign_id) == cid)
            .distinct()
        ).all()
    out: dict[tuple[str, str], set[dt.date]] = {}
    for obligation, occurrence, due in rows:
        out.setdefault((obligation, occurrence), set()).add(due)
    return out


def item_total(url: str, key: str) -> int:
    with db.session_for(url) as session:
        cid = campaign_id(session, key)
        return session.execute(
            select(func.count())
            .select_from(ChecklistItem)
            .where(
                col(ChecklistItem.campaign_id) == cid,
                col(ChecklistItem.status) != "cancelled",
                col(ChecklistItem.obligation_key).not_like(
                    "rectification-%"
                ),  # raised by failed checks
            )
        ).scalar_one()


def test_every_shipped_campaign_is_rehearsed_here() -> None:
    shipped = {p.stem for p in shipped_campaigns(get_settings())}
    tested = set(ITEMS) | {"cadre-pairing-2013", "mass-line-2013", "village-rectification-2013"}
    assert shipped == tested  # the two main ones have their own rehearsal tests


@pytest.mark.parametrize("key", sorted(ITEMS))
def test_seed_campaign_rehearsed_over_its_span(
    key: str, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rehearse(sqlite_url, key, tmp_path, monkeypatch)
    assert item_total(sqlite_url, key) == ITEMS[key]
    got = dues(sqlite_url, key)
    for slot, due in DUE[key].items():
        assert got[slot] == {due}, slot


def test_cadre_pairing_year_for_1184_cadres_and_1066_people(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "cadre-pairing-2013"
    rehearse(sqlite_url, key, tmp_path, monkeypatch)
    assert item_total(sqlite_url, key) == PAIRING_ITEMS
    got = dues(sqlite_url, key)
    for slot, due in DUE[key].items():
        assert got[slot] == {due}, slot
    with db.session_for(sqlite_url) as session:
        cid = campaign_id(session, key)
        per_obligation = dict(
            session.execute(
                select(col(ChecklistItem.obligation_key), func.count())
                .where(
                    col(ChecklistItem.campaign_id) == cid,
                    col(ChecklistItem.subject_type) == "pairing",
                )
                .group_by(col(ChecklistItem.obligation_key))
            ).all()
        )
        cadres, people = session.execute(
            select(
                func.count(func.distinct(col(Pairing.cadre_id))),
                func.count(func.distinct(col(Pairing.contact_id))),
            ).where(
                col(Pairing.id).in_(
                    select(col(ChecklistItem.subject_id)).where(
                        col(ChecklistItem.campaign_id) == cid,
                        col(ChecklistItem.obligation_key) == "contact",
                    )
                )
            )
        ).one()
    assert {k: v for k, v in per_obligation.items() if not k.startswith("rectification-")} == {
        "first-visit": PAIRS,
        "contact": PAIRS * 7,
        "home-visit": PAIRS,
    }
    assert (cadres, people) == (1184, 1066)
    assert_rectification_loop(sqlite_url, key, "phone-spot-check")


def assert_rectification_loop(url: str, key: str, inspection: str) -> None:
    """The quarterly phone checks ran: samples of about 5% per quarter, never the same pair
    two quarters running; failures raised rectifications with reminders, re-inspected after
    their deadline, most closed by an inspector's pass."""
    with db.session_for(url) as session:
        cid = campaign_id(session, key)
        checks = {
            label: {(s.subject_type, s.subject_id) for s in samples}
            for label, samples in _samples(session, cid).items()
        }
        rectifications = (
            session.execute(
                select(ChecklistItem).where(
                    col(ChecklistItem.campaign_id) == cid,
                    col(ChecklistItem.obligation_key) == f"rectification-{inspection}",
                )
            )
            .scalars()
            .all()
        )
        reminded = session.execute(
            select(func.count(func.distinct(col(Reminder.item_id)))).where(
                col(Reminder.item_id).in_([r.id for r in rectifications])
            )
        ).scalar_one()
        closers = session.execute(
            select(func.count())
            .select_from(Evidence)
            .where(
                col(Evidence.item_id).in_([r.id for r in rectifications]),
                col(Evidence.kind) == "sign-off",
            )
        ).scalar_one()
    quarters = ["2013-Q4", "2014-Q1", "2014-Q2", "2014-Q3", "2014-Q4"]
    assert [q for q in quarters if q in checks] == quarters
    for q in quarters:
        assert 0.04 * PAIRS <= len(checks[q]) <= 0.07 * PAIRS, q
    for before, after in itertools.pairwise(quarters):
        assert not checks[before] & checks[after], (before, after)
    assert rectifications, "no check failed in a year of 5% samples"
    assert reminded == len(rectifications)
    assert any(label.endswith("-recheck") for label in checks)
    closed = [r for r in rectifications if r.status == "accepted"]
    assert closed and closers == len(closed)


def _samples(session, cid: int):
    rows = session.execute(
        select(col(Inspection.occurrence), InspectionSample)
        .join(InspectionSample, col(InspectionSample.inspection_id) == col(Inspection.id))
        .where(col(Inspection.campaign_id) == cid)
    ).all()
    out: dict[str, list] = {}
    for label, sample in rows:
        out.setdefault(label, []).append(sample)
    return out
