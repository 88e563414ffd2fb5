"""Organization files: the tree, people and pairings, from YAML, CSV or XLSX.

Departments keep these in spreadsheets, so CSV and XLSX headers may be English or Chinese.
Parsing only reads and shapes rows; `models.org_rules` decides whether they are acceptable.
Every row remembers where it came from (`FILE:ROW`) for the messages.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.workbooks import cell_text, check_columns, read_sheets
from config.yaml_lines import LoadedYaml, YamlLoadError, load_yaml_text, read_text_file
from models.errors import ImportRejected


@dataclass(frozen=True, kw_only=True)
class _FromFile:
    """Where a row was read (FILE:ROW, for messages) and how it came to be (import, filled)."""

    origin: str
    where: str


@dataclass(frozen=True)
class UnitRow(_FromFile):
    code: str
    name: str
    kind: str
    parent: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class PersonRow(_FromFile):
    code: str
    name: str
    unit: str
    roles: tuple[str, ...]
    channels: tuple[str, ...]


@dataclass(frozen=True)
class PairingRow(_FromFile):
    code: str
    kind: str
    cadre: str
    contact: str


@dataclass(frozen=True)
class OperatorRow:
    """Who may run commands that act for a person: an operating-system login, the person it
    is, and whether it may enter records on others' behalf (the department's staff typing
    in a paper record)."""

    login: str
    person: str
    proxy: bool
    where: str


@dataclass(frozen=True)
class NamedRow:
    """A role or a pairing kind: a code and its Chinese name."""

    code: str
    name: str
    where: str


@dataclass
class OrgData:
    source: Path
    key: str | None = None
    name: str | None = None
    # whom a campaign of this organization reminds when it names nobody (None: not given)
    responsible_roles: tuple[str, ...] | None = None
    district_roles: tuple[str, ...] | None = None
    roles: list[NamedRow] = field(default_factory=list)
    pairing_kinds: list[NamedRow] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)
    pairings: list[PairingRow] = field(default_factory=list)
    # None: the files name no operators (those imported before stay)
    operators: list[OperatorRow] | None = None


HEADER_ALIASES = {
    "编码": "code",
    "代码": "code",
    "名称": "name",
    "姓名": "name",
    "类型": "kind",
    "上级": "parent",
    "上级编码": "parent",
    "标签": "tags",
    "来源": "origin",
    "单位": "unit",
    "单位编码": "unit",
    "角色": "roles",
    "联系方式": "channels",
    "通知渠道": "channels",
    "登录名": "login",
    "账号": "login",
    "人员编码": "person",
    "代录": "proxy",
    "干部": "cadre",
    "联系对象": "contact",
    "结对类型": "kind",
}
TABLE_COLUMNS = {
    "units": ({"code", "name", "kind"}, {"parent", "tags", "origin"}),
    "people": ({"code", "name", "unit", "roles"}, {"channels", "origin"}),
    "pairings": ({"code", "kind", "cadre", "contact"}, {"origin"}),
    "roles": ({"code", "name"}, set()),
    "pairing_kinds": ({"code", "name"}, set()),
    "operators": ({"login", "person"}, {"proxy"}),
}
SHEET_ALIASES = {
    "组织": "organization",
    "单位": "units",
    "人员": "people",
    "结对": "pairings",
    "角色": "roles",
    "结对类型": "pairing_kinds",
    "操作员": "operators",
}
# The 组织 sheet (or a CSV with these two columns): one property per row.
ORG_PROPERTIES = {
    "key": "key",
    "编码": "key",
    "name": "name",
    "名称": "name",
    "responsible_roles": "responsible_roles",
    "责任角色": "responsible_roles",
    "district_roles": "district_roles",
    "区级角色": "district_roles",
}
ORG_HEADERS = ({"项目", "值"}, {"property", "value"})
_LIST_SPLIT = re.compile(r"[;；,，\s]+")
_CHANNEL_SPLIT = re.compile(r"[\s;；]+")


def _items(value: Any, pattern: re.Pattern[str]) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(cell_text(v) for v in value if cell_text(v))
    return tuple(p for p in pattern.split(cell_text(value)) if p)


def _row(table: str, values: dict[str, Any], where: str, default_origin: str) -> Any:
    get = lambda name: cell_text(values.get(name))  # noqa: E731
    origin = get("origin") or default_origin
    if table == "units":
        return UnitRow(
            get("code"),
            get("name"),
            get("kind"),
            get("parent") or None,
            _items(values.get("tags"), _LIST_SPLIT),
            origin=origin,
            where=where,
        )
    if table == "people":
        return PersonRow(
            get("code"),
            get("name"),
            get("unit"),
            _items(values.get("roles"), _LIST_SPLIT),
            _items(values.get("channels"), _CHANNEL_SPLIT),
            origin=origin,
            where=where,
        )
    if table == "pairings":
        return PairingRow(
            get("code"), get("kind"), get("cadre"), get("contact"), origin=origin, where=where
        )
    if table == "operators":
        proxy = get("proxy").lower() in ("是", "true", "yes", "1", "y", "可以")
        return OperatorRow(get("login"), get("person"), proxy, where)
    return NamedRow(get("code"), get("name"), where)


def _add(data: OrgData, table: str, row: Any) -> None:
    if table == "operators" and data.operators is None:
        data.operators = []
    getattr(data, table).append(row)


def _table_for_header(header: list[str], source: str) -> str:
    columns = set(header)
    for table, (required, optional) in TABLE_COLUMNS.items():
        if required <= columns <= required | optional:
            return table  # code+name reads as roles: roles come before pairing kinds
    raise ImportRejected(
        [
            f"{source}:1: 从表头（{'、'.join(header)}）看不出这是哪张表；应为以下之一的列："
            "单位（编码、名称、类型、上级、标签、来源）、人员（编码、姓名、单位、角色、通知渠道、"
            "来源）、结对（编码、结对类型、干部、联系对象、来源）、角色（编码、名称）、"
            "操作员（账号、人员编码、代录）"
        ]
    )


def _normalize_header(raw: list[Any]) -> list[str]:
    out = []
    for cell in raw:
        name = cell_text(cell)
        out.append(HEADER_ALIASES.get(name, name.lower()))
    return out


def _tabular(
    data: OrgData,
    table: str | None,
    header_raw: list[Any],
    rows: list[tuple[int, list[Any]]],
    source: str,
    label: str = "",
    sheet: str | None = None,
) -> None:
    """Rows of one table; each remembers where it was read: FILE:LINE for a CSV,
    FILE:SHEET!第N行 for a workbook (its sheets number their rows alike)."""
    header = _normalize_header(header_raw)
    if table is None:
        table = _table_for_header(header, source)
    required, optional = TABLE_COLUMNS[table]
    check_columns(header, set(required), required | optional, source, label)
    for number, cells in rows:
        if all(cell_text(c) == "" for c in cells):
            continue
        if len(cells) > len(header) and any(cell_text(c) for c in cells[len(header) :]):
            raise ImportRejected([f"{source}:{number}: {label}这一行的格子比表头的列多"])
        values = dict(zip(header, cells, strict=False))
        where = f"{source}:{sheet}!第{number}行" if sheet else f"{source}:{number}"
        _add(data, table, _row(table, values, where, "import"))


def read_csv(path: Path) -> OrgData:
    try:
        text = read_text_file(path, windows_chinese=True)
    except YamlLoadError as exc:
        raise ImportRejected([f"{path}:{exc.line}: {exc}"]) from None
    reader = csv.reader(io.StringIO(text))
    try:
        lines = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise ImportRejected([f"{path}:{reader.line_num}: CSV 格式不对：{exc}"]) from None
    if not lines:
        raise ImportRejected([f"{path}:1: 文件是空的，应有表头行"])
    data = OrgData(source=path)
    if {cell_text(c) for c in lines[0][1]} in ORG_HEADERS:
        _properties(data, lines[1:], str(path), "")
    else:
        _tabular(data, None, lines[0][1], lines[1:], str(path))
    return data


def _properties(data: OrgData, rows: list[tuple[int, list[Any]]], source: str, label: str) -> None:
    """The organization's own properties: key, name, the default roles reminded."""
    problems = []
    for number, cells in rows:
        name, value = (cell_text(c) for c in [*list(cells), None, None][:2])
        if not name or {name, value} <= {"项目", "值", "property", "value"}:
            continue
        field_name = ORG_PROPERTIES.get(name, ORG_PROPERTIES.get(name.lower()))
        if field_name is None:
            problems.append(
                f"{source}:{number}: {label}不认识的项目 {name}（应为 编码 key、名称 name、"
                "责任角色 responsible_roles、区级角色 district_roles 之一）"
            )
        elif field_name in ("key", "name"):
            setattr(data, field_name, value or None)
        else:
            setattr(data, field_name, _items(value, _LIST_SPLIT))
    if problems:
        raise ImportRejected(problems)


