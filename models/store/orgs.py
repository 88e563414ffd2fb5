"""Reading and writing the organization tree. An import is checked whole, then written in
one transaction with upserts on codes, so re-importing updates and never duplicates."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, col

from config.org_file import OrgData
from models.domain.operators import may_change_organization, operators_of
from models.domain.org_import import ImportResult
from models.domain.org_snapshot import OrgSnapshot, no_person
from models.errors import ImportRejected, NotFound
from models.org_rules import UNIT_KINDS, ExistingOrg, check_org, codes_for_words, unit_paths
from models.store import audit
from models.store.db import insert_ignore, upsert
from models.store.instant import utc_now
from models.store.tables import (
    Organization,
    Pairing,
    PairingKind,
    Person,
    PersonRole,
    Role,
    Unit,
    columns,
    core,
)


def organizations(session: Session) -> list[Organization]:
    return list(session.execute(select(Organization).order_by(col(Organization.key))).scalars())


def find_org(session: Session, key: str) -> Organization:
    """The organization of that key; NotFound naming those there are."""
    found = session.execute(
        select(Organization).where(col(Organization.key) == key)
    ).scalar_one_or_none()
    if found is None:
        known = "、".join(o.key for o in organizations(session)) or "还没有"
        raise NotFound(
            f"组织 {key} 尚未导入（已导入：{known}）；"
            f"导入它：campaign orgs import 组织文件 --org {key}"
        )
    return found


def the_org(session: Session, key: str | None) -> Organization:
    """The organization named, or the only one the database holds."""
    if key:
        return find_org(session, key)
    known = organizations(session)
    if len(known) == 1:
        return known[0]
    if not known:  # --org would not help
        raise NotFound("还没有导入组织：先运行 campaign orgs import 组织文件")
    names = "、".join(o.key for o in known)
    raise NotFound(f"已导入多个组织（{names}），请用 --org 指明哪一个")


def org_for(
    session: Session, key: str | None, *, person: str | None = None, unit: str | None = None
) -> Organization:
    """The organization named by --org; without it, the one organization that has a person
    (or unit) of that code, else the only one imported. A code two organizations share
    needs --org."""
    code = person if person is not None else unit
    if key is None and code:
        what = f"人员 {person}" if person is not None else f"单位 {unit}"
        holding = orgs_with_code(session, person=person, unit=unit)
        if len(holding) > 1:
            raise NotFound(f"{what} 在多个组织中（{'、'.join(holding)}），请用 --org 指明")
        if holding:
            key = holding[0]
        elif known := organizations(session):
            names = "、".join(o.key for o in known)
            raise NotFound(f"没有{what}（已导入的组织：{names}）")
    return the_org(session, key)


def person_in(session: Session, *, org_key: str, code: str) -> Person:
    """The person of that code in that organization."""
    found = session.execute(
        select(Person)
        .join(Organization, col(Organization.id) == col(Person.org_id))
        .where(col(Organization.key) == org_key, col(Person.code) == code)
    ).scalar_one_or_none()
    if found is None:
        raise no_person(org_key, code)
    return found


def find_person(session: Session, code: str, org: str | None) -> Person:
    """The person of that code, in `org` or else in the one organization that has it."""
    return person_in(session, org_key=org_for(session, org, person=code).key, code=code)


def orgs_with_code(
    session: Session, *, person: str | None = None, unit: str | None = None
) -> list[str]:
    """The keys of the organizations that have a person (or else a unit) of that code:
    codes may repeat between organizations."""
    model: type[Person] | type[Unit] = Person if person is not None else Unit
    return list(
        session.execute(
            select(col(Organization.key))
            .join(model, col(model.org_id) == col(Organization.id))
            .where(col(model.code) == (person if person is not None else unit))
            .order_by(col(Organization.key))
        ).scalars()
    )


def org_id_of(session: Session, key: str) -> int:
    found = find_org(session, key).id
    assert found is not None  # a stored row
    return found


def existing_org(session: Session, org_id: int | None) -> ExistingOrg:
    if org_id is None:
        return ExistingOrg()
    units = session.execute(
        select(
            col(Unit.id), col(Unit.code), col(Unit.name), col(Unit.kind), col(Unit.parent_id)
        ).where(col(Unit.org_id) == org_id)
    ).all()
    code_of = {u.id: u.code for u in units}

    def codes(model: type[SQLModel]) -> frozenset[str]:
        table = core(model)
        stmt = select(table.c.code).where(table.c.org_id == org_id)
        return frozenset(session.execute(stmt).scalars())

    return ExistingOrg(
        unit_kinds={u.code: u.kind for u in units},
        unit_names={u.code: u.name for u in units},
        unit_parents={u.code: code_of.get(u.parent_id) for u in units},
        people=codes(Person),
        roles=codes(Role),
        pairing_kinds=codes(PairingKind),
        role_names={
            r.code: r.name
            for r in session.execute(
                select(col(Role.code), col(Role.name)).where(col(Role.org_id) == org_id)
            )
        },
    )


def _ids(session: Session, model: type[SQLModel], org_id: int) -> dict[str, int]:
    table = core(model)
    stmt = select(table.c.code, table.c.id).where(table.c.org_id == org_id)
    return {code: id_ for code, id_ in session.execute(stmt).all()}


def import_key(session: Session, data: OrgData, org_key: str | None) -> str:
    """Which organization an import is of: --org, else the files' own key, else the one
    organization the database holds (a sheet of new people for it)."""
    if org_key and data.key and org_key != data.key:
        raise ImportRejected([f"{data.source}:1: 文件属于组织 {data.key}，不是 {org_key}"])
    key = org_key or data.key
    if key:
        return key
    known = [o.key for o in organizations(session)]
    if len(known) == 1:
        return known[0]
    raise ImportRejected(
        [
            f"{data.source}:1: 这是哪个组织的？请用 --org 组织编码 指明，或在“组织”工作表"
            "写上（项目 编码，值 组织编码），或在 YAML 中写 key"
            + (f"（已导入：{'、'.join(known)}）" if known else "")
        ]
    )


def import_org(
    session: Session,
    data: OrgData,
    org_key: str | None = None,
    *,
    actor: str = "system",
    operator: str | None = None,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Check the whole import against what its organization holds, then write it;
    ImportRejected otherwise. Nothing of another organization is read or touched. A change
    is an audit event naming `actor` (roles decide who may approve gates and sign);
    `operator`, the OS login importing, must be allowed to change the organization."""
    try:
        key, key_problems = import_key(session, data, org_key), []
    except ImportRejected as exc:  # said with the rows' problems, after them
        key, key_problems = "", exc.problems
    current = session.execute(
        select(Organization).where(col(Organization.key) == key)
    ).scalar_one_or_none()
    existing = existing_org(session, current.id if current else None)
    data = codes_for_words(data, existing)
    problems = check_org(data, existing) + key_problems
    if problems:
        raise ImportRejected(problems)
    if current is not None and operator is not None:
        may_change_organization(operator, operators_of(current.operators or []), key)
    before = _snapshot_rows(session, current.id) if current else None
    if current is None:
        current = Organization(key=key, name=data.name or key)
        session.add(current)
        session.flush()
    assert current.id is not None  # flushed
    org_id = current.id
    if data.name:
        current.name = data.name
    if data.responsible_roles is not None:
        current.responsible_roles = list(data.responsible_roles)
    if data.district_roles is not None:
        current.district_roles = list(data.district_roles)
    if data.operators is not None:
        current.operators = [
            {"login": o.login, "person": o.person, "proxy": o.proxy} for o in data.operators
        ]

    for table, named in ((core(Role), data.roles), (core(PairingKind), data.pairing_kinds)):
        upsert(
            session,
            table,
            [{"org_id": org_id, "code": n.code, "name": n.name} for n in named],
            key=["org_id", "code"],
            update=["name"],
        )

    upsert(
        session,
        core(Unit),
        [
            {
                "org_id": org_id,
                "code": u.code,
                "name": u.name,
                "kind": u.kind,
                "tags": list(u.tags),
                "origin": u.origin,
                "path": "",
            }
            for u in data.units
        ],
        key=["org_id", "code"],
        update=["name", "kind", "tags", "origin"],
    )
    parents = dict(existing.unit_parents) | {u.code: u.parent for u in data.units}
    unit_ids = _ids(session, Unit, org_id)
    paths = unit_paths(parents)
    unit_table = core(Unit)
    session.execute(
        update(unit_table)
        .where(unit_table.c.code == bindparam("b_code"), unit_table.c.org_id == org_id)
        .values(parent_id=bindparam("b_parent"), path=bindparam("b_path")),
        [
            {"b_code": code, "b_parent": unit_ids[p] if p else None, "b_path": paths[code]}
            for code, p in parents.items()
        ],
    )

    upsert(
        session,
        core(Person),
        [
            {
                "org_id": org_id,
                "code": p.code,
                "name": p.name,
                "unit_id": unit_ids[p.unit],
                "channels": list(p.channels),
                "origin": p.origin,
            }
            for p in data.people
        ],
        key=["org_id", "code"],
        update=["name", "unit_id", "channels", "origin"],
    )
    person_ids = _ids(session, Person, org_id)
    role_ids = _ids(session, Role, org_id)
    imported = [person_ids[p.code] for p in data.people]
    for chunk in _chunks(imported, 500):
        session.execute(delete(PersonRole).where(col(PersonRole.person_id).in_(chunk)))
    insert_ignore(
        session,
        core(PersonRole),
        [
            {"person_id": person_ids[p.code], "role_id": role_ids[r]}
            for p in data.people
            for r in set(p.roles)
        ],
        key=["person_id", "role_id"],
    )

    kind_ids = _ids(session, PairingKind, org_id)
    existing_pairings = set(
        session.execute(select(col(Pairing.code)).where(col(Pairing.org_id) == org_id)).scalars()
    )
    upsert(
        session,
        core(Pairing),
        [
            {
                "org_id": org_id,
                "code": p.code,
                "kind_id": kind_ids[p.kind],
                "cadre_id": person_ids[p.cadre],
                "contact_id": person_ids[p.contact],
                "origin": p.origin,
            }
            for p in data.pairings
        ],
        key=["org_id", "code"],
        update=["kind_id", "cadre_id", "contact_id", "origin"],
    )
    after = _snapshot_rows(session, org_id)
    changed = before != after
    was = before.head if before and before.head else _OrgHead("", (), (), "")

    def if_changed(roles: list[str], earlier: tuple[str, ...]) -> tuple[str, ...] | None:
        return None if tuple(roles) == earlier else tuple(roles)

    def split(codes: list[str], held: set[str] | frozenset[str], table: str) -> tuple[int, int]:
        """(new, updated): updated counts the rows an import changed, not those it named."""
        was, now = _rows_by_code(before, table), _rows_by_code(after, table)
        new = sum(1 for c in codes if c not in held)
        return new, sum(1 for c in codes if c in held and was(c) != now(c))

    units = split([u.code for u in data.units], set(existing.unit_kinds), "units")
    people = split([p.code for p in data.people], existing.people, "people")
    pairings = split([p.code for p in data.pairings], existing_pairings, "pairings")
    result = ImportResult(
        key,
        changed,
        *units,
        *people,
        *pairings,
        len(data.roles),
        len(data.pairing_kinds),
        None if data.operators is None else len(data.operators),
        if_changed(current.responsible_roles or [], was.responsible_roles),
        if_changed(current.district_roles or [], was.district_roles),
        created=before is None,
    )
    if changed:
        current.revision = (current.revision or 0) + 1
        audit.append(
            session,
            actor=actor,
            action="org.imported",
            entity="organization",
            entity_key=key,
            payload={
                "source": str(data.source),
                **{
                    k: v
                    for k, v in asdict(result).items()
                    if k not in ("org", "changed", "created")
                },
            },
            now=now or utc_now(),
        )
    return result


