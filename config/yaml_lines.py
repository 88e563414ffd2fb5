"""YAML loading that remembers the line of every key and item, for `FILE:LINE:` messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from config.input_limits import text_refusal, yaml_refusal

Loc = tuple[str | int, ...]


class _StringDates(RoundTripConstructor):
    """Keep dates as strings, so that 2013-02-30 reaches our parser and gets a clear message."""


_StringDates.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)


@dataclass
class LoadedYaml:
    """Plain data (dicts, lists, scalars) and the line (1-based) of each location in it."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int:
        """The line of a location, or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def problem(self, loc: Sequence[str | int], message: str) -> str:
        return f"{self.path}:{self.line_of(loc)}: {format_loc(loc)}: {message}"


class YamlLoadError(Exception):
    """The file is not a YAML document we can read; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


# What a Chinese writer types by mistake, and what YAML wants instead.
FULL_WIDTH = {"：": ":", "，": ",", "“": '"', "”": '"', "　": " "}


def explain_yaml_error(text: str, line: int, problem: str) -> tuple[int, str]:
    """The parser's complaint in plain words, at the line that caused it: full-width
    punctuation and tabs are named (the parser trips a line later, at the next key)."""
    lines = text.splitlines()
    for number in (line - 1, line, line - 2):  # the line before is the usual culprit
        if not 1 <= number <= len(lines):
            continue
        content = lines[number - 1]
        if "\t" in content[: len(content) - len(content.lstrip())]:
            return number, "用了制表符（Tab）缩进：YAML 只认空格，请把 Tab 换成空格"
        code = content.split("#", 1)[0]
        key_part = code.split(":", 1)[0]
        if "：" in key_part:
            return number, (
                "用了全角冒号“：”：字段名与值之间要用半角冒号“:”，后加一个空格"
                "（如 due: 2025-04-30）"
            )
        flow = "".join(re.findall(r"[\[{][^\]}]*[\]}]?", code))
        for wide in "，“”":
            if wide in flow:
                return number, (
                    f"方括号或花括号里用了全角的“{wide}”：列表和映射要用半角的“{FULL_WIDTH[wide]}”"
                )
    plain = {
        "could not find expected ':'": "这一行缺少“字段: 值”的半角冒号，或上一行的引号没有闭合",
        "mapping values are not allowed here": "缩进不对，或值里有未加引号的“: ”",
        "found duplicate key": "同一层有重复的字段",
        "found character '\\t' that cannot start any token": "用了制表符（Tab）：YAML 只认空格",
    }
    for known, words in plain.items():
        if problem.startswith(known):
            return line, f"{words}（{problem}）"
    if problem.startswith("expected <block end>") or "did not find expected" in problem:
        return line, f"缩进不对：这一行与同一层的其他字段没有对齐（{problem}）"
    return line, problem


def format_loc(loc: Sequence[str | int]) -> str:
    """`phases[1].obligations[0].due`; the whole document is `（整个文件）`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "（整个文件）"


def _plain(node: Any, loc: Loc, lines: dict[Loc, int]) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            child = (*loc, str(key))
            try:
                lines[child] = node.lc.key(key)[0] + 1
            except (KeyError, TypeError):
                lines[child] = lines.get(loc, 1)
            # Keys are names: a YAML key 1 is the field "1", reported at its own line.
            out[str(key)] = _plain(value, child, lines)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            child = (*loc, i)
            try:
                lines[child] = node.lc.item(i)[0] + 1
            except (KeyError, TypeError):
                lines[child] = lines.get(loc, 1)
            out_list.append(_plain(value, child, lines))
        return out_list
    if isinstance(node, str):
        return str(node)  # ruamel's ScalarString subclasses would leak into pydantic otherwise
    return node


def load_yaml_text(text: str, path: Path) -> LoadedYaml:
    """Parse one YAML document; raise YamlLoadError with a line for anything unreadable,
    too large, too deep, or expanding past the limits (config/input_limits.py)."""
    if refusal := text_refusal(len(text.encode())):
        raise YamlLoadError(1, refusal)
    if found := yaml_refusal(text):
        raise YamlLoadError(*found)
    yaml = YAML(typ="rt")
    yaml.Constructor = _StringDates
    yaml.allow_duplicate_keys = False
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "YAML 格式不对"
        line, plain = explain_yaml_error(text, line, problem)
        raise YamlLoadError(line, f"YAML 格式不对：{plain}") from exc
    except YAMLError as exc:
        raise YamlLoadError(1, f"YAML 格式不对：{str(exc).splitlines()[0]}") from exc
    except RecursionError as exc:
        raise YamlLoadError(1, "YAML 格式不对：嵌套太深") from exc
    lines: dict[Loc, int] = {(): 1}
    try:
        data = _plain(node, (), lines)
    except RecursionError as exc:  # deep nesting, or an alias that contains itself
        raise YamlLoadError(1, "YAML 格式不对：嵌套太深，或引用了自身") from exc
    return LoadedYaml(path=path, data=data, lines=lines)


def read_text_file(path: Path, *, windows_chinese: bool = False) -> str:
    """A file's text as UTF-8; YamlLoadError for a missing, binary or undecodable file.
    `windows_chinese`: a file that is not UTF-8 is read as GB18030, the encoding Excel's
    "CSV (逗号分隔)" and Notepad's ANSI write on a Chinese Windows (a sheet for people to fill
    in, a notice saved from a web page); a campaign or organization file stays UTF-8 only."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise YamlLoadError(1, "没有这个文件") from exc
    except IsADirectoryError as exc:
        raise YamlLoadError(1, "这是文件夹，应为文件") from exc
    except OSError as exc:
        raise YamlLoadError(1, f"无法读取：{exc.strerror}") from exc
    if refusal := text_refusal(len(raw)):
        raise YamlLoadError(1, refusal)
    if b"\x00" in raw:
        raise YamlLoadError(1, "这是二进制文件，应为 UTF-8 编码的文本")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        not_utf8 = exc
    if windows_chinese:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            raise YamlLoadError(line, "既不是 UTF-8 也不是 GB18030（GBK）编码的文本") from None
    raise YamlLoadError(line, "不是 UTF-8 编码的文本（请把文件另存为 UTF-8）") from not_utf8


def load_yaml_file(path: Path) -> LoadedYaml:
    return load_yaml_text(read_text_file(path), path)
