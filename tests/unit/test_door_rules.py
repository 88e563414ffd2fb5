"""The web door's pure rules: what a person's list holds (never more than the permission
rules let them report), which obligations one record answers, tokens, links, channels."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.domain.campaign import CampaignSpec, EvidenceRule
from models.domain.digest import invitation
from models.domain.door import (
    DoorPages,
    asks_the_same,
    is_group_channel,
    link_usable,
    new_token,
    pages_for,
    progress_root,
    same_token,
    scope_of,
    sees_units_below,
    sign_in_url,
    token_hash,
    too_many_attempts,
)
from models.domain.operators import may_invite, may_print_sign_ins, operators_of
from models.domain.permissions import SUPERVISING_ROLES, may_submit
from models.errors import PermissionRefused
from tests.unit.test_permissions import ORG, PAIRS, PEOPLE, UNITS

RESPONSIBLE = sorted(SUPERVISING_ROLES)


def in_scope(scope, kind: str, subject_id: int, unit_id: int) -> bool:
    """The store's filter (models/store/door.py items_in_scope), written out."""
    return (
        (kind == "person" and subject_id == scope.person_id)
        or (kind == "pairing" and subject_id in scope.pairing_ids)
        or unit_id in scope.unit_ids
    )


@settings(max_examples=400, deadline=None)
@given(
    person=st.sampled_from(PEOPLE),
    kind=st.sampled_from(["unit", "person", "pairing"]),
    pick=st.integers(min_value=0),
)
def test_a_list_holds_only_what_its_person_may_report(person: int, kind: str, pick: int) -> None:
    someone = ORG.persons[person]
    if kind == "unit":
        subject_id = UNITS[pick % len(UNITS)]
        unit_id = subject_id
    elif kind == "person":
        subject_id = PEOPLE[pick % len(PEOPLE)]
        unit_id = ORG.persons[subject_id].unit_id
    else:
        subject_id = PAIRS[pick % len(PAIRS)]
        unit_id = ORG.persons[ORG.pairings[subject_id].cadre_id].unit_id
    item = SimpleNamespace(subject_type=kind, subject_id=subject_id, unit_id=unit_id)
    scope = scope_of(ORG, someone, RESPONSIBLE)
    if in_scope(scope, kind, subject_id, unit_id):
        assert may_submit(ORG, someone, item, frozenset(RESPONSIBLE))


def test_a_secretary_answers_for_their_village_a_town_official_for_none() -> None:
    secretary = ORG.person_by_code["p-qiaotou-v01-sec"]
    village = ORG.unit_by_code["qiaotou-v01"]
    assert scope_of(ORG, secretary, RESPONSIBLE).unit_ids == {village.id}
    committee = ORG.person_by_code["p-qiaotou-oc"]  # org-committee: the town and below
    town = ORG.unit_by_code["qiaotou"]
    units = scope_of(ORG, committee, RESPONSIBLE).unit_ids
    assert town.id in units and village.id in units
    assert ORG.unit_by_code["gushan"].id not in units
    official = ORG.person_by_code["p-qiaotou-o1"]  # no responsible role: only their own
    assert scope_of(ORG, official, RESPONSIBLE).unit_ids == frozenset()


def test_one_record_answers_obligations_that_ask_the_same() -> None:
    meeting = EvidenceRule.model_validate(
        {"note": True, "counts": [{"key": "attendees", "name": "参会人数", "min": 1}], "files": 1}
    )
    signed = meeting.model_copy(update={"sign_off": {"role": "org-committee"}})
    assert asks_the_same(meeting, signed)  # each goes on to its own sign-off
    assert not asks_the_same(meeting, EvidenceRule(note=True, files=1))
    assert not asks_the_same(meeting, meeting.model_copy(update={"files": 0}))


def test_tokens_links_and_attempts() -> None:
    token = new_token()
    assert len(token) >= 43 and token != new_token()
    assert token_hash(token) != token and len(token_hash(token)) == 64
    assert same_token(token, token) and not same_token(None, token)
    assert not same_token(token[:-1] + "x", token)
    now = dt.datetime(2026, 12, 4, 1, tzinfo=dt.UTC)
    later = now + dt.timedelta(days=7)
    assert link_usable(later, None, now)
    assert not link_usable(later, now, now)  # used
    assert not link_usable(now, None, now)  # expired
    assert not too_many_attempts(9) and too_many_attempts(10)
    assert sign_in_url("https://door.example.cn", "abc") == "https://door.example.cn/login?t=abc"


def test_a_sign_in_link_never_goes_to_a_group() -> None:
    assert is_group_channel("dingrobots://oapi.dingtalk.com/robot/send?access_token=x")
    assert is_group_channel("wecomrobot://127.0.0.1:9/cgi-bin/webhook/send?key=k")
    assert not is_group_channel("mailtos://user:pw@example.cn")
    assert not is_group_channel("json://127.0.0.1:9/hook")
    message = invitation("胡伟", dt.date(2026, 12, 4), "https://d/login?t=abc", 7)
    assert "网上办理：https://d/login?t=abc" in message.text()
    assert message.payload()["door"] == "https://d/login?t=abc"
    assert '<a href="https://d/login?t=abc">' in message.html()


