"""Pydantic's validation messages in Chinese, for the people who fix a campaign file or a
setting: one table, used by the campaign file's checks and by the settings."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic_core import ErrorDetails

from models.domain.wording import CHOICE_ZH, UNIT_KIND_NAMES_ZH

# pydantic's error type → the message; {name} fields come from the error's ctx
_TYPES: dict[str, str] = {
    "missing": "缺少此项（必填）",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "set_type": "应为列表",
    "dict_type": "应为映射（名称: 值）",
    "model_type": "应为映射（名称: 值）",
    "model_attributes_type": "应为映射（名称: 值）",
    "date_type": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期 YYYY-MM-DD，不带时刻",
    "time_type": "应为时刻 HH:MM",
    "time_parsing": "应为时刻 HH:MM",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "too_short": "至少要有 {min_length} 项",
    "too_long": "至多 {max_length} 项",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "至多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符（应符合 {pattern}）",
    "literal_error": "应为 {expected} 之一",
    "enum": "应为 {expected} 之一",
}


# a pattern said in words: a planner reads "编码", not a regular expression
_PATTERNS: dict[str, str] = {
    r"^[a-z0-9][a-z0-9-]*$": "应为编码：小写英文字母、数字和 -，如 org-committee"
    "（中文名称写在 name、title 里）",
    r"^([01]\d|2[0-3]):[0-5]\d$": "应为 24 小时制的 时:分，如 09:00",
}


def message_zh(error: ErrorDetails) -> str:
    """The error in Chinese; our own validators' messages (value errors) as they are, and
    pydantic's English for a type this table does not know yet."""
    kind, message = error["type"], error["msg"]
    if kind in ("value_error", "assertion_error"):
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    template = _TYPES.get(kind)
    if kind == "string_pattern_mismatch":
        template = _PATTERNS.get(str((error.get("ctx") or {}).get("pattern")), template)
    if template is None:
        return message
    ctx = {k: _shown(v) for k, v in (error.get("ctx") or {}).items()}
    words = _choice_words(error)
    if kind == "literal_error" and words:
        # `per: street`: say what each choice means, not only its code
        ctx["expected"] = "、".join(f"{code}（{word}）" for code, word in words.items())
    try:
        return template.format(**ctx)
    except KeyError:
        return message


def _choice_words(error: ErrorDetails) -> Mapping[str, str] | None:
    """The Chinese words of the choices the field at the error offers, if it is one."""
    field = next((part for part in reversed(error["loc"]) if isinstance(part, str)), None)
    if field in ("kinds", "unit_kinds"):
        return UNIT_KIND_NAMES_ZH
    return CHOICE_ZH.get(field) if field else None


def _shown(value: object) -> str:
    """pydantic's `expected` reads "'a', 'b' or 'c'": listed the Chinese way."""
    text = str(value)
    return text.replace("' or '", "'、'").replace("', '", "'、'").replace("'", "")
