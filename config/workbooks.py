"""Workbooks from outside (organization sheets, evidence sheets), read in one place: the
archive measured first, the XML parsed by openpyxl through defusedxml, each sheet's rows
bounded, every refusal one line naming the file."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.input_limits import bounded_rows, workbook_refusal
from models.errors import ImportRejected


def _refused(path: Path, exc: Exception) -> ImportRejected:
    # defusedxml refuses entity declarations, DTDs and external references
    return ImportRejected([f"{path}:1: 不予接收：其 XML 不是普通工作簿的（{type(exc).__name__}）"])


def cell_text(value: Any) -> str:
    """A cell as the text a person typed: blank for an empty cell, a date cell as
    YYYY-MM-DD, a whole number without the .0 spreadsheets give it (code 101 read back as
    101.0), surrounding spaces dropped."""
    if value is None:
        return ""
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return str(value.isoformat())[:10]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_sheets(path: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """(title, rows) of every sheet, values only."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if refusal := workbook_refusal(path):
        raise ImportRejected([f"{path}:1: {refusal}"])
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise ImportRejected([f"{path}:1: 没有这个文件"]) from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ImportRejected([f"{path}:1: 不是可读取的 .xlsx 工作簿（{exc}）"]) from None
    except Exception as exc:
        raise _refused(path, exc) from None
    try:
        sheets = []
        for sheet in book.worksheets:
            rows = bounded_rows(sheet.iter_rows(values_only=True), f"工作表 {sheet.title}")
            sheets.append((sheet.title, list(rows)))
        return sheets
    except ValueError as exc:
        raise ImportRejected([f"{path}:1: {exc}"]) from None
    except Exception as exc:
        raise _refused(path, exc) from None
    finally:
        book.close()


def check_columns(
    names: list[str], required: set[str], known: set[str], source: str, label: str = ""
) -> None:
    """A sheet's header names every required column and nothing else: one line saying what
    is missing and what is unknown, at the header's row."""
    unknown = [n for n in names if n and n not in known]
    missing = sorted(required - set(names))
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"缺少列 {'、'.join(missing)}")
        if unknown:
            parts.append(f"不认识的列 {'、'.join(unknown)}")
        raise ImportRejected([f"{source}:1: {label}{'；'.join(parts)}"])


def save_in_place(path: Path, save: Callable[[str], object]) -> None:
    """Save a file beside its target (`save` writes the scratch path it is given), then move
    it in place: a reader never sees half a file, and a failed save leaves the old one."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    try:
        save(scratch)
        os.replace(scratch, path)
    finally:
        Path(scratch).unlink(missing_ok=True)
