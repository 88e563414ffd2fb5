"""Who may record what, as a property: any person × any subject × any action, on the shipped
organization, against the rule written out plainly here."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.campaign_files import shipped_org_files
from config.org_file import read_org_files
from config.settings import get_settings
from models.domain.campaign import Gate, Inspection, SignOff
from models.domain.org_snapshot import OrgSnapshot
from models.domain.permissions import (
    SUPERVISING_ROLES,
    approvers_of,
    check_approver,
    may_approve,
    may_inspect,
    may_sign,
    may_submit,
)
from models.domain.simulation import acting_doer, acting_inspector, acting_signer
from models.errors import PermissionRefused

ROLES = ["secretary", "org-committee", "town-official", "inspector", "leading-group", "needy"]


def snapshot() -> OrgSnapshot:
    data = read_org_files(shipped_org_files(get_settings(), "weihai-etdz"))
    unit_ids = {u.code: n for n, u in enumerate(data.units, 1)}
    person_ids = {p.code: n for n, p in enumerate(data.people, 1)}
    return OrgSnapshot.build(
        [
            (unit_ids[u.code], u.code, u.name, u.kind, list(u.tags), unit_ids.get(u.parent or ""))
            for u in data.units
        ],
        [
            (person_ids[p.code], p.code, p.name, unit_ids[p.unit], frozenset(p.roles))
            for p in data.people
        ],
        [
            (n, p.code, p.kind, person_ids[p.cadre], person_ids[p.contact])
            for n, p in enumerate(data.pairings, 1)
        ],
    )


ORG = snapshot()
PEOPLE = sorted(ORG.persons)
UNITS = sorted(ORG.units)
PAIRS = sorted(ORG.pairings)


def ancestors(unit_id: int) -> list[int]:
    """The units above, nearest first: the rule's own walk up the tree."""
    out = []
    parent = ORG.units[unit_id].parent_id
    while parent is not None:
        out.append(parent)
        parent = ORG.units[parent].parent_id
    return out


def item_for(kind: str, pick: int) -> SimpleNamespace:
    if kind == "unit":
        unit = UNITS[pick % len(UNITS)]
        return SimpleNamespace(subject_type="unit", subject_id=unit, unit_id=unit)
    if kind == "person":
        person = ORG.persons[PEOPLE[pick % len(PEOPLE)]]
        return SimpleNamespace(subject_type="person", subject_id=person.id, unit_id=person.unit_id)
    pair = ORG.pairings[PAIRS[pick % len(PAIRS)]]
    return SimpleNamespace(
        subject_type="pairing", subject_id=pair.id, unit_id=ORG.persons[pair.cadre_id].unit_id
    )


people = st.sampled_from(PEOPLE).map(lambda i: ORG.persons[i])
items = st.builds(item_for, st.sampled_from(["unit", "person", "pairing"]), st.integers(0, 10**6))


@settings(max_examples=600, deadline=None)
@given(person=people, item=items)
def test_submission(person, item) -> None:
    own = (item.subject_type == "person" and item.subject_id == person.id) or (
        item.subject_type == "pairing" and ORG.pairings[item.subject_id].cadre_id == person.id
    )
    same_unit = item.unit_id == person.unit_id
    supervises = bool(person.roles & SUPERVISING_ROLES) and person.unit_id in ancestors(
        item.unit_id
    )
    assert may_submit(ORG, person, item) == (own or same_unit or supervises)


@settings(max_examples=600, deadline=None)
@given(
    person=people,
    item=items,
    role=st.sampled_from(ROLES),
    by=st.sampled_from(["supervisor", "same-unit", "district"]),
)
def test_sign_off(person, item, role: str, by: str) -> None:
    holds = role in person.roles
    if by == "same-unit":
        where = person.unit_id == item.unit_id
    elif by == "district":
        where = ORG.units[person.unit_id].town_id is None
    else:
        where = person.unit_id in ancestors(item.unit_id)
    rule = SignOff(role=role, by=by)
    assert may_sign(ORG, person, item, rule) == (holds and where)
    # four eyes: whoever submitted may never sign it, whatever their roles and unit
    assert not may_sign(ORG, person, item, rule, submitter_id=person.id)
    other = next(p for p in ORG.persons if p != person.id)
    assert may_sign(ORG, person, item, rule, submitter_id=other) == (holds and where)


@settings(max_examples=400, deadline=None)
@given(
    item=items,
    role=st.sampled_from(ROLES),
    by=st.sampled_from(["supervisor", "same-unit", "district"]),
    inspectors=st.lists(st.sampled_from(ROLES), min_size=1, max_size=3),
)
def test_a_rehearsal_plays_only_parts_the_permissions_allow(
    item, role: str, by: str, inspectors: list[str]
) -> None:
    # the doer: the subject itself, else someone of its unit, else of the nearest unit above
    doer = acting_doer(ORG, item)
    if item.subject_type == "unit":
        able = [
            sorted((p for p in ORG.persons.values() if p.unit_id == u), key=lambda p: p.code)
            for u in [item.unit_id, *ancestors(item.unit_id)]
        ]
        able = [[p for p in here if may_submit(ORG, p, item)] for here in able]
        first = next((here[0] for here in able if here), None)
        assert doer == first  # None: nobody in the unit or above it (the district's root)
    else:
        assert doer is not None and may_submit(ORG, doer, item)
    rule = SignOff(role=role, by=by)
    signer = acting_signer(ORG, item, rule)
    allowed = sorted(
        (p for p in ORG.persons.values() if may_sign(ORG, p, item, rule)), key=lambda p: p.code
    )
    assert signer == (allowed[0] if allowed else None)
    assert acting_signer(ORG, item, None) is None
    inspector = acting_inspector(ORG, inspectors)
    if any(ORG.role_holders.get(r) for r in inspectors):
        assert inspector is not None and may_inspect(inspector, inspectors)
    else:
        assert inspector is None


@settings(max_examples=300, deadline=None)
@given(person=people, roles=st.lists(st.sampled_from(ROLES), min_size=1, max_size=3))
def test_inspection_results_and_gates(person, roles: list[str]) -> None:
    allowed = bool(set(roles) & person.roles)
    inspection = Inspection(
        key="i", name="抽查", obligation="o", cadence="once", sample={"count": 1}, inspectors=roles
    )
    assert may_inspect(person, inspection.inspectors) == allowed
    gate = Gate(key="g", name="闸门", approvers=roles)
    if allowed:
        check_approver(gate, person)
    else:
        with pytest.raises(PermissionRefused) as refused:
            check_approver(gate, person, {r: f"名称{r}" for r in roles})
        assert str(refused.value).endswith("、".join(f"名称{r}" for r in roles))


@settings(max_examples=100, deadline=None)
@given(roles=st.lists(st.sampled_from(ROLES), min_size=1, max_size=3))
def test_the_approvers_of_a_gate_are_every_holder_of_its_roles_once_by_code(
    roles: list[str],
) -> None:
    gate = Gate(key="g", name="闸门", approvers=roles)
    found = [p.code for p in approvers_of(ORG, gate)]
    expected = sorted({p.code for p in ORG.persons.values() if p.roles & set(roles)})
    assert found == expected
    assert all(may_approve(ORG.person_by_code[c], gate) for c in found)