def read_xlsx(path: Path) -> OrgData:
    data = OrgData(source=path)
    seen = 0
    for title, rows in read_sheets(path):
        table = SHEET_ALIASES.get(title.strip(), title.strip().lower())
        if table not in TABLE_COLUMNS and table != "organization":
            continue
        if not rows:
            continue
        seen += 1
        if table == "organization":
            body = [(i + 1, list(r)) for i, r in enumerate(rows)]
            _properties(data, body, f"{path}", f"工作表 {title}：")
            continue
        body = [(i + 2, list(r)) for i, r in enumerate(rows[1:])]
        _tabular(data, table, list(rows[0]), body, str(path), f"工作表 {title}：", title.strip())
    if not seen:
        raise ImportRejected(
            [
                f"{path}:1: 没有名为 组织、单位、人员、结对、角色、结对类型（organization、"
                "units、people、pairings、roles、pairing_kinds）的工作表"
            ]
        )
    return data


def _yaml_list(loaded: LoadedYaml, name: str, problems: list[str]) -> list[tuple[int, Any]]:
    value = loaded.data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{loaded.path}:{loaded.line_of((name,))}: {name}: 应为列表")
        return []
    return [(loaded.line_of((name, i)), item) for i, item in enumerate(value)]


def read_yaml(path: Path) -> OrgData:
    try:
        loaded = load_yaml_text(read_text_file(path), path)
    except YamlLoadError as exc:
        raise ImportRejected([f"{path}:{exc.line}: {exc}"]) from None
    if not isinstance(loaded.data, dict):
        raise ImportRejected([f"{path}:1: 应为含 units、people、pairings 的映射"])
    known = {
        "key",
        "name",
        "source",
        "responsible_roles",
        "district_roles",
        "roles",
        "pairing_kinds",
        "units",
        "people",
        "pairings",
        "operators",
    }
    problems = [
        f"{path}:{loaded.line_of((k,))}: 不认识的字段 {k}（可用的有：{'、'.join(sorted(known))}）"
        for k in loaded.data
        if k not in known
    ]
    data = OrgData(
        source=path,
        key=cell_text(loaded.data.get("key")) or None,
        name=cell_text(loaded.data.get("name")) or None,
    )
    for name in ("responsible_roles", "district_roles"):
        if loaded.data.get(name) is not None:
            setattr(data, name, _items(loaded.data[name], _LIST_SPLIT))
    for table in ("roles", "pairing_kinds"):
        value = loaded.data.get(table) or {}
        if not isinstance(value, dict):
            problems.append(f"{path}:{loaded.line_of((table,))}: {table}: 应为 编码: 名称 的映射")
            continue
        for code, name in value.items():
            data_list = getattr(data, table)
            data_list.append(
                NamedRow(
                    cell_text(code), cell_text(name), f"{path}:{loaded.line_of((table, code))}"
                )
            )
    if "operators" in loaded.data:
        data.operators = []
    for table in ("units", "people", "pairings", "operators"):
        required, optional = TABLE_COLUMNS[table]
        for line, item in _yaml_list(loaded, table, problems):
            where = f"{path}:{line}"
            if not isinstance(item, dict):
                problems.append(f"{where}: {table}: 应为映射（名称: 值）")
                continue
            extra = sorted(set(item) - required - optional)
            if extra:
                problems.append(f"{where}: 不认识的字段 {'、'.join(map(str, extra))}")
                continue
            _add(data, table, _row(table, item, where, "import"))
    if problems:
        raise ImportRejected(problems)
    return data


