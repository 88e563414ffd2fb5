"""Whom an overdue item escalates to: a unit's to the unit above, a person's to their own
unit's head first."""

from __future__ import annotations

from models.domain.org_snapshot import OrgSnapshot
from models.domain.reminder_planning import boss_of, doer

ROLES = ["secretary", "org-committee"]


def org() -> OrgSnapshot:
    units: list[tuple[int, str, str, str, list[str], int | None]] = [
        (1, "d", "区", "district", [], None),
        (2, "t", "一镇", "town", [], 1),
        (4, "v", "甲村", "village", [], 2),
        (8, "dept", "组织部", "department", [], 1),
    ]
    persons = [
        (11, "sec", "李书记", 4, frozenset({"secretary", "party-member"})),
        (13, "m1", "王党员", 4, frozenset({"party-member"})),
        (14, "oc", "赵委员", 2, frozenset({"org-committee"})),
        (15, "c1", "孙干部", 8, frozenset({"cadre"})),
        (16, "n1", "周群众", 4, frozenset({"needy"})),
    ]
    pairings = [(20, "cn-1", "cadre-needy", 15, 16), (21, "mh-1", "member-help", 11, 13)]
    return OrgSnapshot.build(units, persons, pairings)


def code(person: object) -> str | None:
    return getattr(person, "code", None)


def test_a_member_is_reminded_and_escalates_to_the_village_secretary() -> None:
    o = org()
    assert code(doer(o, "person", 13, 4, ROLES)) == "m1"
    assert code(boss_of(o, "person", 13, 4, ROLES)) == "sec"


def test_the_secretary_himself_escalates_to_the_town() -> None:
    assert code(boss_of(org(), "person", 11, 4, ROLES)) == "oc"


def test_a_unit_escalates_to_the_unit_above() -> None:
    assert code(boss_of(org(), "unit", 4, 4, ROLES)) == "oc"


def test_a_pairing_reminds_its_cadre_and_escalates_within_the_cadres_unit_or_above() -> None:
    o = org()
    assert code(doer(o, "pairing", 21, 4, ROLES)) == "sec"  # member-help: the secretary helps
    assert code(boss_of(o, "pairing", 21, 4, ROLES)) == "oc"  # he heads the village himself
    assert code(doer(o, "pairing", 20, 8, ROLES)) == "c1"
    # nobody heads the department in this tree, nor the district: no one to escalate to
    assert boss_of(o, "pairing", 20, 8, ROLES) is None
