"""Reminders, delivered to real receivers on 127.0.0.1 and counted there."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from config.campaign_files import calendar_for, read_campaign
from config.settings import get_settings
from models.store import db
from models.store.orgs import load_snapshot
from models.store.reminders import MAX_ATTEMPTS, OverdueItem, mark_overdue
from models.store.rollout import campaign_id
from models.store.tables import ChecklistItem, Person, Reminder, core
from tasks import channels
from tasks.reminder_tasks import sweep_reminders
from tests.db.rollout_helpers import import_shipped_org, rollout
from tests.receivers import http_receiver, smtp_receiver

D = dt.date
ML = "mass-line-2013"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def pending(item_id: int, recipient_id: int, rule: str, day: dt.date) -> dict[str, object]:
    """A reminder row due at 09:00 on `day`, as the planners write them."""
    return {
        "item_id": item_id,
        "rule": rule,
        "recipient_id": recipient_id,
        "send_on": day,
        "send_at": at(day),
        "status": "pending",
        "attempts": 0,
        "uncertain": False,
    }


def sweep(when: dt.datetime, *, retry_dead: bool = False, batch: int = 100_000) -> dict[str, int]:
    return sweep_reminders.fn(when.astimezone(dt.UTC), retry_dead=retry_dead, batch=batch)


@pytest.fixture
def ml(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    import_shipped_org(db_url)
    rollout(db_url, ML, D(2013, 9, 3))
    return db_url


def set_default(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("CAMPAIGN_NOTIFY_DEFAULT", url)
    get_settings.cache_clear()


def sweep_to(
    monkeypatch: pytest.MonkeyPatch, mode: str, when: dt.datetime, **kw: bool
) -> dict[str, int]:
    """A sweep at `when` with everyone's digests going to a receiver answering as `mode`."""
    with http_receiver(mode) as hook:
        set_default(monkeypatch, hook.url())
        return sweep(when, **kw)


def statuses(url: str) -> dict[str, int]:
    with db.session_for(url) as session:
        return dict(
            session.execute(
                select(col(Reminder.status), func.count()).group_by(col(Reminder.status))
            ).all()
        )


