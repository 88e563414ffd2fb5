"""A campaign as a workbook and back: every shipped campaign survives the round trip, a
planner's Chinese words are read, and every cell that cannot be read is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from config.campaign_files import (
    calendar_for,
    org_role_names,
    parse_text,
    read_campaign,
    shipped_campaigns,
)
from config.campaign_workbook import (
    campaign_from_workbook,
    read_campaign_workbook,
    role_words,
    write_campaign_workbook,
)
from config.settings import get_settings
from models.domain.date_rules import MonthPart, parse_rule
from models.errors import ImportRejected, SpecError

SHIPPED = [p.stem for p in shipped_campaigns(get_settings())]


def _import(path: Path):
    return campaign_from_workbook(get_settings(), path)


@pytest.mark.parametrize("key", SHIPPED)
def test_every_shipped_campaign_survives_yaml_workbook_yaml(key: str, tmp_path: Path) -> None:
    settings = get_settings()
    original = read_campaign(settings, key)
    book = tmp_path / f"{key}.xlsx"
    # roles written by their names, read back as codes
    write_campaign_workbook(original.spec, book, org_role_names(settings, "weihai-etdz"))
    loaded, text, _ = _import(book)
    assert loaded.spec == original.spec
    assert loaded.phase_dates == original.phase_dates
    again = parse_text(settings, text, tmp_path / f"{key}.yaml", calendar_for(settings))
    assert again.spec == original.spec


def test_the_workbook_speaks_chinese_and_offers_lists(tmp_path: Path) -> None:
    original = read_campaign(get_settings(), "village-meetings-2013")
    path = tmp_path / "plan.xlsx"
    write_campaign_workbook(original.spec, path, org_role_names(get_settings(), "weihai-etdz"))
    book = load_workbook(path)
    assert book.sheetnames[:9] == [
        "活动",
        "环节",
        "事项",
        "计数",
        "提醒",
        "目标",
        "闸门",
        "抽查",
        "分批",
    ]
    items = list(book["事项"].iter_rows(values_only=True))
    assert items[0][:4] == ("环节", "编号", "标题", "对象")
    weekly = next(r for r in items if r[1] == "weekly-committee")
    assert weekly[3] == "单位" and weekly[4] == "村" and weekly[10] == "每周"
    assert weekly[16:18] == ("镇（街道）机关干部", "上级单位")  # a role by its name
    phases = list(book["环节"].iter_rows(values_only=True))
    assert phases[1][2:4] == ("2013年1月1日", "2013年12月31日")
    lists = {str(dv.sqref): dv for dv in book["事项"].data_validations.dataValidation}
    assert lists["K2:K500"].formula1 == "'选项'!$B$2:$B$10"  # cadences
    assert lists["K2:K500"].showErrorMessage  # one pick, nothing else
    assert not lists["H2:H500"].showErrorMessage  # roles: several may be typed, 、-joined
    options = list(book["选项"].iter_rows(values_only=True))
    assert options[0][1] == "周期" and options[1][1] == "每周"
    assert ("村居党组织书记", "secretary") in {(r[2], r[-1]) for r in options}
    assert options[0][-1] == "角色编码"


def test_a_planners_words_are_read_beside_the_file_grammar() -> None:
    assert parse_rule("2025年4月中旬") == parse_rule("mid 2025-04") == MonthPart("mid", 2025, 4)
    assert parse_rule("本环节开始后10个工作日") == parse_rule("10 working days after start")
    assert parse_rule("study环节结束后1个工作日") == parse_rule("1 working day after study.end")
    assert parse_rule("2014年春节前") == parse_rule("before spring-festival 2014")


def _edited(tmp_path: Path, edits: dict[tuple[str, str], object]) -> Path:
    original = read_campaign(get_settings(), "village-meetings-2013")
    path = tmp_path / "plan.xlsx"
    write_campaign_workbook(original.spec, path)
    book = load_workbook(path)
    for (sheet, cell), value in edits.items():
        book[sheet][cell] = value
    book.save(path)
    return path


def test_cells_that_cannot_be_read_are_each_named(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        {
            ("事项", "K2"): "每天",
            ("环节", "D2"): "2013年13月底",
            ("环节", "C2"): "2013年2月30日",
            ("事项", "J3"): "2013年秋天",
            ("事项", "P3"): "一个",
            ("事项", "T1"): "备注",
        },
    )
    with pytest.raises(ImportRejected) as refused:
        read_campaign_workbook(path)
    problems = refused.value.problems
    assert (
        f"{path}:事项!K2: 周期：应为每周、每月、每两个月、每季度、每半年、每年、"
        "每年春节前、每年“七一”前、每年国庆节前之一，填的是“每天”" in problems
    )
    assert f"{path}:环节!D2: 结束：2013年13月底 中的月份 2013-13 不存在" in problems
    assert f"{path}:环节!C2: 开始：不存在的日期 2013-2-30：2013-02 只有 28 天" in problems
    assert any(  # not in any shape: the shapes a planner may write
        p.startswith(f"{path}:事项!J3: 截止：无法识别的日期“2013年秋天”（可写2013年9月3日")
        for p in problems
    )
    assert f"{path}:事项!P3: 附件数：应为整数，填的是“一个”" in problems
    assert any(p.startswith(f"{path}:事项!T1: 不认识的列“备注”") for p in problems)


def test_the_checks_of_validate_name_the_cell(tmp_path: Path) -> None:
    path = _edited(tmp_path, {("事项", "Q2"): "no-such-role", ("环节", "D2"): "2012年1月1日"})
    with pytest.raises(SpecError) as refused:
        _import(path)
    problems = refused.value.problems
    assert any(
        p.startswith(f"{path}:事项!Q2: 校验未通过：组织 weihai-etdz 中没有角色 no-such-role")
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{path}:环节!D2: 校验未通过：环节结束于 2011-12-31，早于开始的")
        for p in problems
    ), problems


def test_roles_are_written_by_name_and_read_by_name_or_code(tmp_path: Path) -> None:
    # a name that says a role alone is written; a shared, blank, list-splitting or code-like
    # name keeps the code
    assert role_words(
        {"a": "书记", "b": "委员", "c": "委员", "d": "", "e": "甲、乙", "f": "a", "g": " 督查 "}
    ) == {"a": "书记", "b": "b", "c": "c", "d": "d", "e": "e", "f": "f", "g": "督查"}
    # the planner types a name into a cell the export left blank, and a code into another
    signers = {3: "督查人员", 4: "inspector"}  # 签字角色 by name in row 3, by code in row 4
    edits: dict[tuple[str, str], object] = {("事项", f"Q{row}"): r for row, r in signers.items()}
    path = _edited(tmp_path, edits | {("事项", f"R{row}"): "区级" for row in signers})
    loaded, text, _ = _import(path)
    read = {
        ob.key: ob.evidence.sign_off.role
        for p in loaded.spec.phases
        for ob in p.obligations
        if ob.evidence.sign_off
    }
    book = load_workbook(path)
    rows = list(book["事项"].iter_rows(values_only=True))
    assert read[rows[2][1]] == read[rows[3][1]] == "inspector"
    assert "role: inspector" in text and "督查人员" not in text


def test_a_workbook_written_before_the_words_named_streets_still_reads(tmp_path: Path) -> None:
    # 每镇 and 按镇分层 became 每个镇或街道 and 按镇或街道分层: "town" is the level of both
    original = read_campaign(get_settings(), "village-rectification-2013")
    path = tmp_path / "earlier.xlsx"
    write_campaign_workbook(original.spec, path)
    book = load_workbook(path)
    header = [c.value for c in book["分批"][1]]
    per = book["分批"].cell(row=2, column=header.index("每") + 1)
    assert per.value == "每个镇或街道"
    per.value = "每镇"
    book.save(path)
    loaded, _, _ = _import(path)
    assert loaded.spec == original.spec
