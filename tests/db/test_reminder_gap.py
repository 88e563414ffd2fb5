"""The first sweep after a gap: nothing on a holiday, then one digest per person in which
each item appears once, as it stands; a second sweep that day sends nothing."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from models.domain.reminder_planning import add_up
from models.domain.vocabulary import ReminderStatus
from models.store import db
from models.store.tables import Reminder
from tasks.reminder_tasks import (
    mark_overdue_items,
    next_due,
    reminder_totals,
    sweep_reminders,
)
from tests.db.rollout_helpers import import_shipped_org, rollout, spoil_stored_campaign
from tests.db.test_reminders import ML, SHANGHAI, set_default
from tests.receivers import http_receiver

D = dt.date


def _addressee(title: str) -> str:
    """The person a digest's title names: 【工作提醒】NAME：..."""
    found = re.match(r"【工作提醒】(.+?)：", title)
    assert found, f"a digest title without a name: {title!r}"
    return found[1]


def sweep_on(day: dt.date, hour: int = 9) -> dict[str, int]:
    mark_overdue_items.fn(day)
    when = dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)
    return sweep_reminders.fn(when.astimezone(dt.UTC))


def test_after_national_day_each_person_gets_one_digest_with_each_item_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_shipped_org(db_url)
    rollout(db_url, ML, D(2013, 8, 20))  # and nothing swept since
    with http_receiver() as hook:
        set_default(monkeypatch, hook.url())
        holiday = sweep_on(D(2013, 10, 3))
        assert holiday == {"day_off": 1} and hook.received == []
        early = sweep_on(D(2013, 10, 8), hour=7)  # before the policy's 09:00
        assert early.get("sent", 0) == 0 and hook.received == []
        # what `campaign remind` then says: the late ones go at 09:00, and how many
        seven = dt.datetime(2013, 10, 8, 7, tzinfo=SHANGHAI).astimezone(dt.UTC)
        coming = next_due(seven, D(2013, 10, 8))
        assert coming is not None
        assert dt.datetime.fromisoformat(coming[0]) == dt.datetime(2013, 10, 8, 9, tzinfo=SHANGHAI)
        waiting = reminder_totals()[ReminderStatus.PENDING]

        first = sweep_on(D(2013, 10, 8))
        digests = list(hook.received)
        assert waiting - reminder_totals()[ReminderStatus.PENDING] == coming[1] > 5
        assert first["digests"] == len(digests) > 5
        names = Counter(_addressee(d["title"]) for d in digests)
        assert max(names.values()) == 1  # one digest per person
        for digest in digests:
            items = [
                (line.get("campaign"), line.get("obligation"), line.get("subject"), line["due"])
                for line in digest["lines"]
                if "town" not in line
            ]
            assert len(items) == len(set(items)), digest["message"]
            assert len(digest["lines"]) <= 20
            day = D(2013, 10, 8)
            for line in digest["lines"]:
                due = D.fromisoformat(line["due"])
                # each as it stands: due 8月26日 is 已逾期 on 10-08, never 即将到期
                expected = "overdue" if due < day else "today" if due == day else "upcoming"
                assert line["state"] == expected
                if expected == "overdue" and "town" not in line:
                    assert line["tag"] == "已逾期" and "还有" not in line["text"]

        hook.received.clear()
        again = sweep_on(D(2013, 10, 8), hour=15)
        assert again.get("sent", 0) == 0 and hook.received == []

    totals = reminder_totals()
    assert totals[ReminderStatus.SUPERSEDED] > 0
    with db.session_for(db_url) as session:
        planned = session.execute(select(func.count()).select_from(Reminder)).scalar_one()
        unsent_superseded = session.execute(
            select(func.count()).where(
                col(Reminder.status) == ReminderStatus.SUPERSEDED,
                col(Reminder.sent_at).is_not(None),
            )
        ).scalar_one()
    assert add_up(totals) == planned  # sent + superseded + cancelled + pending + dead
    assert unsent_superseded == 0
    assert totals["sent"] == first["sent"]


def test_one_unreadable_campaign_does_not_stop_the_others_reminders(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.reminder_tasks import campaign_problems

    import_shipped_org(db_url)
    rollout(db_url, ML, D(2013, 9, 3))
    rollout(db_url, "village-meetings-2013", D(2013, 9, 3))
    spoil_stored_campaign(
        db_url, "village-meetings-2013", "key: village-meetings-2013\nphasez: []\n"
    )
    (problem,) = campaign_problems()
    assert problem.startswith("village-meetings-2013: ")
    with http_receiver() as hook:
        set_default(monkeypatch, hook.url())
        result = sweep_on(D(2013, 9, 12))
    assert result["sent"] > 0 and hook.received
    assert any("群众路线" in m["message"] for m in hook.received)  # the readable one went out
