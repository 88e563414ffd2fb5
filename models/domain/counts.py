"""Counts as people report them: what a number may be (the web form's count fields, the
command line's --count, the offline workbook's 数量 column), and NAME=NUMBER."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from models.domain.campaign import CountSpec
from models.errors import EvidenceError


def whole_number(text: str) -> int:
    """A reported count: a whole number not below 0, in the digits any keyboard types (a
    Chinese input method's full-width ２ too, not a superscript ²). ValueError says what is
    wrong, to follow the count's name."""
    text = text.strip()
    if not text:
        raise ValueError("缺少数字")
    if text.startswith("-") and text[1:].strip().isdecimal():
        raise ValueError("不能为负数")
    if not text.isdecimal():
        raise ValueError(f"{text} 不是整数")
    return int(text)


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
        return name.strip(), whole_number(number)
    except ValueError as wrong:
        raise EvidenceError(f"数量 {part}：{wrong}") from None


def by_key(counts: Mapping[str, int], asked: Iterable[CountSpec]) -> dict[str, int]:
    """Reported counts under the keys an obligation asks them by: a count may be named by its
    key (`participants`) or by its Chinese name (`参加人数`), as a clerk reads it off the
    form. A name that is neither stays as given, for the check to refuse."""
    keys = {c.key for c in asked}
    names = {c.name.strip(): c.key for c in asked if c.name.strip() not in keys}
    return {n if n in keys else names.get(n.strip(), n): v for n, v in counts.items()}