class _OrgHead(NamedTuple):
    """What an import can change of the organization's own row."""

    name: str
    responsible_roles: tuple[str, ...]
    district_roles: tuple[str, ...]
    operators: str  # as repr wrote it


class _OrgRows(NamedTuple):
    """Everything an import can change of an organization; each table's rows sorted and
    written with repr, the code first, so that two reads compare equal when nothing changed."""

    head: _OrgHead | None
    roles: list[tuple[Any, ...]]
    pairing_kinds: list[tuple[Any, ...]]
    units: list[tuple[Any, ...]]
    people: list[tuple[Any, ...]]
    person_roles: list[tuple[Any, ...]]  # (person code, role code), not repr'd
    pairings: list[tuple[Any, ...]]


def _rows_by_code(snapshot: _OrgRows | None, table: str) -> Callable[[str], object]:
    """A code's row in one table of a snapshot (a person's with their roles: part of it)."""
    rows = {r[0]: r for r in getattr(snapshot, table)} if snapshot else {}
    roles: dict[str, set[str]] = defaultdict(set)
    if snapshot and table == "people":
        for person, role in snapshot.person_roles:
            roles[person].add(role)
    return lambda code: (rows.get(repr(code)), roles.get(code))


def _snapshot_rows(session: Session, org_id: int) -> _OrgRows:
    """Everything an import can change of an organization, to tell an unchanged import."""

    def rows(model: type[SQLModel], names: str) -> list[tuple[Any, ...]]:
        stmt = select(*columns(model, names)).where(core(model).c.org_id == org_id)
        return sorted(tuple(map(repr, r)) for r in session.execute(stmt).all())

    org = session.get(Organization, org_id)
    return _OrgRows(
        (
            _OrgHead(
                org.name,
                tuple(org.responsible_roles),
                tuple(org.district_roles),
                repr(org.operators),
            )
            if org
            else None
        ),
        rows(Role, "code name"),
        rows(PairingKind, "code name"),
        rows(Unit, "code name kind parent_id tags origin"),
        rows(Person, "code name unit_id channels origin"),
        sorted(
            session.execute(
                select(col(Person.code), col(Role.code))
                .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
                .join(Role, col(Role.id) == col(PersonRole.role_id))
                .where(col(Person.org_id) == org_id)
            ).all()
        ),
        rows(Pairing, "code kind_id cadre_id contact_id origin"),
    )


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


