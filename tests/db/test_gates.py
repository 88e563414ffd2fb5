"""A gate's answer as the store records it, whichever interface brought it (the door, the
command line, the Prefect UI's form)."""

from __future__ import annotations

import datetime as dt

import pytest

from config.campaign_files import read_campaign
from config.settings import get_settings
from models.errors import CampaignError
from models.store import db
from models.store.gates import gate_of, latest_decisions, record_decision
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.rollout import campaign_id
from tests.db.rollout_helpers import rolled_out

VR = "village-rectification-2013"


def test_a_rejection_is_recorded_only_with_a_reason(db_url: str) -> None:
    rolled_out(db_url, VR, dt.date(2012, 12, 3))
    gate = gate_of(read_campaign(get_settings(), VR).spec, "pilot-review")

    def answer(approved: bool, notes: str) -> None:
        with db.session_for(db_url) as session:
            head = load_snapshot(session, "weihai-etdz").person_coded("p-org-head-1")
            record_decision(
                session,
                campaign=campaign_id(session, VR),
                gate=gate,
                person=head,
                approved=approved,
                notes=notes,
                now=utc_now(),
            )

    # a NUL alone (a form can carry one; PostgreSQL cannot store it) is no reason
    for no_reason in ("", "  ", "\x00\n"):
        with pytest.raises(CampaignError, match="退回须说明理由"):
            answer(False, no_reason)
    answer(False, "试点\x00问题未整改到位")
    with db.session_for(db_url) as session:
        decision = latest_decisions(session, campaign_id(session, VR))["pilot-review"]
    assert not decision.approved and decision.notes == "试点问题未整改到位"
