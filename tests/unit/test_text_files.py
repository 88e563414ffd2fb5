"""Text files people bring: a sheet saved by Excel on a Chinese Windows is GBK, not UTF-8."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.evidence_sheet import read_evidence_sheet
from config.yaml_lines import YamlLoadError, read_text_file
from models.errors import ImportRejected

SHEET = (
    "对象编码,事项,周期,日期,录入人,说明\n"
    "qiaotou-v01,weekly-committee,2013-W02,2013-01-10,p-1,开会\n"
)


def test_a_sheet_saved_by_a_chinese_excel_is_read(tmp_path: Path) -> None:
    saved = tmp_path / "证据.csv"
    saved.write_bytes(SHEET.encode("gbk"))  # Excel's "CSV (逗号分隔)" on a Chinese Windows
    (row,) = read_evidence_sheet(saved)
    assert (row.subject, row.occurrence, row.note) == ("qiaotou-v01", "2013-W02", "开会")
    assert read_text_file(saved, windows_chinese=True) == SHEET
    # a campaign or organization file is UTF-8 only: GBK there is said, not guessed
    with pytest.raises(YamlLoadError, match="不是 UTF-8 编码的文本"):
        read_text_file(saved)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("空.csv", b"", "空文件：第一行应为表头"),
        ("证据.csv", SHEET.encode() + b"\x00", "这是二进制文件，应为 UTF-8 编码的文本"),
        ("证据.csv", b"\xff\xff\xfe\n", "既不是 UTF-8 也不是 GB18030（GBK）编码的文本"),
        ("证据.txt", SHEET.encode(), "不支持的文件类型 .txt：应为 .xlsx 或 .csv"),
    ],
)
def test_a_sheet_that_cannot_be_read_says_why(
    tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportRejected) as refused:
        read_evidence_sheet(path)
    assert refused.value.problems == [f"{path}:1: {says}"]
