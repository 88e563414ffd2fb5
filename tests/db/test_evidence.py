"""Evidence moves an item open → submitted → accepted (or rejected), by its rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from config.campaign_files import calendar_for, read_campaign
from config.settings import get_settings
from models.errors import EvidenceError, PermissionRefused
from models.store import db
from models.store.evidence import Submission, sign, submit
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.phase_clock import bring_to_day
from models.store.progress import campaign_progress
from models.store.tables import ChecklistItem, Evidence
from tests.db.rollout_helpers import locate, rolled_out

D = dt.date
KEY = "village-rectification-2013"


@pytest.fixture
def rolled(db_url: str) -> str:
    return rolled_out(db_url, KEY, D(2012, 12, 3))


def act(url: str, what: str, subject: str, obligation: str, person: str, **kw: Any) -> str:
    with db.session_for(url) as session:
        found = locate(
            session, KEY, obligation, ("unit", subject), dated=kw.get("dated", D(2012, 12, 20))
        )
        org, rule, item = found.org, found.rule, found.item
        who = org.person_by_code[person]
        if what == "submit":
            return submit(
                session,
                org=org,
                item=item,
                obligation=rule,
                person=who,
                submission=Submission(
                    kw.get("counts", {}), kw.get("note"), [], kw.get("dated", D(2012, 12, 20))
                ),
                calendar=found.calendar,
                now=utc_now(),
            )
        return sign(
            session,
            org=org,
            item=item,
            obligation=rule,
            signer=who,
            approve=kw.get("approve", True),
            reason=kw.get("reason"),
            dated=D(2012, 12, 21),
            now=utc_now(),
        )


def item_state(url: str, subject: str, obligation: str) -> tuple[str, Any, int]:
    with db.session_for(url) as session:
        org = load_snapshot(session, "weihai-etdz")
        item = session.execute(
            select(ChecklistItem).where(
                col(ChecklistItem.obligation_key) == obligation,
                col(ChecklistItem.subject_id) == org.unit_by_code[subject].id,
            )
        ).scalar_one()
        n = session.execute(
            select(func.count()).where(col(Evidence.item_id) == item.id)
        ).scalar_one()
        return item.status, item.completed_on, n


PILOT = "qiaotou-v01"  # tagged weakest: 桥头镇's pilot village


def test_submission_then_sign_off_accepts_and_counts_roll_up(rolled: str) -> None:
    assert (
        act(
            rolled,
            "submit",
            PILOT,
            "pilot-rectification",
            "p-qiaotou-v01-sec",
            note="民主评议完成",
            counts={"lectures": 4, "households": 230},
        )
        == "submitted"
    )
    assert item_state(rolled, PILOT, "pilot-rectification")[0] == "submitted"
    assert act(rolled, "sign", PILOT, "pilot-rectification", "p-qiaotou-oc") == "accepted"
    assert item_state(rolled, PILOT, "pilot-rectification") == ("accepted", D(2012, 12, 21), 2)
    with db.session_for(rolled) as session:
        progress = campaign_progress(session, read_campaign(get_settings(), KEY), D(2012, 12, 21))
    actual = {t.key: t.actual for t in progress.targets}
    assert actual["lectures"] == 4 and actual["households"] == 230 and actual["talks"] == 0


def test_a_rejection_needs_a_reason_and_a_new_submission_supersedes(rolled: str) -> None:
    # a form can carry a NUL, which PostgreSQL cannot store in text (a server error, once):
    # free text is stored without such characters, and a reason of nothing else is none
    first = "初稿\x00\x1b\u202e"
    act(rolled, "submit", PILOT, "pilot-rectification", "p-qiaotou-v01-sec", note=first)
    for no_reason in (None, "\x00 "):
        with pytest.raises(EvidenceError, match="退回需要写明理由"):
            act(
                rolled, "sign", PILOT, "pilot-rectification", "p-qiaotou-oc",
                approve=False, reason=no_reason,
            )  # fmt: skip
    assert (
        act(
            rolled,
            "sign",
            PILOT,
            "pilot-rectification",
            "p-qiaotou-oc",
            approve=False,
            reason="缺少会议记录",
        )
        == "rejected"
    )
    assert (
        act(
            rolled, "submit", PILOT, "pilot-rectification", "p-qiaotou-v01-sec", note="补充会议记录"
        )
        == "submitted"
    )
    with db.session_for(rolled) as session:
        rows = session.execute(
            select(col(Evidence.kind), col(Evidence.supersedes_id), col(Evidence.note)).order_by(
                col(Evidence.id)
            )
        ).all()
    assert [r.kind for r in rows] == ["submission", "rejection", "submission"]
    assert rows[2].supersedes_id is not None and rows[1].note == "缺少会议记录"
    assert rows[0].note == "初稿"


@pytest.mark.parametrize(
    ("subject", "person", "error", "message"),
    [
        (PILOT, "p-gushan-v01-sec", PermissionRefused, "不能为这个对象报送"),
        (PILOT, "p-qiaotou-v01-sec", EvidenceError, "需要填写说明"),
    ],
)
def test_refusals_write_nothing(
    rolled: str, subject: str, person: str, error: type, message: str
) -> None:
    note = None if error is EvidenceError else "x"
    with pytest.raises(error, match=message):
        act(rolled, "submit", subject, "pilot-rectification", person, note=note)
    assert item_state(rolled, subject, "pilot-rectification") == ("open", None, 0)


def test_a_day_before_the_phase_opened_is_refused(rolled: str) -> None:
    # 2011 typed for 2012 would have counted as done in time. The pilot phase is written to
    # start on Saturday 12-01 and opens on Monday 12-03: the weekend counts with it, the
    # Friday before does not
    for typo in (D(2011, 12, 20), D(2012, 11, 30)):
        with pytest.raises(EvidenceError, match=r"早于.+所在环节（pilot）开始的2012-12-03"):
            act(rolled, "submit", PILOT, "pilot-rectification", "p-qiaotou-v01-sec",
                note="完成", dated=typo)  # fmt: skip
    assert item_state(rolled, PILOT, "pilot-rectification") == ("open", None, 0)
    done = act(
        rolled, "submit", PILOT, "pilot-rectification", "p-qiaotou-v01-sec",
        note="完成", dated=D(2012, 12, 1),
    )  # fmt: skip
    assert done == "submitted"


def test_only_the_named_role_of_the_supervising_unit_signs(rolled: str) -> None:
    act(rolled, "submit", PILOT, "pilot-rectification", "p-qiaotou-v01-sec", note="完成")
    for wrong in ("p-gushan-oc", "p-qiaotou-o1", "p-qiaotou-v01-sec"):
        with pytest.raises(PermissionRefused):
            act(rolled, "sign", PILOT, "pilot-rectification", wrong)
    assert item_state(rolled, PILOT, "pilot-rectification") == ("submitted", None, 1)


def test_counts_below_the_minimum_and_unknown_counts_are_refused(rolled: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        act(
            rolled,
            "submit",
            "gushan",
            "choose-pilot",
            "p-gushan-oc",
            note="x",
            counts={"colour": 1},
            dated=D(2012, 11, 20),
        )
    assert "没有计数项'colour'" in str(caught.value)

    def members_sent(n: int) -> str:
        return act(
            rolled,
            "submit",
            "org-dept",
            "send-members",
            "p-org-01",
            counts={"members": n},
            dated=D(2012, 11, 10),
        )

    with pytest.raises(EvidenceError, match=r"选派组员人数（members）至少为3，填的是2"):
        members_sent(2)
    assert members_sent(3) == "accepted"
    assert item_state(rolled, "org-dept", "send-members") == ("accepted", D(2012, 11, 10), 1)


def test_a_name_that_looks_like_a_formula_stays_text_in_the_ledger(
    rolled: str, tmp_path: Path
) -> None:
    from openpyxl import load_workbook
    from sqlalchemy import update

    from models.report import write_ledger
    from models.store.ledger import ledger_of
    from models.store.rollout import campaign_id
    from models.store.tables import Unit

    # a village's name as a sheet sent in by someone could carry it, and another's an ESC
    # that slipped in before names were checked (openpyxl refuses those outright)
    trap = '=HYPERLINK("http://127.0.0.1/x","点击查看")'
    with db.session_for(rolled) as session:
        session.execute(update(Unit).where(col(Unit.code) == PILOT).values(name=trap))
        session.execute(
            update(Unit).where(col(Unit.code) == "qiaotou").values(name="桥头镇\x1b[31m")
        )
    loaded = read_campaign(get_settings(), KEY)
    path = tmp_path / "台账.xlsx"
    with db.session_for(rolled) as session:
        progress = campaign_progress(session, loaded, D(2012, 12, 21))
        ledger = ledger_of(session, campaign_id(session, KEY))
        write_ledger(path, ledger, loaded, load_snapshot(session, "weihai-etdz"), progress)
    cells = [c for sheet in load_workbook(path).worksheets for row in sheet.iter_rows()
             for c in row]  # fmt: skip
    assert any(c.value == trap for c in cells), "the name is in the ledger, as written"
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == "桥头镇[31m" for c in cells)


TWICE = """\
key: twice-a-month
name: 每月两次村民小组会
organization: weihai-etdz
phases:
  - key: run
    name: 实施
    start: 2013-09-02
    end: 2013-12-31
    obligations:
      - key: meeting
        title: 召开村民小组会
        subject: {units: {kinds: [village], codes: [qiaotou-v01]}}
        recurrence: {every: month, at_least: 2}
        evidence: {note: true}
