"""Rollout writes converge: twice in a row or twice at once leaves the rows of one run."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from config.org_file import read_org_file
from config.settings import get_settings
from models.store import db
from models.store.orgs import import_org
from models.store.tables import Campaign, CampaignVersion, ChecklistItem, PhaseState, Unit, core
from tasks.rollout_tasks import (
    RolloutContext,
    load_campaign_version,
    plan_rollout,
    write_checklist_items,
)
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


def _write_all(campaign: str, day: dt.date, waves: set[str | None]) -> RolloutContext:
    """What the rollout flow does for these waves, every town in its own batch."""
    ctx = load_campaign_version.fn(campaign, day)
    planner = plan_rollout.fn(ctx)
    for town in planner.towns():
        write_checklist_items.fn(ctx, planner, [town], waves, label="t")
    return ctx


def _due(url: str, obligation: str) -> dt.date:
    with db.session_for(url) as session:
        return session.execute(
            select(func.min(col(ChecklistItem.due))).where(
                col(ChecklistItem.obligation_key) == obligation
            )
        ).scalar_one()


def test_a_corrected_holiday_table_moves_pending_deadlines_on_the_next_rollout(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is the same, the calendar is not (a notice imported again with --replace):
    rolling out again plans on the calendar as it is now."""
    rolled_out(db_url, "mass-line-2013", D(2013, 9, 3))
    assert _due(db_url, "study-materials") == D(2013, 9, 10)  # 5 working days after 09-03
    folder = tmp_path / "holidays"
    folder.mkdir()
    (folder / "2013.yaml").write_text(
        "year: 2013\nholidays:\n  - {name: 更正, from: 2013-09-05, to: 2013-09-06}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CAMPAIGN_HOLIDAYS_DIR", str(folder))
    get_settings.cache_clear()
    ctx = _write_all("mass-line-2013", D(2013, 9, 3), {None})
    assert (ctx.version, ctx.replan, ctx.new_version) == (1, True, False)
    assert _due(db_url, "study-materials") == D(2013, 9, 12)  # 09-05 and 09-06 now off
    assert item_count(db_url) == 60


def _pilots(url: str) -> set[str]:
    with db.session_for(url) as session:
        return set(
            session.execute(
                select(col(Unit.code))
                .join(ChecklistItem, col(ChecklistItem.unit_id) == col(Unit.id))
                .where(col(ChecklistItem.wave) == "pilot", col(ChecklistItem.status) != "cancelled")
            ).scalars()
        )


def test_a_pilot_under_way_stays_when_a_village_is_imported_that_would_be_picked_first(
    db_url: str, tmp_path: Path
) -> None:
    """The pilot is picked once: a village imported mid-campaign whose code sorts first and
    that carries the preferred tag does not become a pilot days before the pilot's deadline,
    nor does the village already piloting fall into the rest."""
    rolled_out(db_url, "village-rectification-2013", D(2012, 12, 3))
    pilots = _pilots(db_url)
    assert "qiaotou-v01" in pilots and len(pilots) == 6  # one per town and street
    shipped = (get_settings().orgs_dir / "weihai-etdz.yaml").read_text(encoding="utf-8")
    newcomer = (
        "  - {code: qiaotou-v00, name: 新建村, kind: village, parent: qiaotou, "
        "tags: [weakest], origin: filled}\n"
    )
    org = tmp_path / "weihai-etdz.yaml"
    org.write_text(shipped.replace("units:\n", "units:\n" + newcomer, 1), encoding="utf-8")
    with db.session_for(db_url) as session:
        import_org(session, read_org_file(org))
    rollout(db_url, "village-rectification-2013", D(2012, 12, 5))
    assert _pilots(db_url) == pilots
    with db.session_for(db_url) as session:
        cancelled = session.execute(
            select(func.count()).where(col(ChecklistItem.status) == "cancelled")
        ).scalar_one()
    assert cancelled == 0


def test_a_wave_written_on_its_own_leaves_the_other_waves_items_alone(db_url: str) -> None:
    """A rollout waiting at a gate writes the waves after it on their own once it opens:
    planning again for those must not cancel the pilot villages' or the towns' items."""
    rolled_out(db_url, "village-rectification-2013", D(2012, 12, 3))
    before = item_count(db_url)
    _write_all("village-rectification-2013", D(2012, 12, 3), {"rest"})
    with db.session_for(db_url) as session:
        cancelled = session.execute(
            select(func.count()).where(col(ChecklistItem.status) == "cancelled")
        ).scalar_one()
    assert cancelled == 0 and item_count(db_url) > before  # the rest's items, added
