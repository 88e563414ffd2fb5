"""Counts as people report them, NAME=NUMBER: one rule for the command line's --count and
the offline workbook's 数量 column."""

from __future__ import annotations

from models.errors import EvidenceError


def parse_count(part: str, *, blank_allowed: bool = False) -> tuple[str, int] | None:
    """One reported count; None for `NAME=` left blank where that is allowed (a workbook's
    template lists every count, and one left blank was not reported)."""
    name, sep, number = part.partition("=")
    if not sep or not name.strip():
        raise EvidenceError(f"数量 {part}：应写成 名称=数字")
    if not number.strip():
        if blank_allowed:
            return None
        raise EvidenceError(f"数量 {part}：等号后缺少数字")
    try:
        value = int(number)
    except ValueError:
        raise EvidenceError(f"数量 {part}：{number.strip()} 不是整数") from None
    if value < 0:
        raise EvidenceError(f"数量 {part}：不能为负数")
    return name.strip(), value
