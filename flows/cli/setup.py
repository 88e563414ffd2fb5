"""Commands that set things up and look things up: validate, orgs, db, calendar, phases."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import pendulum
import typer
from typer.core import TyperGroup

from config.campaign_files import (
    calendar_for,
    database_exists,
    org_names,
    read_campaign,
    rolled_out_keys,
    shipped_campaigns,
)
from config.holiday_tables import write_holiday_table
from config.yaml_lines import YamlLoadError, read_text_file
from flows.cli import console as view
from flows.cli.app import (
    PREPARE,
    app,
    context,
    db_app,
    file_lines,
    operator,
    orgs_app,
    out,
    say,
    say_warnings,
    settings,
)
from flows.cli.params import CampaignArg
from models.domain.holiday_notice import NoticeError, parse_notice
from models.errors import CampaignError, DateRuleError, NotFound, SpecError
from models.store import db
from models.store.orgs import org_counts, org_id_of, org_tree, organizations
from tasks.org_tasks import import_org_files


@app.command(rich_help_panel=PREPARE)
def validate(
    files: Annotated[
        list[Path], typer.Argument(metavar="文件...", help="活动文件（YAML）", show_default=False)
    ],
) -> None:
    """校验活动文件：每个问题输出一行 文件:行: 字段: 说明，有问题则退出码为 2。"""
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
            named: list[tuple[tuple[str | int, ...], str]] = []
            if database_exists(run.settings):  # the units it names, as imported
                from tasks.rollout_tasks import check_named_units

                with db.read_session_for(run.settings.resolved_database_url) as session:
                    named = check_named_units(session, loaded)
        except SpecError as exc:
            bad += 1
            for line in exc.problems:
                say(line)
            continue
        say(view.valid_line(path, loaded))
        say_warnings(loaded, file_lines(loaded, path), named)
    if bad:
        raise typer.Exit(2)


@orgs_app.command("import")
def orgs_import(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="文件...",
            help="组织机构文件（.yaml、.csv、.xlsx），合在一起作为一次导入",
            show_default=False,
        ),
    ],
    org: Annotated[
        str | None,
        typer.Option(help="组织编码（文件里没有写明时）"),
    ] = None,
) -> None:
    """导入单位、人员和结对：要么全部导入，要么一条不写；再次导入即更新。"""
    run = context()
    with run.session() as session:
        done = import_org_files(run, session, files, org, operator())
    for line in done.lines:
        say(line)
    out.print(view.org_counts_line(done.counts, done.result.org))


@orgs_app.command("show")
def orgs_show(
    code: Annotated[
        str | None,
        typer.Argument(metavar="单位", help="只显示此单位及其下级（写组织编码则显示该组织）"),
    ] = None,
    depth: Annotated[
        int | None, typer.Option(min=1, help="展开几层（默认 2 层；指定单位时全部展开）")
    ] = None,
    org: Annotated[str | None, typer.Option(help="组织编码（数据库里有多个组织时）")] = None,
) -> None:
    """显示组织机构树，每个单位后附其下的人数等统计。"""
    with context().session() as session:
        every = [o.key for o in organizations(session)]
        keys = [org] if org else every
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
        if not shown and org is None and code in every:
            # `orgs show lingang`: an organization named where a unit was expected
            org_id = org_id_of(session, code)
            shown.append((code, org_tree(session, org_id, None), org_counts(session, org_id)))
            code = None
    if not shown:
        raise NotFound(f"组织 {'、'.join(keys)} 中没有单位 {code}")
    for key, nodes, counts in shown:
        out.print(view.org_tree(nodes, depth or (2 if code is None else 99)))
        out.print(view.org_counts_line(counts, key))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """执行数据库迁移（首次使用时也会自动执行）。"""
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
    help="工作日历：查看某月，从国务院通知读入明年的节假日。",
    no_args_is_help=True,
)
app.add_typer(calendar_app, name="calendar", rich_help_panel=PREPARE)


@calendar_app.command("show")
def calendar_cmd(
    month: Annotated[str, typer.Argument(help="年-月，如 2013-10", metavar="年-月")],
) -> None:
    """显示一个月，标出法定节假日（休）和调休上班日（班）。"""
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
        return read_text_file(file, windows_chinese=True)
    except YamlLoadError as exc:
        raise CampaignError(f"{file}：{exc}") from None


@calendar_app.command("import-notice")
def calendar_import_notice(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="通知", help="通知的正文（《国务院办公厅关于Y年部分节假日安排的通知》）"
        ),
    ],
    year: Annotated[int | None, typer.Option(help="通知所属年份（正文里没有标题时）")] = None,
    replace: Annotated[bool, typer.Option(help="替换该年已有的节假日表")] = False,
) -> None:
    """从国务院办公厅的节假日通知读入明年的节假日，写到数据文件夹的
    holidays/年.yaml（或 CAMPAIGN_HOLIDAYS_DIR）；通知写的星期几和“共N天”逐一核对，
    有一行读不懂就什么也不写。"""
    config = settings()
    text = _notice_text(file)
    try:
        notice = parse_notice(text, year)
    except NoticeError as exc:
        for line in exc.problems:
            say(f"{file}:{line}")
        say(f"{file}: 未导入，什么也没有写")
        raise typer.Exit(2) from None
    existed = (config.holiday_tables / f"{notice.year}.yaml").exists()
    table = write_holiday_table(config.holiday_tables, notice, str(file), replace)
    off, on = len(table.holidays), len(table.workdays)
    say(
        f"{config.holiday_tables / f'{notice.year}.yaml'}: {notice.year}年放假{off}天"
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
    if existed:
        say(
            f"已替换原有的{notice.year}年表：已下发的活动再运行一次 campaign rollout 活动编码，"
            "未完成事项的截止日期即按新的安排调整（已完成的不变）"
        )


@app.command("list", rich_help_panel=PREPARE)
def list_campaigns() -> None:
    """已下发的活动和活动目录中的活动：各阶段及其日期、落到谁头上、多久一次。"""
    run = context()
    names: dict[str, dict[str, str]] = {}
    bad = 0
    rolled = rolled_out_keys(run.settings)
    listed = set(rolled)
    with run.read_session() as session:
        # once a department has imported its organization, the examples of a district it
        # never imported are not its campaigns (before any import, they are what there is)
        known = {o.key for o in organizations(session)}
    others: Counter[str] = Counter()
    if rolled:
        say(f"已下发的活动（{len(rolled)}项）：")
    for name in [*rolled, *(str(p) for p in shipped_campaigns(run.settings))]:
        try:
            loaded = run.campaign(name)
        except SpecError as exc:
            bad += 1
            say(f"{name}：未通过检查（{exc.problems[0]}）")
            continue
        if name not in listed:
            if loaded.spec.key in listed:
                continue  # rolled out: shown above, as stored
            if known and loaded.spec.organization not in known:
                others[loaded.spec.organization] += 1
                continue
            if rolled and len(listed) == len(rolled):
                say(f"{run.settings.campaigns_dir} 中尚未下发的活动：")
            listed.add(loaded.spec.key)
        org = loaded.spec.organization
        if org not in names:
            names[org] = org_names(run.settings, org)
        out.print(view.phase_table(loaded, names[org]))
    if others:
        say(
            f"{run.settings.campaigns_dir} 中另有 {others.total()} 项属于未导入组织"
            f"（{'、'.join(sorted(others))}）的活动，未列出"
        )
    if bad:
        raise typer.Exit(2)


@app.command(rich_help_panel=PREPARE)
def phases(
    campaign: CampaignArg,
    items: Annotated[
        bool, typer.Option("--items", help="同时列出每个事项、每个时段的截止日期")
    ] = False,
) -> None:
    """显示活动各阶段推算出的日期（加 --items 时，还在下发之前列出它将设定的每个截止日期）。"""
    run = context()
    loaded = run.campaign(campaign)
    out.print(view.phase_table(loaded))
    if items:
        out.print(view.deadline_table(loaded, run.calendar))
