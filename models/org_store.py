"""Reading and writing the organization tree. An import is checked whole, then written in
one transaction with upserts on codes, so re-importing updates and never duplicates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, func, select, update
from sqlmodel import Session

from config.org_file import OrgData
from models.db import insert_ignore, upsert
from models.errors import ImportRejected, NotFound
from models.org_rules import UNIT_KINDS, ExistingOrg, check_org, unit_paths
from models.tables import Pairing, PairingKind, Person, PersonRole, Role, Unit


@dataclass(frozen=True)
class ImportResult:
    units_new: int
    units_updated: int
    people_new: int
    people_updated: int
    pairings_new: int
    pairings_updated: int
    roles: int
    pairing_kinds: int


def existing_org(session: Session) -> ExistingOrg:
    units = session.execute(select(Unit.id, Unit.code, Unit.kind, Unit.parent_id)).all()
    code_of = {u.id: u.code for u in units}
    return ExistingOrg(
        unit_kinds={u.code: u.kind for u in units},
        unit_parents={u.code: code_of.get(u.parent_id) for u in units},
        people=frozenset(session.execute(select(Person.code)).scalars()),
        roles=frozenset(session.execute(select(Role.code)).scalars()),
        pairing_kinds=frozenset(session.execute(select(PairingKind.code)).scalars()),
    )


def _ids(session: Session, table: type) -> dict[str, int]:
    stmt = select(table.code, table.id)  # type: ignore[attr-defined]
    return {code: id_ for code, id_ in session.execute(stmt).all()}


def import_org(session: Session, data: OrgData) -> ImportResult:
    """Check the whole import against what exists, then write it; ImportRejected otherwise."""
    existing = existing_org(session)
    problems = check_org(data, existing)
    if problems:
        raise ImportRejected(problems)

    upsert(
        session,
        Role.__table__,
        [{"code": r.code, "name": r.name} for r in data.roles],
        key=["code"],
        update=["name"],
    )
    upsert(
        session,
        PairingKind.__table__,
        [{"code": k.code, "name": k.name} for k in data.pairing_kinds],
        key=["code"],
        update=["name"],
    )

    upsert(
        session,
        Unit.__table__,
        [
            {
                "code": u.code,
                "name": u.name,
                "kind": u.kind,
                "tags": list(u.tags),
                "origin": u.origin,
                "path": "",
            }
            for u in data.units
        ],
        key=["code"],
        update=["name", "kind", "tags", "origin"],
    )
    parents = dict(existing.unit_parents) | {u.code: u.parent for u in data.units}
    unit_ids = _ids(session, Unit)
    paths = unit_paths(parents)
    session.execute(
        update(Unit.__table__)
        .where(Unit.__table__.c.code == bindparam("b_code"))
        .values(parent_id=bindparam("b_parent"), path=bindparam("b_path")),
        [
            {"b_code": code, "b_parent": unit_ids[p] if p else None, "b_path": paths[code]}
            for code, p in parents.items()
        ],
    )

    upsert(
        session,
        Person.__table__,
        [
            {
                "code": p.code,
                "name": p.name,
                "unit_id": unit_ids[p.unit],
                "channels": list(p.channels),
                "origin": p.origin,
            }
            for p in data.people
        ],
        key=["code"],
        update=["name", "unit_id", "channels", "origin"],
    )
    person_ids = _ids(session, Person)
    role_ids = _ids(session, Role)
    imported = [person_ids[p.code] for p in data.people]
    for chunk in _chunks(imported, 500):
        session.execute(delete(PersonRole).where(PersonRole.person_id.in_(chunk)))
    insert_ignore(
        session,
        PersonRole.__table__,
        [
            {"person_id": person_ids[p.code], "role_id": role_ids[r]}
            for p in data.people
            for r in set(p.roles)
        ],
        key=["person_id", "role_id"],
    )

    kind_ids = _ids(session, PairingKind)
    existing_pairings = set(session.execute(select(Pairing.code)).scalars())
    upsert(
        session,
        Pairing.__table__,
        [
            {
                "code": p.code,
                "kind_id": kind_ids[p.kind],
                "cadre_id": person_ids[p.cadre],
                "contact_id": person_ids[p.contact],
                "origin": p.origin,
            }
            for p in data.pairings
        ],
        key=["code"],
        update=["kind_id", "cadre_id", "contact_id", "origin"],
    )

    def split(codes: list[str], before: set[str] | frozenset[str]) -> tuple[int, int]:
        new = sum(1 for c in codes if c not in before)
        return new, len(codes) - new

    units = split([u.code for u in data.units], set(existing.unit_kinds))
    people = split([p.code for p in data.people], existing.people)
    pairings = split([p.code for p in data.pairings], existing_pairings)
    return ImportResult(*units, *people, *pairings, len(data.roles), len(data.pairing_kinds))


def _chunks(values: list[int], size: int) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


# Towns and streets first: they are what a reader of the tree looks for.
TREE_ORDER = ("town", "street", "village", "community", "department", "enterprise", "district")


@dataclass
class UnitNode:
    """A unit with its children and the counts of what lies below it."""

    code: str
    name: str
    kind: str
    tags: list[str]
    origin: str
    children: list[UnitNode] = field(default_factory=list)
    people: int = 0
    below: Counter[str] = field(default_factory=Counter)
    people_below: int = 0


@dataclass(frozen=True)
class OrgCounts:
    units: dict[str, int]
    people: int
    pairings: int
    roles: int


def org_counts(session: Session) -> OrgCounts:
    kinds = dict(session.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).all())

    def count(table: type) -> int:
        return session.execute(select(func.count()).select_from(table)).scalar_one()

    return OrgCounts(
        units={k: kinds[k] for k in UNIT_KINDS if k in kinds},
        people=count(Person),
        pairings=count(Pairing),
        roles=count(Role),
    )


def org_tree(session: Session, root: str | None = None) -> list[UnitNode]:
    """The tree (or the subtree under `root`) with counts rolled up from the leaves."""
    rows = session.execute(
        select(
            Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.tags, Unit.origin
        ).order_by(Unit.path)
    ).all()
    nodes = {r.id: UnitNode(r.code, r.name, r.kind, list(r.tags or []), r.origin) for r in rows}
    people = Counter(session.execute(select(Person.unit_id)).scalars())
    roots: list[UnitNode] = []
    for r in rows:
        nodes[r.id].people = people.get(r.id, 0)
        if r.parent_id is None or r.parent_id not in nodes:
            roots.append(nodes[r.id])
        else:
            nodes[r.parent_id].children.append(nodes[r.id])

    def roll(node: UnitNode) -> None:
        node.people_below = node.people
        for child in node.children:
            roll(child)
            node.below[child.kind] += 1
            node.below.update(child.below)
            node.people_below += child.people_below

    order = {kind: i for i, kind in enumerate(TREE_ORDER)}
    for node in nodes.values():
        node.children.sort(key=lambda n: (order.get(n.kind, 99), n.code))
    for node in roots:
        roll(node)
    if root is None:
        return roots
    found = next((n for n in nodes.values() if n.code == root), None)
    if found is None:
        raise NotFound(f"no unit with code {root!r}")
    return [found]
