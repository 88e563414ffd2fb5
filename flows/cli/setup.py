"""Commands that set things up and look things up: validate, orgs, db, calendar, phases."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import pendulum
import typer
from typer.core import TyperGroup

from config.campaign_files import calendar_for, org_names, read_campaign, shipped_campaigns
from config.holiday_tables import write_holiday_table
from config.org_file import read_org_files
from config.yaml_lines import YamlLoadError, format_loc, load_yaml_text, read_text_file
from flows.cli import console as view
from flows.cli.app import app, context, db_app, operator, orgs_app, out, say, settings
from flows.cli.params import CampaignArg
from models.domain.burden import restraint_warnings
from models.domain.holiday_notice import NoticeError, parse_notice
from models.errors import CampaignError, DateRuleError, NotFound, SpecError
from models.store import db
from models.store.orgs import import_org, org_counts, org_id_of, org_tree, organizations


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="campaign files (YAML)", show_default=False)],
) -> None:
    """Check campaign files; print FILE:LINE: field: message for each problem, exit 2 if any."""
    run = context()
    try:
        calendar = run.calendar
    except SpecError as exc:
        for line in exc.problems:
            say(line)
        raise typer.Exit(2) from None
    bad = 0
    for path in files:
        try:
            loaded = read_campaign(run.settings, str(path), calendar)
        except SpecError as exc:
            bad += 1
            for line in exc.problems:
                say(line)
            continue
        say(view.valid_line(path, loaded))
        warnings = restraint_warnings(loaded.spec)
        if warnings:
            lines = load_yaml_text(loaded.text, path)
            for loc, message in warnings:
                say(f"{path}:{lines.line_of(loc)}: {format_loc(loc)}: 提醒：{message}")
    if bad:
        raise typer.Exit(2)


@orgs_app.command("import")
def orgs_import(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="organization files (.yaml, .csv, .xlsx), imported together as one",
            show_default=False,
        ),
    ],
    org: Annotated[
        str | None,
        typer.Option(help="the organization's key, when the files do not give it"),
    ] = None,
) -> None:
    """Import units, people and pairings; all or nothing, and re-importing updates."""
    data = read_org_files(files)
    with context().session() as session:
        result = import_org(session, data, org, actor=operator(), operator=getpass.getuser())
        counts = org_counts(session, org_id_of(session, result.org))
    named = str(files[0]) if len(files) == 1 else f"{len(files)} 个文件"
    if not result.changed:
        say(f"{result.org}：{named} 与库中一致，没有变化")
    else:
        say(
            f"{result.org}：已导入 {named}：单位新增 {result.units_new}、"
            f"更新 {result.units_updated}；人员新增 {result.people_new}、"
            f"更新 {result.people_updated}；结对新增 {result.pairings_new}、"
            f"更新 {result.pairings_updated}"
            + ("" if result.operators is None else f"；操作员名单 {result.operators} 人")
        )
    out.print(view.org_counts_line(counts, result.org))


@orgs_app.command("show")
def orgs_show(
    code: Annotated[str | None, typer.Argument(help="show the subtree of this unit")] = None,
    depth: Annotated[
        int | None, typer.Option(min=1, help="levels to expand (default 2, all for a unit)")
    ] = None,
    org: Annotated[
        str | None, typer.Option(help="which organization (when the database holds several)")
    ] = None,
) -> None:
    """Print the organization tree with the counts below each unit."""
    with context().session() as session:
        keys = [org] if org else [o.key for o in organizations(session)]
        if not keys:
            if code is not None:
                raise NotFound(f"没有单位 {code}（还没有导入组织）")
            out.print("组织机构为空：先运行 campaign orgs import 组织文件")
            return
        shown = []
        for key in keys:
            org_id = org_id_of(session, key)
            try:
                nodes = org_tree(session, org_id, code)
            except NotFound:  # not in this organization: said below if in none
                continue
            shown.append((key, nodes, org_counts(session, org_id)))
    if not shown:
        raise NotFound(f"组织 {'、'.join(keys)} 中没有单位 {code}")
    for key, nodes, counts in shown:
        out.print(view.org_tree(nodes, depth or (2 if code is None else 99)))
        out.print(view.org_counts_line(counts, key))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (they also run on first use)."""
    config = settings()
    revision = db.upgrade(db.get_engine(config.resolved_database_url))
    say(f"数据库已是版本 {revision}")


