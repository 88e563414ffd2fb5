"""Importing the organization: same counts on both databases, idempotent, all or nothing."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlmodel import Session, col

from config.org_file import read_org_file
from config.settings import get_settings
from models.errors import ImportRejected
from models.store import db
from models.store.orgs import import_org, org_counts, org_id_of, org_tree, organizations
from models.store.tables import Person, PersonRole, Role, Unit

SHIPPED = get_settings().orgs_dir / "weihai-etdz.yaml"
EXPECTED_UNITS = {
    "district": 1,
    "town": 3,
    "street": 3,
    "village": 100,
    "community": 35,
    "enterprise": 16,
    "department": 17,
}


def import_file(url: str, path: Path, org: str | None = None):
    with db.session_for(url) as session:
        return import_org(session, read_org_file(path), org)


def counts(url: str, org: str = "weihai-etdz"):
    with db.session_for(url) as session:
        return org_counts(session, org_id_of(session, org))


def test_shipped_org_imports_with_the_seed_figures(db_url: str) -> None:
    result = import_file(db_url, SHIPPED)
    assert (result.units_new, result.units_updated) == (175, 0)
    c = counts(db_url)
    assert c.units == EXPECTED_UNITS
    assert c.people == 185 and c.roles == 13
    with db.session_for(db_url) as session:
        [root] = org_tree(session, org_id_of(session, "weihai-etdz"))
        qiaotou = next(n for n in root.children if n.code == "qiaotou")
        path = session.execute(
            select(col(Unit.path)).where(col(Unit.code) == "qiaotou-mengjiazhuang")
        )
        assert path.scalar_one() == "/etdz/qiaotou/qiaotou-mengjiazhuang/"
        seed = session.execute(select(func.count()).where(col(Unit.origin) == "seed")).scalar_one()
    assert root.below["village"] == 100 and qiaotou.below["village"] == 34
    # 3 towns, 凤林, the 13 named villages and community, 17 departments, 4 enterprises
    assert seed == 1 + 4 + 13 + 17 + 4


def test_importing_twice_updates_and_never_duplicates(db_url: str) -> None:
    import_file(db_url, SHIPPED)
    first = counts(db_url)
    again = import_file(db_url, SHIPPED)
    # updated counts what changed, not what was named: nothing, here
    assert (again.units_new, again.units_updated) == (0, 0)
    assert (again.people_new, again.people_updated) == (0, 0)
    assert not again.changed
    assert counts(db_url) == first
    with db.session_for(db_url) as session:
        roles = session.execute(select(func.count()).select_from(PersonRole)).scalar_one()
    # leading group (4, 4, 3), department cadres, liaisons, inspectors, town officials,
    # secretaries
    assert roles == (4 + 4 + 3) + 12 * 3 + 15 * 3 + 2 * 3 + (6 * 4 + 12 * 3) + 135 * 3


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_bad_row_rejects_the_whole_file_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    import_file(db_url, SHIPPED)
    before = counts(db_url)
    path = write_csv(
        tmp_path / "units.csv",
        [
            ["code", "name", "kind", "parent"],
            ["qiaotou-new1", "新村一", "village", "qiaotou"],
            ["qiaotou-new2", "新村二", "villlage", "qiaotou"],
            ["qiaotou-new3", "新村三", "village", "nowhere"],
        ],
    )
    with pytest.raises(ImportRejected) as caught:
        import_file(db_url, path)
    assert caught.value.problems == [
        f"{path}:3: 没有单位类型 villlage（应为 区、镇、街道、村、社区、企业、部门 之一，或其编码 "
        "district、town、street、village、community、enterprise、department）",
        f"{path}:4: 没有上级单位 nowhere",
    ]
    assert counts(db_url) == before


def test_csv_with_chinese_headers_updates_existing_units(db_url: str, tmp_path: Path) -> None:
    import_file(db_url, SHIPPED)
    path = write_csv(
        tmp_path / "村居.csv",
        [
            ["编码", "名称", "类型", "上级", "标签"],
            ["qiaotou-mengjiazhuang", "孟家庄村", "village", "qiaotou", "weak;pilot"],
            ["qiaotou-new", "新建村", "village", "qiaotou", ""],
        ],
        encoding="gbk",  # as Excel's "CSV (逗号分隔)" saves it on a Chinese Windows
    )
    result = import_file(db_url, path)
    assert (result.units_new, result.units_updated) == (1, 1)
    with db.session_for(db_url) as session:
        tags = session.execute(
            select(col(Unit.tags)).where(col(Unit.code) == "qiaotou-mengjiazhuang")
        ).scalar_one()
        origin = session.execute(
            select(col(Unit.origin)).where(col(Unit.code) == "qiaotou-new")
        ).scalar_one()
    assert tags == ["weak", "pilot"] and origin == "import"
    assert counts(db_url).units["village"] == 101


def test_xlsx_with_people_and_pairings(db_url: str, tmp_path: Path) -> None:
    import_file(db_url, SHIPPED)
    book = Workbook()
    people = book.active
    people.title = "人员"
    people.append(["编码", "姓名", "单位", "角色", "通知渠道"])
    people.append(["c-001", "干部甲", "org-dept", "cadre;party-member", "mailto://a@example.org"])
    people.append(["n-001", "群众乙", "qiaotou-jiaoli", "needy", ""])
    people.append(["n-002", "群众丙", "qiaotou-jiaoli", "needy", ""])
    pairings = book.create_sheet("结对")
    pairings.append(["code", "kind", "cadre", "contact"])
    pairings.append(["pair-1", "cadre-needy", "c-001", "n-001"])
    pairings.append(["pair-2", "cadre-needy", "c-001", "n-002"])  # one-to-many
    path = tmp_path / "结对.xlsx"
    book.save(path)
    result = import_file(db_url, path)
    assert (result.people_new, result.pairings_new) == (3, 2)
    assert counts(db_url).pairings == 2
    with db.session_for(db_url) as session:
        person = session.execute(select(Person).where(col(Person.code) == "c-001")).scalar_one()
        roles = (
            session.execute(
                select(col(Role.code))
                .join(PersonRole, col(PersonRole.role_id) == col(Role.id))
                .where(col(PersonRole.person_id) == person.id)
                .order_by(col(Role.code))
            )
            .scalars()
            .all()
        )
    assert person.channels == ["mailto://a@example.org"]
    assert roles == ["cadre", "party-member"]


def by_code(url: str, column: Any, code: str) -> Any:
    """One column of the row with that code (a role's, a unit's, a person's)."""
    table = column.class_
    with db.session_for(url) as session:
        return session.execute(select(column).where(col(table.code) == code)).scalar_one()


def roles_of(session: Session, person: str) -> list[str]:
    return list(
        session.execute(
            select(col(Role.code))
            .join(PersonRole, col(PersonRole.role_id) == col(Role.id))
            .join(Person, col(Person.id) == col(PersonRole.person_id))
            .where(col(Person.code) == person)
            .order_by(col(Role.code))
        ).scalars()
    )


def test_xlsx_errors_name_the_sheet_and_row(db_url: str, tmp_path: Path) -> None:
    import_file(db_url, SHIPPED)
    book = Workbook()
    sheet = book.active
    sheet.title = "pairings"
    sheet.append(["code", "kind", "cadre", "contact"])
    sheet.append(["pair-1", "cadre-needy", "p-org-01", "p-org-01"])
    sheet.append(["pair-2", "friendship", "p-org-01", "nobody"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    with pytest.raises(ImportRejected) as caught:
        import_file(db_url, path)
    assert caught.value.problems == [
        f"{path}:pairings!第2行: 一个人不能与自己结对",
        f"{path}:pairings!第3行: 没有结对类型 friendship",
        f"{path}:pairings!第3行: 没有联系对象 nobody",
    ]
    assert counts(db_url).pairings == 0


def test_a_sheet_names_kinds_and_roles_as_the_department_writes_them(
    db_url: str, tmp_path: Path
) -> None:
    """类型 村, 角色 村党组织书记 (its 角色 sheet's name, or an imported role's), 上级 桥头镇 and
    单位 新村 (a unit's name), not codes; a word that is neither is named with the words
    there are, a name two units share with their codes."""
    import_file(db_url, SHIPPED)
    book = Workbook()
    roles = book.active
    roles.title = "角色"
    roles.append(["编码", "名称"])
    roles.append(["grid-head", "网格长"])
    units = book.create_sheet("单位")
    units.append(["编码", "名称", "类型", "上级"])
    town = by_code(db_url, Unit.name, "qiaotou")
    units.append(["qiaotou-new", "新村", "村", town])
    people = book.create_sheet("人员")
    people.append(["编码", "姓名", "单位", "角色"])
    secretary = by_code(db_url, Role.name, "secretary")
    people.append(["new-01", "新书记", "新村", f"{secretary}；网格长"])
    path = tmp_path / "新村.xlsx"
    book.save(path)
    result = import_file(db_url, path)
    assert (result.units_new, result.people_new) == (1, 1)
    with db.session_for(db_url) as session:
        unit = session.execute(select(Unit).where(col(Unit.code) == "qiaotou-new")).scalar_one()
        held = roles_of(session, "new-01")
    assert unit.kind == "village" and held == ["grid-head", "secretary"]
    assert unit.parent_id == by_code(db_url, Unit.id, "qiaotou")
    assert by_code(db_url, Person.unit_id, "new-01") == unit.id
    again = import_file(db_url, path)  # read as codes, the same file changes nothing
    assert (again.units_updated, again.people_updated) == (0, 0)

    units.append(["qiaotou-new2", "新村二", "乡", "qiaotou"])
    units.append(["qiaotou-new3", "新村", "村", "qiaotou"])  # a second 新村
    people.append(["new-02", "新委员", "qiaotou-new", "委员"])
    book.save(path)
    with pytest.raises(ImportRejected) as caught:
        import_file(db_url, path)
    kinds, shared, role = caught.value.problems
    assert kinds.startswith(f"{path}:单位!第3行: 没有单位类型 乡（应为 区、镇、街道、村、社区")
    assert shared == (
        f"{path}:人员!第2行: 没有单位 新村"
        "（名为新村的单位有2个：qiaotou-new、qiaotou-new3，请写编码）"
    )
    assert role.startswith(f"{path}:人员!第3行: 没有角色 委员（已有：")
    assert f"{secretary}（secretary）" in role and "网格长（grid-head）" in role


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", ":1: 文件是空的，应有表头行"),
        ("odd.csv", b"colour,size\nred,big\n", ":1: 从表头（colour、size）看不出这是哪张表"),
        ("units.csv", b"code,name,kind,parent\nx,X,district,,extra\n", ":2: 这一行的格子比表头"),
        (
            "cycle.csv",
            b"code,name,kind,parent\na,A,town,b\nb,B,town,a\n",
            ":2: 镇不能隶属于镇（b）；上级应为区",
        ),
        ("bin.xlsx", b"\x00\x01 not a zip", ":1: 不是可读取的 .xlsx 工作簿"),
        ("tree.txt", b"a", ":1: 不支持的文件类型 .txt；应为 .yaml、.csv 或 .xlsx"),
        ("units.csv", b"code,name,kind\nbad code!,X,district\n", ":2: 单位编码 'bad code!' 须为"),
    ],
)
def test_unreadable_files_are_rejected_with_a_row(
    db_url: str, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportRejected) as caught:
        import_file(db_url, path)
    assert any(message in p for p in caught.value.problems), caught.value.problems
    with db.session_for(db_url) as session:
        assert organizations(session) == []
        assert session.execute(select(func.count()).select_from(Unit)).scalar_one() == 0


def test_an_import_that_changes_something_is_an_audit_event_naming_who(db_url: str) -> None:
    from models.store.audit import verify
    from models.store.tables import AuditEvent

    with db.session_for(db_url) as session:
        import_org(session, read_org_file(SHIPPED), actor="os:planner")
    import_file(db_url, SHIPPED)  # the same again: nothing changed, nothing recorded
    with db.session_for(db_url) as session:
        events = (
            session.execute(select(AuditEvent).where(col(AuditEvent.action) == "org.imported"))
            .scalars()
            .all()
        )
        assert [(e.actor, e.entity_key) for e in events] == [("os:planner", "weihai-etdz")]
        assert events[0].payload["units_new"] == 175
        assert events[0].payload["operators"] is None  # the shipped file names none
        checked, broken = verify(session)
        assert checked >= 1 and broken is None