def org_counts(session: Session, org_id: int) -> OrgCounts:
    kinds = dict(
        session.execute(
            select(col(Unit.kind), func.count())
            .where(col(Unit.org_id) == org_id)
            .group_by(col(Unit.kind))
        ).all()
    )

    def count(model: type[SQLModel]) -> int:
        table = core(model)
        stmt = select(func.count()).select_from(table).where(table.c.org_id == org_id)
        return session.execute(stmt).scalar_one()

    return OrgCounts(
        units={k: kinds[k] for k in UNIT_KINDS if k in kinds},
        people=count(Person),
        pairings=count(Pairing),
        roles=count(Role),
    )


def org_tree(session: Session, org_id: int, root: str | None = None) -> list[UnitNode]:
    """The tree (or the subtree under `root`) with counts rolled up from the leaves."""
    rows = session.execute(
        select(
            *columns(Unit, "id code name kind parent_id tags origin"),
        )
        .where(col(Unit.org_id) == org_id)
        .order_by(col(Unit.path))
    ).all()
    nodes = {r.id: UnitNode(r.code, r.name, r.kind, list(r.tags or []), r.origin) for r in rows}
    people = Counter(
        session.execute(select(col(Person.unit_id)).where(col(Person.org_id) == org_id)).scalars()
    )
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
        raise NotFound(f"没有单位 {root}")
    return [found]


