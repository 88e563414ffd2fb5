"""What makes an organization import acceptable. Pure: the caller passes what exists.

An import is checked whole before anything is written, so a bad row rejects the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from config.org_file import OrgData
from models.domain.text_safety import unsafe_characters
from models.domain.wording import UNIT_KIND_NAMES_ZH, role_words

UNIT_KINDS = ("district", "town", "street", "village", "community", "enterprise", "department")
# Which kind may sit under which: a village under a department is a typo, not a structure.
PARENT_KINDS: Mapping[str, frozenset[str]] = {
    "district": frozenset(),
    "town": frozenset({"district"}),
    "street": frozenset({"district"}),
    "department": frozenset({"district", "department"}),
    "village": frozenset({"town", "street"}),
    "community": frozenset({"town", "street"}),
    "enterprise": frozenset({"district", "town", "street"}),
}
ORIGINS = ("seed", "filled", "import")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class ExistingOrg:
    """What the database already holds, by code."""

    unit_kinds: Mapping[str, str] = field(default_factory=dict)
    unit_parents: Mapping[str, str | None] = field(default_factory=dict)
    people: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    pairing_kinds: frozenset[str] = frozenset()
    role_names: Mapping[str, str] = field(default_factory=dict)  # code → Chinese name
    unit_names: Mapping[str, str] = field(default_factory=dict)  # code → name


class _Coded(Protocol):
    code: str
    where: str


_ATTRIBUTE_ZH = {"name": "名称", "tags": "标签"}
_SIDE_ZH = {"cadre": "干部", "contact": "联系对象"}


def _kind_zh(kind: str) -> str:
    return UNIT_KIND_NAMES_ZH.get(kind, kind)


def _kinds_zh(kinds: Iterable[str]) -> str:
    return "或".join(_kind_zh(k) for k in sorted(kinds))


def _duplicates(rows: Iterable[_Coded], what: str) -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for row in rows:
        code, where = row.code, row.where
        if code in seen:
            problems.append(f"{where}: {what}编码 {code} 重复（首次出现在 {seen[code]}）")
        else:
            seen[code] = where
    return problems


ORG_FIELD_ZH = {"responsible_roles": "责任角色", "district_roles": "区级角色"}
KIND_OF_WORD = {name: kind for kind, name in UNIT_KIND_NAMES_ZH.items()}


def codes_for_words(data: OrgData, existing: ExistingOrg) -> OrgData:
    """The import with unit kinds and roles as a department's sheet writes them (类型 村,
    角色 村居书记: the names of its 角色 sheet or of roles imported before) read as their
    codes, by the rule a campaign workbook writes them (`role_words`); what is neither stays
    as written, for `check_org` to name."""
    names = {**existing.role_names, **{r.code: r.name for r in data.roles}}
    codes = {word: code for code, word in role_words(names).items()}

    def roles(values: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if values is None else tuple(codes.get(v, v) for v in values)

    called = _units_called(data, existing)

    def unit(value: str | None) -> str | None:
        named = called.get(value or "", ())
        return named[0] if len(named) == 1 else value

    return replace(
        data,
        responsible_roles=roles(data.responsible_roles),
        district_roles=roles(data.district_roles),
        units=[
            replace(u, kind=KIND_OF_WORD.get(u.kind, u.kind), parent=unit(u.parent))
            for u in data.units
        ],
        people=[
            replace(p, roles=roles(p.roles) or (), unit=unit(p.unit) or "") for p in data.people
        ],
    )


def _which(called: Mapping[str, list[str]], name: str) -> str:
    """For a unit named where its code goes and shared by several: which they are."""
    codes = called.get(name, [])
    if len(codes) > 1:
        return f"（名为{name}的单位有{len(codes)}个：{'、'.join(codes)}，请写编码）"
    return ""


def _units_called(data: OrgData, existing: ExistingOrg) -> dict[str, list[str]]:
    """The codes of the units each name stands for, where the name is no unit's code: a
    sheet's 单位 or 上级 may give 东滩1村 for lg-t1-v1 when one unit has that name."""
    names = {**existing.unit_names, **{u.code: u.name for u in data.units}}
    called: dict[str, list[str]] = {}
    for code, name in sorted(names.items()):
        if name and name not in names:
            called.setdefault(name, []).append(code)
    return called


