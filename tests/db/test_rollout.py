"""Rollout writes converge: twice in a row or twice at once leaves the rows of one run."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import col

from models.store import db
from models.store.tables import Campaign, CampaignVersion, ChecklistItem, PhaseState, core
from tests.db.rollout_helpers import import_shipped_org, item_count, rolled_out, rollout

D = dt.date


def test_twice_in_a_row_writes_once(db_url: str) -> None:
    import_shipped_org(db_url)
    first = rollout(db_url, "mass-line-2013", D(2013, 9, 3))
    assert first == item_count(db_url) == 60
    assert rollout(db_url, "mass-line-2013", D(2013, 9, 3)) == 0
    assert item_count(db_url) == 60
    with db.session_for(db_url) as session:
        assert session.execute(select(func.count()).select_from(CampaignVersion)).scalar_one() == 1
        statuses = dict(
            session.execute(select(col(PhaseState.phase_key), col(PhaseState.status))).all()
        )
    assert statuses == {
        "preparation": "open",
        "study": "open",
        "criticism": "pending",
        "rectification": "pending",
        "summary": "pending",
    }


def test_twice_at_once_writes_once(db_url: str) -> None:
    import_shipped_org(db_url)
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        try:
            results.append(rollout(db_url, "village-rectification-2013", D(2012, 11, 1)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sum(results) == item_count(db_url) == 39  # the pilot wave and the towns' items
    with db.session_for(db_url) as session:
        assert session.execute(select(func.count()).select_from(Campaign)).scalar_one() == 1


def test_items_land_on_the_yearbook_dates(db_url: str) -> None:
    import_shipped_org(db_url)
    rollout(db_url, "mass-line-2013", D(2013, 8, 26))
    with db.session_for(db_url) as session:
        due = dict(
            session.execute(
                select(
                    col(ChecklistItem.obligation_key), func.min(col(ChecklistItem.due))
                ).group_by(col(ChecklistItem.obligation_key))
            ).all()
        )
    assert due["implementation-plan"] == D(2013, 9, 3)
    assert due["study-materials"] == D(2013, 9, 10)  # 5 working days after Sept 3
    assert due["standing-contacts"] == D(2013, 10, 21)  # 10 working days after Oct 8
    assert due["site-visits"] == D(2013, 12, 13)  # "mid-December", Sunday 15th rolled back
    assert due["bulletin-review"] == D(2013, 11, 29)  # end of November, a Saturday: Friday


def test_a_changed_file_moves_pending_deadlines_and_keeps_done_items(
    db_url: str, campaigns_elsewhere: Path
) -> None:
    campaigns = campaigns_elsewhere
    rolled_out(db_url, "mass-line-2013", D(2013, 9, 3))
    with db.session_for(db_url) as session:
        session.execute(
            core(ChecklistItem)
            .update()
            .where(col(ChecklistItem.obligation_key) == "implementation-plan")
            .values(status="accepted", completed_on=D(2013, 9, 3))
        )
    text = (campaigns / "mass-line-2013.yaml").read_text(encoding="utf-8")
    text = text.replace("due: 5 working days after start", "due: 7 working days after start")
    text = text.replace("        due: 2013-09-03\n", "        due: 2013-09-04\n")
    (campaigns / "mass-line-2013.yaml").write_text(text, encoding="utf-8")

    from tasks.rollout_tasks import load_campaign_version, plan_rollout, write_checklist_items

    ctx = load_campaign_version.fn("mass-line-2013", D(2013, 9, 3))
    assert ctx.version == 2 and ctx.replan
    planner = plan_rollout.fn(ctx)
    for town in planner.towns():
        write_checklist_items.fn(ctx, planner, [town], {None}, label="t")
    with db.session_for(db_url) as session:
        rows = dict(
            session.execute(
                select(col(ChecklistItem.obligation_key), col(ChecklistItem.due)).where(
                    col(ChecklistItem.subject_type) == "unit"
                )
            ).all()
        )
    assert rows["study-materials"] == D(2013, 9, 12)  # moved: 7 working days after Sept 3
    assert rows["implementation-plan"] == D(2013, 9, 3)  # done: never rewritten
    assert item_count(db_url) == 60
