"""Evidence kept offline in a spreadsheet: one row per submission, as a village clerk fills it.

Columns (Chinese or English headers): 对象编码/subject, 事项/obligation, 周期/occurrence
(optional), 日期/date, 录入人/by (optional: --by), 说明/note, 计数/counts (`key=N;key=N`),
附件/files (paths relative to the sheet's folder, `;` between them). Reading only shapes the
rows; every check against the campaign happens when they are imported.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.workbooks import cell_text, check_columns, read_sheets
from config.yaml_lines import YamlLoadError, read_text_file
from models.errors import ImportRejected

HEADERS = {
    "对象编码": "subject",
    "对象": "subject",
    "事项": "obligation",
    "事项编码": "obligation",
    "周期": "occurrence",
    "日期": "date",
    "录入人": "by",
    "说明": "note",
    "计数": "counts",
    "附件": "files",
}
COLUMNS = ("subject", "obligation", "occurrence", "date", "by", "note", "counts", "files")
REQUIRED = {"subject", "obligation", "date"}
TEMPLATE_HEADERS = (
    "对象编码",
    "对象名称",
    "事项",
    "事项名称",
    "周期",
    "截止日期",
    "日期",
    "录入人",
    "说明",
    "计数",
    "附件",
)
SHEET = "证据"


@dataclass(frozen=True)
class EvidenceRow:
    where: str
    subject: str
    obligation: str
    occurrence: str | None
    date: str
    by: str | None
    note: str | None
    counts: str
    files: tuple[str, ...]


def _rows(
    header: list[Any], body: list[tuple[int, list[Any]]], source: str, sheet: str | None = None
) -> list[EvidenceRow]:
    """The filled-in rows; each says where it was read: FILE:LINE for a CSV, FILE:SHEET!第N行
    for a workbook, as the organization's sheets do."""
    names = [HEADERS.get(cell_text(h), cell_text(h).lower()) for h in header]
    check_columns(names, set(REQUIRED), set(COLUMNS) | {"对象名称", "事项名称", "截止日期"}, source)
    out = []
    for number, cells in body:
        values = {n: cell_text(c) for n, c in zip(names, cells, strict=False) if n}
        if not any(values.get(c) for c in ("date", "note", "files")):
            continue  # an empty row, or a template row nobody filled in
        out.append(
            EvidenceRow(
                where=f"{source}:{sheet}!第{number}行" if sheet else f"{source}:{number}",
                subject=values.get("subject", ""),
                obligation=values.get("obligation", ""),
                occurrence=values.get("occurrence") or None,
                date=values.get("date", ""),
                by=values.get("by") or None,
                note=values.get("note") or None,
                counts=values.get("counts", ""),
                files=tuple(p for p in re.split(r"[;；]", values.get("files", "")) if p.strip()),
            )
        )
    return out


def read_evidence_sheet(path: Path) -> list[EvidenceRow]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = read_text_file(path, windows_chinese=True)
        except YamlLoadError as exc:
            raise ImportRejected([f"{path}:{exc.line}: {exc}"]) from None
        lines = list(csv.reader(io.StringIO(text)))
        if not lines:
            raise ImportRejected([f"{path}:1: 空文件：第一行应为表头"])
        return _rows(lines[0], [(i + 2, r) for i, r in enumerate(lines[1:])], str(path))
    if suffix in (".xlsx", ".xlsm"):
        sheets = dict(read_sheets(path))
        title = SHEET if SHEET in sheets else next(iter(sheets), SHEET)
        rows = sheets.get(title, [])
        if not rows:
            raise ImportRejected([f"{path}:1: 空表：第一行应为表头"])
        body = [(i + 2, list(r)) for i, r in enumerate(rows[1:])]
        return _rows(list(rows[0]), body, str(path), title)
    raise ImportRejected(
        [f"{path}:1: 不支持的文件类型 {suffix or '（无扩展名）'}：应为 .xlsx 或 .csv"]
    )