def test_only_a_proxy_operator_prints_links_any_operator_invites() -> None:
    ops = operators_of(
        [
            {"login": "wangli", "person": "p-org-01", "proxy": True},
            {"login": "zhaoyu", "person": "p-qiaotou-oc", "proxy": False},
        ]
    )
    may_print_sign_ins("wangli", ops, "weihai-etdz")
    may_invite("zhaoyu", ops, "weihai-etdz")
    with pytest.raises(PermissionRefused, match="不能打印登录链接"):
        may_print_sign_ins("zhaoyu", ops, "weihai-etdz")
    with pytest.raises(PermissionRefused, match="未在组织 weihai-etdz 中登记"):
        may_invite("nobody", ops, "weihai-etdz")


def _spec(**extra: object) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "key": "tabs",
            "name": "规范化建设",
            "organization": "weihai-etdz",
            "reminders": {"responsible_roles": ["secretary"]},
            "phases": [
                {
                    "key": "build",
                    "name": "规范建设",
                    "start": "2026-12-01",
                    "end": "2026-12-31",
                    "obligations": [
                        {
                            "key": "meeting",
                            "title": "召开党员大会",
                            "subject": {"units": {"kinds": ["village"]}},
                            "evidence": {"note": True, "sign_off": {"role": "org-committee"}},
                        }
                    ],
                }
            ],
            **extra,
        }
    )


def test_a_person_is_offered_only_the_pages_their_roles_can_use() -> None:
    plain = _spec()
    checked = _spec(
        inspections=[
            {
                "key": "spot",
                "name": "抽查",
                "obligation": "meeting",
                "cadence": "once",
                "sample": {"count": 2},
                "inspectors": ["inspector"],
            }
        ],
        gates=[{"key": "pilot-done", "name": "试点验收", "approvers": ["leading-group"]}],
    )
    secretary = ORG.person_by_code["p-qiaotou-v01-sec"]
    assert pages_for(secretary, [plain, checked]) == DoorPages(
        sign=False, checks=False, gates=False, progress=True
    )
    committee = ORG.person_by_code["p-qiaotou-oc"]  # signs the villages' meetings
    assert pages_for(committee, [plain]) == DoorPages(
        sign=True, checks=False, gates=False, progress=False
    )
    # an inspection's rectification is signed off by its inspector role
    inspector = next(p for p in ORG.persons.values() if "inspector" in p.roles)
    assert pages_for(inspector, [plain]).checks is False
    assert pages_for(inspector, [checked]) == DoorPages(
        sign=True, checks=True, gates=False, progress=False
    )
    approver = next(p for p in ORG.persons.values() if "leading-group" in p.roles)
    assert pages_for(approver, [plain, checked]).gates is True
    assert pages_for(approver, []) == DoorPages(False, False, False, False)


def test_progress_shows_the_district_to_its_roles_and_a_unit_to_those_answering_for_it() -> None:
    spec = _spec(
        reminders={"responsible_roles": ["secretary"], "district_roles": ["org-dept-head"]}
    )
    assert spec.district_roles() == {"org-dept-head"}
    head = next(p for p in ORG.persons.values() if "org-dept-head" in p.roles)
    assert ORG.units[head.unit_id].code == "org-dept"  # a department under the district
    assert progress_root(ORG, head, spec) == ORG.unit_by_code["etdz"].id
    secretary = ORG.person_by_code["p-qiaotou-v01-sec"]
    assert progress_root(ORG, secretary, spec) == secretary.unit_id
    committee = ORG.person_by_code["p-qiaotou-oc"]  # signs, answers for no unit here
    assert progress_root(ORG, committee, spec) is None
    assert pages_for(head, [spec]).progress and not pages_for(committee, [spec]).progress
    # an empty list points to the escalations below: the district head's, not a village's
    assert sees_units_below(ORG, head, [spec])
    assert not sees_units_below(ORG, secretary, [spec])
    assert not sees_units_below(ORG, committee, [spec]) and not sees_units_below(ORG, head, [])
    town_spec = _spec(reminders={"responsible_roles": ["org-committee"]})
    assert sees_units_below(ORG, committee, [spec, town_spec])


def test_the_roles_answering_for_a_campaign_are_its_obligations() -> None:
    """The campaign's own roles count only through the obligations that take its policy:
    one whose every obligation names its own answers to those alone, as may_submit says."""
    assert _spec().responsible_roles() == {"secretary"}
    data = _spec().model_dump(by_alias=True, exclude_none=True)
    data["phases"][0]["obligations"][0]["reminders"] = {"responsible_roles": ["org-committee"]}
    own = CampaignSpec.model_validate(data)
    assert own.supervising(own.phases[0].obligations[0]) == {"org-committee"}
    assert own.responsible_roles() == {"org-committee"}