_held: dict[tuple[str, str], tuple[int, OrgSnapshot]] = {}


def held_snapshot(url: str, org: str, revision: int) -> OrgSnapshot | None:
    """The snapshot this process holds of the organization at that revision, if any."""
    held = _held.get((str(make_url(url)), org))
    return held[1] if held is not None and held[0] == revision else None


def current_snapshot(session: Session, org: str, revision: int | None = None) -> OrgSnapshot:
    """The organization's snapshot, read again only when an import has changed it since
    (its revision, read here unless the caller has it): a long-running reader (a web
    worker) pays one small query a request. Each process holds its own; none depends on
    another's."""
    if revision is None:
        revision = session.execute(
            select(col(Organization.revision)).where(col(Organization.key) == org)
        ).scalar_one_or_none()
    key = (str(session.get_bind().engine.url), org)
    held = _held.get(key)
    if held is not None and revision is not None and held[0] == revision:
        return held[1]
    snapshot = load_snapshot(session, org)
    if revision is not None:
        _held[key] = (revision, snapshot)
    return snapshot


def load_snapshot(session: Session, org: str) -> OrgSnapshot:
    """One organization's tree, people and pairings: nothing of another is read."""
    org_id = org_id_of(session, org)
    units = session.execute(
        select(
            *columns(Unit, "id code name kind tags parent_id"),
        ).where(col(Unit.org_id) == org_id)
    ).all()
    roles: dict[int, set[str]] = defaultdict(set)
    for person_id, role in session.execute(
        select(col(PersonRole.person_id), col(Role.code))
        .join(Role, col(Role.id) == col(PersonRole.role_id))
        .where(col(Role.org_id) == org_id)
    ).all():
        roles[person_id].add(role)
    persons = [
        (p.id, p.code, p.name, p.unit_id, frozenset(roles.get(p.id, ())), tuple(p.channels or ()))
        for p in session.execute(
            select(
                *columns(Person, "id code name unit_id channels"),
            ).where(col(Person.org_id) == org_id)
        ).all()
    ]
    pairings = [
        tuple(r)
        for r in session.execute(
            select(
                col(Pairing.id),
                col(Pairing.code),
                col(PairingKind.code),
                col(Pairing.cadre_id),
                col(Pairing.contact_id),
            )
            .join(PairingKind, col(PairingKind.id) == col(Pairing.kind_id))
            .where(col(Pairing.org_id) == org_id)
        ).all()
    ]
    snapshot = OrgSnapshot.build([tuple(u) for u in units], persons, pairings)
    snapshot.key = org
    snapshot.role_names = dict(
        session.execute(
            select(col(Role.code), col(Role.name)).where(col(Role.org_id) == org_id)
        ).all()
    )
    return snapshot