class _MonthByDefault(TyperGroup):
    """`campaign calendar 2013-10` stays the month view; `calendar import-notice` is new."""

    # Any: the Context this overrides is typer's vendored click's, which typer does not export
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


calendar_app = typer.Typer(
    cls=_MonthByDefault,
    help="The working-day calendar: a month's view, next year's holidays from the notice.",
    no_args_is_help=True,
)
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("show")
def calendar_cmd(
    month: Annotated[str, typer.Argument(help="YEAR-MONTH, e.g. 2013-10", metavar="YEAR-MONTH")],
) -> None:
    """Print a month with statutory holidays (休) and make-up working days (班) marked."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        pendulum.Date(year, mon, 1)
    except ValueError:
        raise DateRuleError(f"应写成 年-月，如 2013-10，而不是 {month}") from None
    calendar = calendar_for(settings())
    days = calendar.month(year, mon)
    out.print(view.month_table(year, mon, days))
    working = sum(1 for d in days if d.working)
    out.print(f"工作日{working}天，休息日{len(days) - working}天")


def _notice_text(file: Path) -> str:
    """The notice as saved from the web page: UTF-8, or GB18030 as Windows Notepad saves it."""
    try:
        return read_text_file(file)
    except YamlLoadError as exc:
        if "UTF-8" not in str(exc):
            raise CampaignError(f"{file}：{exc}") from None
    try:
        return file.read_bytes().decode("gb18030")
    except UnicodeDecodeError:
        raise CampaignError(f"{file}: 既不是UTF-8也不是GB18030编码的文本") from None


@calendar_app.command("import-notice")
def calendar_import_notice(
    file: Annotated[
        Path,
        typer.Argument(help="the notice's text (《国务院办公厅关于Y年部分节假日安排的通知》)"),
    ],
    year: Annotated[
        int | None, typer.Option(help="the notice's year, when its title is not in the text")
    ] = None,
    replace: Annotated[bool, typer.Option(help="replace an existing table of that year")] = False,
) -> None:
    """Read next year's holidays from the State Council's notice into config/holidays/Y.yaml
    (or CAMPAIGN_HOLIDAYS_DIR); every weekday and 共N天 it states is checked, nothing is
    written when a line cannot be read."""
    config = settings()
    text = _notice_text(file)
    try:
        notice = parse_notice(text, year)
    except NoticeError as exc:
        for line in exc.problems:
            say(f"{file}:{line}")
        say(f"{file}: 未导入，什么也没有写")
        raise typer.Exit(2) from None
    table = write_holiday_table(config.holidays_dir, notice, str(file), replace)
    off, on = len(table.holidays), len(table.workdays)
    say(
        f"{config.holidays_dir / f'{notice.year}.yaml'}: {notice.year}年放假{off}天"
        f"（{len(notice.holidays)}个假期），调休上班{on}天"
    )
    for h in notice.holidays:
        say(f"  {h.name}：{h.first} 至 {h.last}")
    for name, day in notice.workdays:
        say(f"  {name}调休上班：{day}")
    if notice.elsewhere():
        days = "、".join(str(d) for d in notice.elsewhere())
        say(f"  不在{notice.year}年、未写入本表：{days}（属于那一年的表）")
    calendar = calendar_for(config)
    working = sum(1 for m in range(1, 13) for d in calendar.month(notice.year, m) if d.working)
    say(f"{notice.year}年共{working}个工作日")


@app.command("list")
def list_campaigns() -> None:
    """Every shipped campaign: its phases, their dates, whom they fall on and how often."""
    run = context()
    names: dict[str, dict[str, str]] = {}
    bad = 0
    for path in shipped_campaigns(run.settings):
        try:
            loaded = run.campaign(str(path))
        except SpecError as exc:
            bad += 1
            say(f"{path}：未通过检查（{exc.problems[0]}）")
            continue
        org = loaded.spec.organization
        if org not in names:
            names[org] = org_names(run.settings, org)
        out.print(view.phase_table(loaded, names[org]))
    if bad:
        raise typer.Exit(2)


@app.command()
def phases(
    campaign: CampaignArg,
    items: Annotated[
        bool, typer.Option("--items", help="also every deadline, per obligation and window")
    ] = False,
) -> None:
    """Print a campaign's phases with their resolved dates (and, with --items, every
    deadline it will set, before anything is rolled out)."""
    run = context()
    loaded = run.campaign(campaign)
    out.print(view.phase_table(loaded))
    if items:
        out.print(view.deadline_table(loaded, run.calendar))
