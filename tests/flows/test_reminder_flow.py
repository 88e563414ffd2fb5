"""The daily sweep as a flow: overdue and escalation events for Prefect automations."""

from __future__ import annotations

import datetime as dt

import pytest
from prefect.client.orchestration import get_client
from prefect.events.clients import AssertingEventsClient
from prefect.events.worker import EventsWorker
from prefect.testing.fixtures import asserting_events_worker  # noqa: F401 - a fixture
from sqlalchemy import select
from sqlmodel import col

from config.settings import get_settings
from flows.remind import remind_due
from tests.db.rollout_helpers import import_shipped_org, rollout, spoil_stored_campaign
from tests.receivers import http_receiver

D = dt.date


def test_overdue_and_escalated_items_emit_events(
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    asserting_events_worker: EventsWorker,  # noqa: F811
) -> None:
    import_shipped_org(db_url)
    rollout(db_url, "mass-line-2013", D(2013, 9, 3))
    with http_receiver() as hook:
        monkeypatch.setenv("CAMPAIGN_NOTIFY_DEFAULT", hook.url())
        get_settings.cache_clear()
        first = remind_due(D(2013, 9, 11))  # study-materials was due on the 10th
        later = remind_due(D(2013, 9, 17))  # its escalation day
    asserting_events_worker.drain()
    events = AssertingEventsClient.last.events  # type: ignore[union-attr]
    overdue = [e for e in events if e.event == "campaign.item.overdue"]
    escalated = [e for e in events if e.event == "campaign.item.escalated"]
    assert first["overdue"] == len(overdue) >= 2
    assert later["escalated"] >= 1 and escalated
    roles = {r.role: r.id for r in escalated[0].related}
    assert roles["campaign"] == "campaign.mass-line-2013"
    assert roles["phase"].startswith("campaign.mass-line-2013.phase.")
    assert roles["unit"].startswith("campaign.unit.")
    assert any("已逾期" in r["message"] or "督办" in r["message"] for r in hook.received)
    # the UI's `reminders` artifact says what the later sweep did, in the command's words
    with get_client(sync_client=True) as client:
        artifacts = client.read_latest_artifacts()
    summary = next(a for a in artifacts if a.key == "reminders")
    assert isinstance(summary.data, str)
    assert summary.data.startswith("## 提醒（2013-09-17）\n\n新逾期事项 ")
    assert f"本次发送 {later['sent']} 条（{later['digests']} 份汇总，其中督办 " in summary.data
    totals = later["totals"]
    assert f"累计：已发送 {totals['sent']}，待发送 {totals['pending']}，" in summary.data


def test_a_failed_delivery_is_tried_again_on_its_schedule_in_the_same_run(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Live (no --as-of): the retry 2 minutes later is this run's, not the next morning's.
    The clock is the test's: sleeping moves it on."""
    import logging

    from sqlalchemy import func

    import flows.remind
    import tasks.reminder_tasks
    from models.store import db
    from models.store.tables import Reminder

    clock = [dt.datetime(2013, 9, 5, 1, 0, tzinfo=dt.UTC)]  # 09:00 in Shanghai, a Thursday
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += dt.timedelta(seconds=seconds)

    for module in (flows.remind, tasks.reminder_tasks):
        monkeypatch.setattr(module, "utc_now", lambda: clock[0])
    monkeypatch.setattr(flows.remind, "sleep", sleep)
    import_shipped_org(db_url)
    rollout(db_url, "mass-line-2013", D(2013, 9, 3))
    with http_receiver("flaky") as hook:
        monkeypatch.setenv("CAMPAIGN_NOTIFY_DEFAULT", hook.url())
        get_settings.cache_clear()
        with caplog.at_level(logging.WARNING):
            result = remind_due()
    assert slept and slept[0] == pytest.approx(120, abs=1)  # 2 minutes after the failure
    # each wait is said before it begins: the terminal is not silent for minutes
    waits = [r.getMessage() for r in caplog.records if "trying again at" in r.getMessage()]
    assert len(waits) == len(slept), caplog.text
    assert waits[0].endswith("trying again at 01:02:00 UTC (in 120 s); stopping now leaves "
                             "them to the next sweep"), waits  # fmt: skip
    assert int(waits[0].split()[0]) >= 1  # how many failed
    assert result["failed"] >= 1 and result["sent"] >= result["failed"]
    with db.session_for(db_url) as session:
        waiting = session.execute(
            select(func.count()).where(
                col(Reminder.status) == "pending", col(Reminder.attempts) > 0
            )
        ).scalar_one()
        retried = session.execute(
            select(func.count()).where(col(Reminder.status) == "sent", col(Reminder.attempts) == 2)
        ).scalar_one()
    assert waiting == 0 and retried >= 1
    assert hook.received[0]["key"] in {m["key"] for m in hook.received[1:]}  # sent again


def test_a_campaign_that_cannot_be_read_is_named_and_the_others_are_reminded(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored campaign that no longer reads (here: its text spoilt in the database) must not
    stop the sweep: the others' reminders go out, and the summary names it and why."""
    import_shipped_org(db_url)
    rollout(db_url, "mass-line-2013", D(2013, 9, 3))
    rollout(db_url, "village-bulletin-2013", D(2013, 9, 3))
    spoil_stored_campaign(db_url, "village-bulletin-2013", "key: village-bulletin-2013\nphases: [")
    with http_receiver() as hook:
        monkeypatch.setenv("CAMPAIGN_NOTIFY_DEFAULT", hook.url())
        get_settings.cache_clear()
        result = remind_due(D(2013, 9, 11))
    assert result["day"] == D(2013, 9, 11)
    # placed in the version rolled out, not in the file it came from (which reads well)
    (problem,) = result["problems"]
    assert problem.startswith("village-bulletin-2013: ") and "（已推行的第 1 版）:2: " in problem
    assert result["sent"] >= 1 and hook.received  # mass-line's reminders went out
    with get_client(sync_client=True) as client:
        artifacts = client.read_latest_artifacts()
    summary = next(a for a in artifacts if a.key == "reminders")
    assert isinstance(summary.data, str)
    assert "- 活动未能读取，其逾期事项未处理（其余活动照常发送）：village-bulletin-2013: " in (
        summary.data
    )
