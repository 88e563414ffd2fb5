"""A failed check's rectification is a checklist item written by the rollout's one writer:
its due date and town, and nothing twice under its natural key."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlmodel import col

from models.domain.campaign import RECTIFY_PREFIX
from models.errors import EvidenceError
from models.store import db
from models.store.inspections import (
    InspectedCampaign,
    SampleRef,
    record_result,
    run_inspections,
    samples_of,
)
from models.store.orgs import load_snapshot
from models.store.rollout import ItemRow, campaign_id, write_item
from models.store.tables import ChecklistItem
from tasks.context import task_context
from tests.db.rollout_helpers import item_count, rolled_out

D = dt.date
KEY = "community-and-two-new-2013"
NOW = dt.datetime(2013, 7, 2, 2, 0, tzinfo=dt.UTC)


def test_a_failed_check_writes_its_rectification_once(db_url: str) -> None:
    rolled_out(db_url, KEY, D(2013, 7, 1))
    ctx = task_context()
    loaded = ctx.campaign(KEY)
    with db.session_for(db_url) as session:
        cid = campaign_id(session, KEY)
        run_inspections(
            session, loaded=loaded, campaign=cid, calendar=ctx.calendar, as_of=D(2013, 7, 1),
            now=NOW,
        )  # fmt: skip
        sample = samples_of(session, campaign_keys=[KEY])[0]
        org = load_snapshot(session, "weihai-etdz")
        scope = InspectedCampaign(loaded, cid, org, ctx.calendar)
        ref = SampleRef(sample.inspection_key, sample.label, sample.subject_type, sample.subject_id)
        # 2012 typed for 2013: before the sample was drawn, and a rectification long overdue
        with pytest.raises(EvidenceError, match=r"检查日期2012-07-02早于这次抽查的日期2013-0"):
            record_result(
                session, scope=scope, ref=ref, passed=False, findings="未设立专门科目",
                inspector=org.person_coded("p-info-1"), dated=D(2012, 7, 2), now=NOW,
            )  # fmt: skip
        outcome = record_result(
            session, scope=scope, ref=ref, passed=False, findings="未设立专门科目",
            inspector=org.person_coded("p-info-1"), dated=D(2013, 7, 2), now=NOW,
        )  # fmt: skip
    assert outcome.rectify_by == D(2013, 8, 1)  # 20 working days: 2013-07-02 → 08-01
    before = item_count(db_url)
    with db.session_for(db_url) as session:
        item = session.execute(
            select(ChecklistItem).where(
                col(ChecklistItem.obligation_key) == f"{RECTIFY_PREFIX}{sample.inspection_key}"
            )
        ).scalar_one()
        unit = org.unit_of(sample.subject_type, sample.subject_id)
        assert (item.due, item.status, item.occurrence) == (D(2013, 8, 1), "open", sample.label)
        assert (item.unit_id, item.town_id) == (unit, org.units[unit].town_id)
        again = write_item(
            session,
            ItemRow(
                cid, item.phase_key, item.obligation_key, item.subject_type, item.subject_id,
                item.occurrence, "2013-09-30", "open", None, item.version, item.unit_id,
                item.town_id, None, None,
            ),
        )  # fmt: skip
    assert again == item.id and item_count(db_url) == before
    with db.session_for(db_url) as session:
        kept = session.get(ChecklistItem, item.id)
    assert kept is not None and kept.due == D(2013, 8, 1)  # as it was, not the second due
