"""The daily sweep as a flow: overdue and escalation events for Prefect automations."""

from __future__ import annotations

import datetime as dt

import pytest
from prefect.events.clients import AssertingEventsClient
from prefect.events.worker import EventsWorker
from prefect.testing.fixtures import asserting_events_worker  # noqa: F401 - a fixture

from config.settings import get_settings
from flows.remind import remind_due
from tests.db.rollout_helpers import import_shipped_org, rollout
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
