"""Typer's own words in Chinese: the help screens' titles and usage line, and its usage errors.

Typer 0.29 vendors its own click (`typer._click`) with the messages written in as English
f-strings, no gettext catalog to install; so the fixed words are set on the tree of commands
once it is built, and a usage error is said again from what the exception carries (which
option, which command). The private names used here are pinned by the lock file, and
tests/e2e/test_cli.py reads every screen and error this module words.
"""

from __future__ import annotations

import re
from typing import Any

import typer
import typer.main
from pydantic import ValidationError
from typer import rich_utils
from typer._click.core import Command, Context
from typer._click.exceptions import (
    BadOptionUsage,
    BadParameter,
    MissingParameter,
    NoSuchOption,
    UsageError,
)
from typer._click.formatting import HelpFormatter
from typer.core import TyperArgument, TyperGroup, TyperOption

from config.pydantic_zh import message_zh

USAGE = "用法："
HELP_OPTION = "显示本帮助并退出。"
HELP_HINT = "可用 '{command_path} {help_option}' 查看帮助。"

rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
rich_utils.OPTIONS_PANEL_TITLE = "选项"
rich_utils.COMMANDS_PANEL_TITLE = "命令"
rich_utils.ERRORS_PANEL_TITLE = "错误"
rich_utils.ABORTED_TEXT = "已中断"
rich_utils.REQUIRED_LONG_STRING = "[必填]"
rich_utils.DEFAULT_STRING = "[默认：{}]"
rich_utils.ENVVAR_STRING = "[环境变量：{}]"
rich_utils.DEPRECATED_STRING = "（已弃用）"
rich_utils.RICH_HELP = HELP_HINT


# What an option takes, in the help's type column: Typer would show the annotation (`<str>`,
# `<list[Path]>`). By option where the name says more than the type, else by type.
_VALUE_WORDS = {
    "--as-of": "日期",
    "--date": "日期",
    "--from": "日期",
    "--now": "时刻",
    "--by": "人员",
    "--revoke": "人员",
    "--campaign": "活动",
    "--check": "批次",
    "--inspection": "抽查",
    "--obligation": "事项",
    "--occurrence": "期",
    "--org": "组织",
    "--subject": "编码",
    "--unit": "单位",
    "--pool": "工作池",
    "--host": "地址",
    "--count": "名称=数字",
    "--xlsx": "工作簿",
}
_TYPE_WORDS = {"str": "文字", "int": "整数", "float": "数", "Path": "文件"}


def value_word(option: Any) -> str:
    """The Chinese word for what an option takes; '' for a flag, which takes nothing."""
    if option.is_flag:
        return ""
    bare = option.bare_type().removeprefix("list[").removesuffix("]")
    if option.opts[0] == "--to":  # a day for a span, a file for an anchor
        return "日期" if bare == "str" else "文件"
    return _VALUE_WORDS.get(option.opts[0]) or _TYPE_WORDS.get(bare, bare)


def _no_type(ctx: Context) -> None:
    return None


class _Formatter(HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, USAGE if prefix is None else prefix)


def command_tree(app: typer.Typer) -> Command:
    """The click command Typer builds for `app`, with its fixed words in Chinese."""
    root = typer.main.get_command(app)
    _localize(root)
    return root


def _localize(command: Command) -> None:
    base = command.context_class
    command.context_class = type("Context", (base,), {"formatter_class": _Formatter})
    if command.options_metavar:
        command.options_metavar = "[选项]"
    original = command.get_help_option

    def help_option(ctx: Context) -> Any:
        option = original(ctx)
        if option is not None:
            option.help = HELP_OPTION
            option.metavar = ""
        return option

    command.get_help_option = help_option  # type: ignore[method-assign]  # per instance
    for param in command.params:
        if isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = value_word(param)
        elif isinstance(param, TyperArgument):
            # an argument's name (活动, 人员) already says what it takes
            param.display_type_rich = _no_type  # type: ignore[method-assign]  # per instance
    if isinstance(command, TyperGroup):
        command.subcommand_metavar = "命令 [参数]..."
        for sub in command.commands.values():
            _localize(sub)


_NO_COMMAND = re.compile(r"^No such command '(?P<name>.*)'\.$")
_EXTRA = re.compile(r"^Got unexpected extra argument\(s\) \((?P<args>.*)\)$")


def usage_message(exc: UsageError) -> str:
    """A usage error in Chinese, from what the exception names; its own English otherwise."""
    if isinstance(exc, MissingParameter):
        what = (
            "参数" if exc.param is not None and exc.param.param_type_name == "argument" else "选项"
        )
        hint = exc.param.get_error_hint() if exc.param is not None else ""
        return f"缺少{what} {hint}".rstrip()
    if isinstance(exc, NoSuchOption):
        said = f"没有选项 {exc.option_name}"
        if exc.possibilities:
            said += f"（是不是：{'、'.join(sorted(exc.possibilities))}？）"
        return said
    if isinstance(exc, BadParameter):
        hint = exc.param.get_error_hint() if exc.param is not None else ""
        said = _pydantic_zh(exc) or exc.message
        return f"{hint} 的值不对：{said}" if hint else f"值不对：{said}"
    if isinstance(exc, BadOptionUsage):
        return f"选项 {exc.option_name} 用法不对：{exc.message}"
    if match := _NO_COMMAND.match(exc.message):
        return f"没有命令 {match['name']}"
    if match := _EXTRA.match(exc.message):
        return f"多出了参数：{match['args']}"
    return _pydantic_zh(exc) or exc.format_message()


def _pydantic_zh(exc: UsageError) -> str | None:
    """Typer converts a value with pydantic: its error, said through our pydantic table."""
    cause = exc.__cause__
    if isinstance(cause, ValidationError) and cause.errors():
        return message_zh(cause.errors()[0])
    return None


def usage_lines(exc: UsageError) -> list[str]:
    """What a usage error prints: the usage line, where to find help, the error."""
    lines = []
    ctx = exc.ctx
    if ctx is not None:
        lines.append(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            lines.append(
                HELP_HINT.format(
                    command_path=ctx.command_path, help_option=ctx.help_option_names[0]
                )
            )
        lines.append("")
    lines.append(f"错误：{usage_message(exc)}")
    return lines
