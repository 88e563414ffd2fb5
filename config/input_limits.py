"""What a file from outside may be: checked before it is parsed, so that a hostile one is
refused in one line instead of filling the memory.

Workbooks are ZIP archives of XML: openpyxl parses their XML through defusedxml (installed,
so that entity expansion, the "billion laughs", is refused), and the archive is measured
here first (a zip bomb is small on disk and gigabytes unpacked). YAML is scanned as events
before it is composed: its nesting depth and the size it would have once its aliases are
expanded (an alias bomb is a few lines that expand to billions of nodes).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MAX_TEXT_BYTES = 5 * 1024 * 1024  # a campaign, organization or CSV file
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 200_000  # after aliases are expanded
MAX_WORKBOOK_UNPACKED = 100 * 1024 * 1024
MAX_WORKBOOK_ENTRIES = 2_000
MAX_SHEETS = 50
MAX_ROWS = 200_000  # per sheet
MAX_CELL_CHARS = 10_000  # no name, note or count needs more (Excel stops at 32,767)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB"


def text_refusal(size: int) -> str | None:
    if size > MAX_TEXT_BYTES:
        return f"文件有 {_mb(size)}，超过允许的 {_mb(MAX_TEXT_BYTES)}"
    return None


def yaml_refusal(text: str) -> tuple[int, str] | None:
    """(line, why) when the YAML is too deep or would expand past the node limit."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        ScalarEvent,
    )

    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # [anchor, size so far] of each open collection
    total = 0
    try:
        for event in YAML(typ="safe", pure=True).parse(text):
            line = (event.start_mark.line + 1) if event.start_mark else 1
            if isinstance(event, CollectionStartEvent):
                stack.append([event.anchor, 1])
                if len(stack) > MAX_YAML_DEPTH:
                    return line, f"嵌套超过 {MAX_YAML_DEPTH} 层"
                continue
            if isinstance(event, CollectionEndEvent):
                anchor, size = stack.pop()
                if anchor:
                    sizes[anchor] = size
                added = size
            elif isinstance(event, ScalarEvent):
                added = 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, AliasEvent):
                added = sizes.get(event.anchor, 1)
            else:
                continue
            if stack:
                stack[-1][1] += added
            else:
                total += added
            if total + sum(s for _, s in stack) > MAX_YAML_NODES:
                return line, (f"展开后超过 {MAX_YAML_NODES:,} 个值（别名套别名？）")
    except YAMLError:
        return None  # the loader says what is wrong, at its line
    except RecursionError:
        return 1, f"嵌套超过 {MAX_YAML_DEPTH} 层"
    return None


def workbook_refusal(path: Path) -> str | None:
    """Why a workbook may not be opened, judged from its archive's directory."""
    try:
        size = path.stat().st_size
    except OSError:
        return None  # the reader says it is missing
    if size > MAX_WORKBOOK_UNPACKED:
        return f"文件有 {_mb(size)}，超过允许的 {_mb(MAX_WORKBOOK_UNPACKED)}"
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return None  # not a workbook: the reader says so
    if len(entries) > MAX_WORKBOOK_ENTRIES:
        return f"含 {len(entries):,} 个部件，超过允许的 {MAX_WORKBOOK_ENTRIES:,} 个"
    unpacked = sum(e.file_size for e in entries)
    if unpacked > MAX_WORKBOOK_UNPACKED:
        return f"解压后有 {_mb(unpacked)}，超过允许的 {_mb(MAX_WORKBOOK_UNPACKED)}（压缩炸弹？）"
    sheets = sum(1 for e in entries if e.filename.startswith("xl/worksheets/sheet"))
    if sheets > MAX_SHEETS:
        return f"有 {sheets} 个工作表，超过允许的 {MAX_SHEETS} 个"
    return None


def bounded_rows(rows: Iterator[tuple[Any, ...]], where: str) -> Iterator[tuple[Any, ...]]:
    """A sheet's rows, refusing (ValueError, with `where` and the row) a sheet longer than
    MAX_ROWS or a cell longer than MAX_CELL_CHARS."""
    for n, row in enumerate(rows, 1):
        if n > MAX_ROWS:
            raise ValueError(f"{where}：超过 {MAX_ROWS:,} 行")
        for value in row:
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                raise ValueError(
                    f"{where}，第 {n} 行：有一格 {len(value):,} 个字符，超过 {MAX_CELL_CHARS:,}"
                )
        yield row