def check_org(data: OrgData, existing: ExistingOrg) -> list[str]:
    """Every problem of the import, as `FILE:ROW: message`; empty when it may be written."""
    problems: list[str] = []
    called = _units_called(data, existing)
    for table, what in (
        ("roles", "角色"),
        ("pairing_kinds", "结对类型"),
        ("units", "单位"),
        ("people", "人员"),
        ("pairings", "结对"),
    ):
        rows = getattr(data, table)
        problems += _duplicates(rows, what)
        for row in rows:
            if not CODE.match(row.code):
                problems.append(
                    f"{row.where}: {what}编码 {row.code!r} 须为 1-64 个字母、数字或 . _ -"
                )
            if hasattr(row, "name") and not row.name:
                problems.append(f"{row.where}: {what} {row.code} 没有名称")
            for attribute in ("name", "tags"):
                value = getattr(row, attribute, None)
                texts = value if isinstance(value, list | tuple | frozenset) else [value or ""]
                found = sorted({c for t in texts for c in unsafe_characters(str(t))})
                if found:
                    problems.append(
                        f"{row.where}: {what} {row.code}：{_ATTRIBUTE_ZH[attribute]}含有控制字符"
                        f"（{'、'.join(found)}），会打乱提醒的行和台账的单元格"
                    )
            if hasattr(row, "origin") and row.origin not in ORIGINS:
                problems.append(f"{row.where}: 来源 {row.origin} 应为 {'、'.join(ORIGINS)} 之一")

    problems += _operator_problems(data, existing)
    kinds = dict(existing.unit_kinds)
    parents = dict(existing.unit_parents)
    for unit in data.units:
        kinds[unit.code] = unit.kind
        parents[unit.code] = unit.parent
    for unit in data.units:
        if unit.kind not in UNIT_KINDS:
            problems.append(
                f"{unit.where}: 没有单位类型 {unit.kind}（应为 "
                f"{'、'.join(UNIT_KIND_NAMES_ZH[k] for k in UNIT_KINDS)} 之一，或其编码 "
                f"{'、'.join(UNIT_KINDS)}）"
            )
            continue
        allowed = PARENT_KINDS[unit.kind]
        if unit.parent is None:
            if allowed:
                problems.append(
                    f"{unit.where}: {_kind_zh(unit.kind)}须有上级（{_kinds_zh(allowed)}）"
                )
        elif unit.parent not in kinds:
            problems.append(
                f"{unit.where}: 没有上级单位 {unit.parent}{_which(called, unit.parent)}"
            )
        elif kinds[unit.parent] not in allowed:
            problems.append(
                f"{unit.where}: {_kind_zh(unit.kind)}不能隶属于{_kind_zh(kinds[unit.parent])}"
                f"（{unit.parent}）；上级应为{_kinds_zh(allowed) if allowed else '空（没有上级）'}"
            )
    problems += _cycles(data, parents)

    roles = set(existing.roles) | {r.code for r in data.roles}
    names = {**existing.role_names, **{r.code: r.name for r in data.roles}}
    # the roles there are, as a sheet may name them: 督查员（inspector）
    known = "、".join(f"{names[r]}（{r}）" if names.get(r) else r for r in sorted(roles)) or "无"
    for field_name in ("responsible_roles", "district_roles"):
        for role in getattr(data, field_name) or ():
            if role not in roles:
                problems.append(
                    f"{data.source}:1: {ORG_FIELD_ZH[field_name]}: 没有角色 {role}（已有：{known}）"
                )
    people = set(existing.people) | {p.code for p in data.people}
    for person in data.people:
        if person.unit not in kinds:
            problems.append(f"{person.where}: 没有单位 {person.unit}{_which(called, person.unit)}")
        for role in person.roles:
            if role not in roles:
                problems.append(f"{person.where}: 没有角色 {role}（已有：{known}）")
    pairing_kinds = set(existing.pairing_kinds) | {k.code for k in data.pairing_kinds}
    for pairing in data.pairings:
        if pairing.kind not in pairing_kinds:
            problems.append(f"{pairing.where}: 没有结对类型 {pairing.kind}")
        for side in ("cadre", "contact"):
            code = getattr(pairing, side)
            if code not in people:
                problems.append(f"{pairing.where}: 没有{_SIDE_ZH[side]} {code}")
        if pairing.cadre == pairing.contact:
            problems.append(f"{pairing.where}: 一个人不能与自己结对")
    return problems


def _cycles(data: OrgData, parents: Mapping[str, str | None]) -> list[str]:
    problems = []
    for unit in data.units:
        seen = {unit.code}
        current = parents.get(unit.code)
        while current is not None:
            if current in seen:
                problems.append(f"{unit.where}: 单位 {unit.code} 成了自己的上级（隶属关系成环）")
                break
            seen.add(current)
            current = parents.get(current)
    return problems


def unit_paths(parents: Mapping[str, str | None]) -> dict[str, str]:
    """`/root/.../code/` for every unit, for subtree queries (`path LIKE '/etdz/qiaotou/%'`)."""
    out: dict[str, str] = {}

    def path(code: str) -> str:
        if code not in out:
            parent = parents.get(code)
            out[code] = (path(parent) if parent else "/") + code + "/"
        return out[code]

    for code in parents:
        path(code)
    return out


def _operator_problems(data: OrgData, existing: ExistingOrg) -> list[str]:
    """Each operator's login once, and a person of the organization (in the files or
    already imported)."""
    problems: list[str] = []
    people = set(existing.people) | {p.code for p in data.people}
    seen: dict[str, str] = {}
    for op in data.operators or []:
        if not op.login or not CODE.match(op.login):
            problems.append(f"{op.where}: 操作员账号 {op.login!r} 须为 1-64 个字母、数字或 . _ -")
        elif op.login in seen:
            problems.append(f"{op.where}: 操作员 {op.login} 重复（首次出现在 {seen[op.login]}）")
        seen.setdefault(op.login, op.where)
        if op.person not in people:
            problems.append(f"{op.where}: 操作员 {op.login}：没有人员 {op.person}")
    return problems
