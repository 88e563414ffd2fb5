"""Who may do what, over plain values: the one rule module the command line, the sweep's
rehearsal and any later interface share. A rule takes the organization snapshot, the
person and what they act on; it reads nothing and writes nothing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from models.domain.org_snapshot import OrgSnapshot, PersonInfo
from models.domain.vocabulary import SubjectType
from models.errors import PermissionRefused

# The roles that answer for a unit when a campaign names none: 书记, 组织委员, 部门联络员,
# 组织部领导. Holding one of them, a person also answers for the units below their own.
FALLBACK_RESPONSIBLE_ROLES = ("secretary", "org-committee", "dept-liaison", "org-dept-head")
SUPERVISING_ROLES = frozenset(FALLBACK_RESPONSIBLE_ROLES)


class Subject(Protocol):
    """What a rule needs of an item: its subject and the unit it belongs to."""

    @property
    def subject_type(self) -> str: ...
    @property
    def subject_id(self) -> int: ...
    @property
    def unit_id(self) -> int: ...


class SignOffRule(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def by(self) -> str: ...  # supervisor | same-unit | district


class ApprovalRule(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def approvers(self) -> Collection[str]: ...


def may_submit(
    org: OrgSnapshot,
    person: PersonInfo,
    item: Subject,
    supervising: frozenset[str] = SUPERVISING_ROLES,
) -> bool:
    """A person records evidence for subjects of their own unit; for units below it only
    when a role of theirs answers for units (`supervising`, the campaign's responsible
    roles); a person subject for themselves; a pairing's cadre for the pairing."""
    if item.subject_type == SubjectType.PERSON and item.subject_id == person.id:
        return True
    if item.subject_type == SubjectType.PAIRING:
        pairing = org.pairings[item.subject_id]
        if pairing.cadre_id == person.id:
            return True
    if item.unit_id == person.unit_id:
        return True
    return bool(person.roles & supervising) and org.is_within(item.unit_id, person.unit_id)


def holds_sign_off_role(person: PersonInfo, rule: SignOffRule | None) -> bool:
    """Whether the person holds the role a sign-off names: what can ever reach their 待我签字
    (`may_sign` then asks the unit, and that it is not their own submission)."""
    return rule is not None and rule.role in person.roles


def may_sign(
    org: OrgSnapshot,
    signer: PersonInfo,
    item: Subject,
    rule: SignOffRule,
    submitter_id: int | None = None,
) -> bool:
    """Whether the signer holds the sign-off's role in the unit it names. Four eyes: never
    the person who submitted what is signed."""
    if not holds_sign_off_role(signer, rule) or signer.id == submitter_id:
        return False
    subject_unit = org.units[item.unit_id]
    signer_unit = org.units[signer.unit_id]
    if rule.by == "same-unit":
        return signer_unit.id == subject_unit.id
    if rule.by == "district":
        return signer_unit.town_id is None
    # supervisor: a unit above the subject's
    return signer_unit.id != subject_unit.id and org.is_within(subject_unit.id, signer_unit.id)


def may_inspect(person: PersonInfo, inspectors: Collection[str]) -> bool:
    """An inspection's results are recorded by a holder of one of its inspector roles."""
    return bool(person.roles & set(inspectors))


def may_approve(person: PersonInfo, gate: ApprovalRule) -> bool:
    return bool(set(gate.approvers) & person.roles)


def approvers_of(org: OrgSnapshot, gate: ApprovalRule) -> list[PersonInfo]:
    """Everyone who may answer the gate, by code."""
    found = {p.code: p for role in gate.approvers for p in org.role_holders.get(role, [])}
    return [found[code] for code in sorted(found)]


def check_approver(
    gate: ApprovalRule, person: PersonInfo, role_names: Mapping[str, str] | None = None
) -> None:
    """Refused unless the person may answer the gate; the roles named in Chinese where the
    organization's table (`OrgSnapshot.role_names`) is given."""
    if not may_approve(person, gate):
        names = role_names or {}
        roles = "、".join(names.get(r, r) for r in gate.approvers)
        raise PermissionRefused(
            f"{person.code}（{person.name}）不能审批闸门 {gate.key}：须担任以下角色之一：{roles}"
        )
