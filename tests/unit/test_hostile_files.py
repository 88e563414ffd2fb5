"""Hostile files are refused in one line naming the file and the limit, before they are
parsed: entity expansion and zip bombs in workbooks, deep nesting, huge strings and alias
bombs in YAML."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from config.campaign_files import read_campaign
from config.input_limits import MAX_CELL_CHARS, MAX_YAML_DEPTH
from config.org_file import read_org_file
from config.settings import get_settings
from config.yaml_lines import YamlLoadError, load_yaml_text
from models.errors import ImportRejected, SpecError

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData>
</worksheet>"""


def workbook(path: Path, rows: list[list[object]], title: str = "units") -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def refused(path: Path) -> str:
    with pytest.raises(ImportRejected) as caught:
        read_org_file(path)
    (line,) = caught.value.problems
    assert line.startswith(f"{path}:1: "), line
    return line


def test_entity_expansion_in_a_workbook_is_refused(tmp_path: Path) -> None:
    good = workbook(tmp_path / "good.xlsx", [["code", "name", "kind", "parent"]])
    bomb = tmp_path / "laughs.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w") as out:
        for entry in src.infolist():
            data = src.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = LAUGHS.encode()
            out.writestr(entry, data)
    assert "不予接收" in refused(bomb)


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    good = workbook(tmp_path / "good.xlsx", [["code", "name", "kind", "parent"]])
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in src.infolist():
            out.writestr(entry, src.read(entry.filename))
        with out.open("xl/media/padding.bin", "w") as padding:
            chunk = b"\0" * (1 << 20)
            for _ in range(150):  # 150 MB of zeros: some 150 KB packed
                padding.write(chunk)
    assert bomb.stat().st_size < 2_000_000
    assert "解压后有" in refused(bomb) and "压缩炸弹" in refused(bomb)


def test_a_cell_longer_than_excel_allows_is_refused(tmp_path: Path) -> None:
    long = workbook(
        tmp_path / "long.xlsx",
        [["code", "name", "kind", "parent"], ["v1", "村" * (MAX_CELL_CHARS + 1), "village", ""]],
    )
    assert "超过 10,000" in refused(long) and "工作表 units，第 2 行" in refused(long)


def campaign_error(path: Path) -> str:
    with pytest.raises((SpecError, YamlLoadError)) as caught:
        read_campaign(get_settings(), str(path))
    return str(caught.value)


def test_deep_nesting_is_refused_without_recursing(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("key: x\nphases: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    assert f"嵌套超过 {MAX_YAML_DEPTH} 层" in campaign_error(deep)


def test_a_fifty_megabyte_string_is_refused_by_size(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("key: x\nname: " + "长" * (17 * 1024 * 1024) + "\n", encoding="utf-8")
    assert "超过允许的 5 MB" in campaign_error(big)


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 10)]
    bomb = tmp_path / "aliases.yaml"
    bomb.write_text("\n".join(lines) + "\nkey: x\n", encoding="utf-8")
    message = campaign_error(bomb)
    assert "展开后超过 200,000 个值" in message
    assert "aliases.yaml:6: " in message  # a5: the first that expands past the limit


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.integers(1, 300), fan=st.integers(1, 12), levels=st.integers(0, 8))
def test_any_nesting_and_aliasing_loads_or_is_refused_in_one_line(
    depth: int, fan: int, levels: int
) -> None:
    lines = ["a0: &a0 " + "[" * depth + "x" + "]" * depth]
    lines += [
        f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * fan) + "]" for n in range(1, levels + 1)
    ]
    text = "\n".join(lines) + "\n"
    try:
        load_yaml_text(text, Path("fuzz.yaml"))
    except YamlLoadError as exc:
        assert "\n" not in str(exc)
        assert "嵌套超过" in str(exc) or "展开后超过" in str(exc)
        assert depth > MAX_YAML_DEPTH - 1 or (depth + 1) * fan**levels > 1000