"""


def test_two_submissions_at_once_count_each_other(db_url: str, tmp_path: Path) -> None:
    """An item that needs two records in its month, sent by two people at the same moment:
    the second waits for the first (PostgreSQL: its item rows are locked; SQLite: its
    writers queue), so it counts one before it and the item is done."""
    import threading

    path = tmp_path / "twice-a-month.yaml"
    path.write_text(TWICE, encoding="utf-8")
    rolled_out(db_url, str(path), D(2013, 9, 2))
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def record(who: str) -> None:
        start.wait()
        with db.session_for(db_url) as session:
            found = locate(session, "twice-a-month", "meeting", ("unit", "qiaotou-v01"),
                           occurrence="2013-09", dated=D(2013, 9, 10))  # fmt: skip
            org, rule, item = found.org, found.rule, found.item
            outcomes.append(
                submit(
                    session,
                    org=org,
                    item=item,
                    obligation=rule,
                    person=org.person_by_code[who],
                    submission=Submission({}, f"{who}的记录", [], D(2013, 9, 10)),
                    calendar=found.calendar,
                    now=utc_now(),
                    check_permission=False,
                )
            )

    threads = [threading.Thread(target=record, args=(p,)) for p in ("p-org-01", "p-org-02")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["accepted", "open"]
    with db.session_for(db_url) as session:
        status = session.execute(
            select(col(ChecklistItem.status)).where(col(ChecklistItem.occurrence) == "2013-09")
        ).scalar_one()
    assert status == "accepted"


def test_data_changed_outside_the_engine_are_found_against_the_audit_trail(rolled: str) -> None:
    """The chain holds after an edit of the data tables (no event was touched), so the data
    are checked against the events that made them: counts raised in place, a row added, an
    item set accepted by hand."""
    from sqlalchemy import text

    from models.store import audit

    act(rolled, "submit", PILOT, "pilot-rectification", "p-qiaotou-v01-sec", note="完成")
    act(rolled, "sign", PILOT, "pilot-rectification", "p-qiaotou-oc")
    act(
        rolled, "submit", "org-dept", "send-members", "p-org-01", note="选派",
        counts={"members": 3}, dated=D(2012, 11, 10),
    )  # fmt: skip

    def verify() -> tuple[int, str | None]:
        with db.session_for(rolled) as session:
            assert audit.verify(session)[1] is None  # the chain itself holds throughout
            return audit.verify_data(session)

    def sql(statement: str) -> None:
        with db.get_engine(rolled).begin() as conn:
            conn.execute(text(statement))

    assert verify() == (2, None)
    with db.session_for(rolled) as session:
        counted = session.execute(
            select(col(Evidence.id), col(Evidence.item_id)).where(col(Evidence.note) == "选派")
        ).one()
        signed_item = session.execute(
            select(col(Evidence.item_id)).where(col(Evidence.note) == "完成")
        ).scalar_one()
        other = (
            session.execute(
                select(col(ChecklistItem.id)).where(
                    col(ChecklistItem.status) == "open", col(ChecklistItem.id) != signed_item
                )
            )
            .scalars()
            .first()
        )
    sql(f"UPDATE evidence SET counts = '{{\"members\": 30}}' WHERE id = {counted.id}")
    differs = (
        counted.item_id,
        f"事项 {counted.item_id}：第 1 条办理记录与审计记录不符"
        "（其说明、数量、附件或办理日期在系统之外被改过）",
    )
    assert verify() == differs
    sql(f"UPDATE evidence SET counts = '{{\"members\": 3}}' WHERE id = {counted.id}")
    assert verify()[1] is None
    # backdated by hand: the day it was done is the claim the events hold too
    sql(f"UPDATE evidence SET dated = '2012-11-01' WHERE id = {counted.id}")
    assert verify() == differs
    sql(f"UPDATE evidence SET dated = '2012-11-10' WHERE id = {counted.id}")
    assert verify()[1] is None
    sql(f"UPDATE checklist_item SET status = 'accepted' WHERE id = {other}")
    assert verify() == (
        other,
        f"事项 {other}：状态为已完成，但审计记录中没有它的办理记录（状态在系统之外被改过）",
    )
    sql(f"UPDATE checklist_item SET status = 'open' WHERE id = {other}")
    sql(
        "INSERT INTO evidence (item_id, kind, person_id, recorded_at, dated, note, counts, "
        f"files) SELECT item_id, kind, person_id, recorded_at, dated, note, counts, files "
        f"FROM evidence WHERE id = {counted.id}"
    )
    assert "有 2 条办理记录，审计记录为 1 条" in (verify()[1] or "")


def test_a_town_is_judged_by_what_it_owed_by_the_day(db_url: str) -> None:
    # a year of weekly village meetings, nothing reported by early March: every town has
    # missed all it was asked, a small part of the year's items
    rolled_out(db_url, "village-meetings-2013", D(2013, 1, 4))
    day = D(2013, 3, 6)
    loaded = read_campaign(get_settings(), "village-meetings-2013")
    with db.session_for(db_url) as session:
        bring_to_day(session, loaded, calendar_for(get_settings()), day, now=utc_now())
        towns = campaign_progress(session, loaded, day).towns
    assert towns and all(t.owed == t.overdue > 0 for t in towns)
    assert all(t.overdue * 5 < t.items for t in towns)  # by the whole year: amber
    assert {t.rag for t in towns} == {"red"}


def test_progress_on_a_past_day_shows_the_phases_as_they_stood_then(db_url: str) -> None:
    # rolled out and brought to the end of the campaign, then read as of days within it: a
    # phase closed since must not read closed on a day it was still running, nor open before
    # it began
    rolled_out(db_url, "mass-line-2013", D(2013, 9, 3))
    loaded = read_campaign(get_settings(), "mass-line-2013")
    dates = loaded.phase_dates
    last = loaded.last_day + dt.timedelta(days=1)
    with db.session_for(db_url) as session:
        bring_to_day(session, loaded, calendar_for(get_settings()), last, now=utc_now())

        def statuses(day: dt.date) -> dict[str, str]:
            return {p.key: p.status for p in campaign_progress(session, loaded, day).phases}

        assert set(statuses(last).values()) == {"closed"}
        study = dates["study"]
        on_study = statuses(study.ends - dt.timedelta(days=1))
        assert on_study["study"] == "open"
        assert on_study["summary"] == "pending"
        assert statuses(study.ends)["study"] == "closed"  # as it stood at the day's end
        assert set(statuses(D(2013, 8, 1)).values()) == {"pending"}
