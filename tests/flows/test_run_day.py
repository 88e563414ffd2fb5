"""Runs started as the Prefect UI starts them (the flow called with the form's values), for
a day still to come: refused before they do anything, except in a rehearsal; and a rehearsal
started there, refused where real campaigns are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from sqlalchemy import func, select
from sqlmodel import col

from config.settings import get_settings
from flows.catch_up import catch_up_campaign
from flows.inspection import inspect_campaign
from flows.phase import close_campaign_phase, open_campaign_phase
from flows.refresh_progress import refresh_progress
from flows.remind import remind_due
from flows.rollout import rollout_campaign
from flows.simulate import simulate_campaign
from models.errors import CampaignError, DateRuleError
from models.store import db
from models.store.instant import today_in
from models.store.tables import AuditEvent, Campaign, PhaseState, Reminder
from tests.db.rollout_helpers import import_shipped_org, item_count

D = dt.date
ML = "mass-line-2013"


def _counts(url: str) -> dict[str, Any]:
    with db.session_for(url) as session:
        return {
            "items": item_count(url),
            "reminders": session.execute(select(func.count()).select_from(Reminder)).scalar_one(),
            "events": session.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
            "phases": sorted(
                session.execute(select(col(PhaseState.phase_key), col(PhaseState.status))).all()
            ),
            "campaigns": sorted(session.execute(select(col(Campaign.key))).scalars()),
        }


def test_a_day_still_to_come_is_refused_and_nothing_is_done(db_url: str) -> None:
    import_shipped_org(db_url)
    rollout_campaign(ML, D(2013, 9, 3))  # a real rollout: study open, criticism pending
    before = _counts(db_url)
    today = today_in(get_settings().timezone)
    ahead = today + dt.timedelta(days=30)
    at_nine = dt.datetime.combine(ahead, dt.time(9, 0), dt.UTC)
    starts: list[tuple[str, Callable[[], object]]] = [
        ("as_of", lambda: rollout_campaign(ML, ahead)),
        ("on", lambda: open_campaign_phase(ML, "criticism", ahead)),
        ("on", lambda: close_campaign_phase(ML, "study", ahead)),
        ("as_of", lambda: inspect_campaign(ML, ahead)),
        ("as_of", lambda: remind_due(ahead)),
        ("now", lambda: catch_up_campaign(ML, at_nine)),
        ("as_of", lambda: refresh_progress(ML, ahead)),  # the UI's artifacts show today's
    ]
    for n, (what, start) in enumerate(starts):
        with pytest.raises(DateRuleError) as refused:
            start()
        assert str(refused.value).startswith(f"{what} {ahead} 晚于今天 {today}："), n
    assert _counts(db_url) == before
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                name=FlowRunFilterName(any_=[f"{ML} · criticism · open"])
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,  # other tests' runs share the name
            limit=1,
        )
    state = runs[0].state
    assert state is not None and state.type == StateType.FAILED
    assert f"{ahead} 晚于今天" in (state.message or "")  # what the UI shows on the run

    # a day that has come still runs
    assert open_campaign_phase(ML, "criticism", D(2013, 10, 8)) == 25


def test_a_rehearsal_may_act_for_days_ahead(db_url: str) -> None:
    import_shipped_org(db_url)
    simulate_campaign(ML, D(2013, 8, 25), D(2013, 8, 30), evidence=False, reminders=False)
    ahead = today_in(get_settings().timezone) + dt.timedelta(days=30)
    assert open_campaign_phase(ML, "criticism", ahead) == 25


def test_a_rehearsal_started_from_the_ui_is_refused_among_real_campaigns(db_url: str) -> None:
    import_shipped_org(db_url)
    rollout_campaign(ML, D(2013, 9, 3))
    before = _counts(db_url)
    with pytest.raises(CampaignError, match="已有正式下发的活动（mass-line-2013）"):
        simulate_campaign("village-rectification-2013", D(2012, 11, 1), D(2012, 11, 30))
    assert _counts(db_url) == before