def read_org_file(path: Path) -> OrgData:
    """Read any supported organization file by its extension."""
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return read_yaml(path)
    if suffix == ".csv":
        return read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    raise ImportRejected(
        [f"{path}:1: 不支持的文件类型 {suffix or '（无扩展名）'}；应为 .yaml、.csv 或 .xlsx"]
    )


def read_org_files(paths: list[Path]) -> OrgData:
    """Several files read as one import (a tree in YAML, people and pairings in sheets):
    every file is checked, and the problems of all of them are reported together."""
    if len(paths) == 1:
        return read_org_file(paths[0])
    merged = OrgData(source=paths[0])
    problems: list[str] = []
    for path in paths:
        try:
            part = read_org_file(path)
        except ImportRejected as exc:
            problems += exc.problems
            continue
        if merged.key and part.key and part.key != merged.key:
            problems.append(
                f"{path}:1: 属于组织 {part.key}，而 {merged.source} 属于 {merged.key}："
                "一次只能导入一个组织"
            )
        merged.key = merged.key or part.key
        merged.name = merged.name or part.name
        merged.responsible_roles = merged.responsible_roles or part.responsible_roles
        merged.district_roles = merged.district_roles or part.district_roles
        for table in ("units", "people", "pairings"):
            getattr(merged, table).extend(getattr(part, table))
        if part.operators is not None:
            merged.operators = (merged.operators or []) + part.operators
        for table in ("roles", "pairing_kinds"):
            # the same role named in the tree file and in a sheet is one role, not a duplicate
            known = {(r.code, r.name) for r in getattr(merged, table)}
            getattr(merged, table).extend(
                r for r in getattr(part, table) if (r.code, r.name) not in known
            )
    if problems:
        raise ImportRejected(problems)
    return merged