def test_planned_on_working_days_and_never_sent_early(
    ml: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calendar = calendar_for(get_settings())
    with db.session_for(ml) as session:
        days = session.execute(select(col(Reminder.send_on)).distinct()).scalars().all()
        for_plan = session.execute(
            select(col(Reminder.send_on), col(Reminder.rule))
            .join(ChecklistItem, col(ChecklistItem.id) == col(Reminder.item_id))
            .where(col(ChecklistItem.obligation_key) == "study-materials")
        ).all()
    assert days and all(calendar.is_working_day(d) for d in days)
    # study-materials is due Sept 10: three working days before is Thursday Sept 5
    assert sorted(for_plan) == [(D(2013, 9, 5), "before"), (D(2013, 9, 10), "due")]
    with http_receiver() as hook:
        set_default(monkeypatch, hook.url())
        sweep(at(D(2013, 9, 4), 18))  # what was due before Thursday
        hook.received.clear()
        assert sweep(at(D(2013, 9, 5), 8, 59)) == {}  # a minute early: nothing
        assert hook.received == []
        sent = sweep(at(D(2013, 9, 5)))
        assert sent["sent"] >= 1 and len(hook.received) == sent["digests"]
        again = sweep(at(D(2013, 9, 5), 9, 30))
        assert again == {}  # each reminder once
    texts = "\n".join(r["message"] for r in hook.received)
    assert "编印《学习材料汇编》" in texts and "截止9月10日（还有3个工作日）" in texts
    assert "提醒编号：" in texts


def test_a_completed_item_gets_no_more(ml: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_for(ml) as session:
        session.execute(
            update(ChecklistItem)
            .where(col(ChecklistItem.obligation_key) == "study-materials")
            .values(status="accepted")
        )
    with http_receiver() as hook:
        set_default(monkeypatch, hook.url())
        sweep(at(D(2013, 9, 10)))
    assert not any("学习材料汇编" in r["message"] for r in hook.received)
    with db.session_for(ml) as session:
        left = (
            session.execute(
                select(col(Reminder.status))
                .join(ChecklistItem, col(ChecklistItem.id) == col(Reminder.item_id))
                .where(col(ChecklistItem.obligation_key) == "study-materials")
            )
            .scalars()
            .all()
        )
    assert set(left) == {"cancelled"}


def test_overdue_items_are_escalated_to_the_supervising_unit(
    ml: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    calendar = calendar_for(settings)
    loaded = read_campaign(settings, ML, calendar)
    with db.session_for(ml) as session:

        def overdue_on(day: dt.date) -> list[OverdueItem]:
            return mark_overdue(
                session,
                spec=loaded.spec,
                campaign=campaign_id(session, ML),
                org=load_snapshot(session, "weihai-etdz"),
                calendar=calendar,
                today=day,
            )

        found = overdue_on(D(2013, 9, 11))
        rules = dict(
            session.execute(
                select(col(Reminder.rule), col(Reminder.send_on))
                .join(ChecklistItem, col(ChecklistItem.id) == col(Reminder.item_id))
                .where(col(ChecklistItem.obligation_key) == "study-materials")
            ).all()
        )
        again = overdue_on(D(2013, 9, 12))
    assert {f.obligation_key for f in found} >= {"study-materials", "implementation-plan"}
    assert again == []  # found overdue once
    # due Sept 10: repeats every 2 working days, escalation after 5, the district after 10
    assert rules["overdue-1"] == D(2013, 9, 12)
    assert rules["escalate"] == D(2013, 9, 17)
    # Sept 19-21 were the Mid-Autumn holidays and Sunday the 22nd a make-up working day
    assert rules["district"] == D(2013, 9, 25)


def test_failures_retry_then_dead_letter_then_retry_dead(
    ml: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_receiver("error500") as hook:
        set_default(monkeypatch, hook.url())
        first = sweep(at(D(2013, 9, 5)))
        assert first["failed"] >= 1 and "sent" not in first
        with db.session_for(ml) as session:
            row = (
                session.execute(select(Reminder).where(col(Reminder.attempts) == 1))
                .scalars()
                .first()
            )
        assert row is not None
        assert row.status == "pending" and "json" in row.last_error
        assert row.send_at > at(D(2013, 9, 5)).astimezone(dt.UTC)  # backed off
        for hour in range(10, 10 + MAX_ATTEMPTS):
            sweep(at(D(2013, 9, 5), hour))
    assert statuses(ml).get("dead", 0) >= 1
    result = sweep_to(monkeypatch, "ok", at(D(2013, 9, 5), 18), retry_dead=True)
    assert result["sent"] >= 1 and statuses(ml).get("dead", 0) == 0


@pytest.mark.parametrize("mode", ["errcode", "hang"])
def test_a_robot_that_refuses_or_hangs_is_a_failure(
    ml: str, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setattr(channels, "TIMEOUT", (1.0, 1.0))
    with http_receiver(mode) as robot:
        set_default(monkeypatch, robot.url("dingrobot", "/robot/send?access_token=t"))
        result = sweep(at(D(2013, 9, 5)))
    assert result["failed"] >= 1 and "sent" not in result
    assert robot.received and robot.received[0]["msgtype"] == "markdown"
    assert statuses(ml).get("sent", 0) == 0


def test_email_over_smtp_to_the_person_channel(ml: str) -> None:
    with smtp_receiver() as smtp:
        with db.session_for(ml) as session:
            session.execute(update(Person).values(channels=[smtp.url()]))
        result = sweep(at(D(2013, 9, 5)))
    assert result["sent"] >= 1 and len(smtp.messages) == result["digests"]
    assert smtp.messages[0]["subject"].startswith("【工作提醒】")
    assert "学习材料汇编" in "\n".join(m["body"] for m in smtp.messages)


def test_two_sweeps_at_once_deliver_each_reminder_once(
    ml: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.session_for(ml) as session:
        items = (
            session.execute(
                select(col(ChecklistItem.id)).where(col(ChecklistItem.status) == "open")
            )
            .scalars()
            .all()
        )
        recipient = session.execute(select(col(Person.id)).order_by(col(Person.id))).scalars().all()
    # every open item to every person: one reminder per item and person (a second of the
    # same pair would be superseded, not sent), some 3,500, in batches of 200
    rows = [pending(item, person, "load", D(2013, 9, 3)) for person in recipient for item in items]
    assert len(rows) > 3000
    with http_receiver() as hook:
        set_default(monkeypatch, hook.url())
        sweep(at(D(2013, 9, 3), 9, 59))  # the campaign's own reminders first
        hook.received.clear()
        with db.session_for(ml) as session:
            session.execute(core(Reminder).insert(), rows)
        results: list[dict[str, int]] = []
        barrier = threading.Barrier(2)

        def run() -> None:
            barrier.wait()
            results.append(sweep(at(D(2013, 9, 3), 10), batch=200))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
    assert sum(r.get("sent", 0) for r in results) == len(rows)
    keys = [r["message"].rsplit("提醒编号：", 1)[1].strip() for r in hook.received]
    assert len(keys) == len(set(keys))  # no digest twice
    lines = sum(
        len([x for x in r["message"].splitlines() if x[:1].isdigit()]) for r in hook.received
    )
    assert lines == len(rows)  # every reminder arrived once
    with db.session_for(ml) as session:
        assert (
            session.execute(
                select(func.max(col(Reminder.attempts))).where(col(Reminder.rule) == "load")
            ).scalar_one()
            == 1
        )


def test_a_receiver_that_trickles_its_answer_is_a_failure_within_the_deadline(
    ml: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_DELIVERY_SECONDS", "2")
    with http_receiver("trickle") as hook:
        set_default(monkeypatch, hook.url())
        done: list[dict[str, int]] = []
        sweeping = threading.Thread(target=lambda: done.append(sweep(at(D(2013, 9, 5)))))
        sweeping.start()
        sweeping.join(60)  # without the deadline it reads for 500 s
        assert done, "the sweep did not end"
    assert done[0]["failed"] >= 1 and "sent" not in done[0]
    with db.session_for(ml) as session:
        error = session.execute(
            select(col(Reminder.last_error)).where(col(Reminder.last_error).is_not(None)).limit(1)
        ).scalar_one()
    assert "2 秒内没有完整答复" in error


def test_a_failed_delivery_is_retried_by_the_next_days_sweep_at_its_hour(
    ml: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = sweep_to(monkeypatch, "error500", at(D(2013, 9, 5)))
    assert failed["failed"] >= 1
    # 09:00 the next working day: the retry (due 09:02 yesterday) goes with the day's own
    retried = sweep_to(monkeypatch, "ok", at(D(2013, 9, 6)))
    assert retried["sent"] >= failed["failed"]
    with db.session_for(ml) as session:
        left = session.execute(
            select(func.count()).where(
                col(Reminder.attempts) >= 1, col(Reminder.status) == "pending"
            )
        ).scalar_one()
    assert left == 0


def test_a_person_with_two_channels_one_failing_gets_one_copy_on_each(ml: str) -> None:
    """The outcome is kept per channel: the retries after one channel failed go only to
    it, never another copy to the channel that took the digest."""
    with http_receiver() as good, http_receiver("error500") as bad:
        with db.session_for(ml) as session:
            session.execute(update(Person).values(channels=[good.url(), bad.url()]))
        first = sweep(at(D(2013, 9, 5)))
        digests = len(good.received)
        assert digests >= 1 and first["failed"] >= 1 and "sent" not in first
        assert len(bad.received) == digests
        sweep(at(D(2013, 9, 5), 10))  # the retry, when its backoff has passed
        assert len(good.received) == digests  # no second copy
        assert len(bad.received) == 2 * digests
        bad.mode = "ok"
        last = sweep(at(D(2013, 9, 5), 11))
        assert last["sent"] >= 1 and last["digests"] == digests
        assert len(good.received) == digests and len(bad.received) == 3 * digests
    with db.session_for(ml) as session:
        left = session.execute(
            select(func.count())
            .select_from(Reminder)
            .where(col(Reminder.attempts) > 0, col(Reminder.status) != "sent")
        ).scalar_one()
    assert left == 0


def test_a_record_awaiting_its_signature_stops_the_doers_reminders_not_the_escalation(
    ml: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Study materials due Sept 10, reported (awaiting a signature) but never signed: the
    department, which did its part, hears no more of it; the escalation of Sept 17 still goes
    to the district; a record sent back is reminded to its doer again."""
    with db.session_for(ml) as session:
        session.execute(
            update(ChecklistItem)
            .where(col(ChecklistItem.obligation_key) == "study-materials")
            .values(status="submitted")
        )
        settings = get_settings()
        mark_overdue(
            session,
            spec=read_campaign(settings, ML, calendar_for(settings)).spec,
            campaign=campaign_id(session, ML),
            org=load_snapshot(session, "weihai-etdz"),
            calendar=calendar_for(settings),
            today=D(2013, 9, 11),
        )
    with http_receiver() as hook:
        set_default(monkeypatch, hook.url())
        for day in (D(2013, 9, 10), D(2013, 9, 12), D(2013, 9, 16), D(2013, 9, 17)):
            sweep(at(day))
    lines = [
        line for r in hook.received for line in r["message"].splitlines() if "学习材料汇编" in line
    ]
    assert lines and all("督办] 区直" in line for line in lines), lines
    # the district is told the record waits for its signature, not that the department is late
    assert all("1项已报送待签字（" in line for line in lines), lines
    with db.session_for(ml) as session:
        by_rule = dict(
            session.execute(
                select(col(Reminder.rule), func.count())
                .join(ChecklistItem, col(ChecklistItem.id) == col(Reminder.item_id))
                .where(
                    col(ChecklistItem.obligation_key) == "study-materials",
                    col(Reminder.status) == "cancelled",
                )
                .group_by(col(Reminder.rule))
            ).all()
        )
        session.execute(
            update(ChecklistItem)
            .where(col(ChecklistItem.obligation_key) == "study-materials")
            .values(status="rejected")
        )
    assert set(by_rule) == {"before", "due", "overdue-1", "overdue-2"}, by_rule
    with http_receiver() as hook:
        set_default(monkeypatch, hook.url())
        sweep(at(D(2013, 9, 18)))
    again = "\n".join(r["message"] for r in hook.received)
    assert "[已逾期] " in again and "编印《学习材料汇编》" in again, again
