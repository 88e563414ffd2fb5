"""Terminal rendering shared by the CLI and the demo: Rich tables and trees, in Chinese."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console, JustifyMethod
from rich.markup import escape as rich_escape
from rich.table import Table
from rich.tree import Tree

from models.domain.campaign import LoadedCampaign, Obligation
from models.domain.text_safety import printable
from models.domain.vocabulary import ReminderStatus
from models.domain.wording import (
    BACKFILLED_ZH,
    CADENCE_ZH,
    PHASE_STATUS_ZH,
    REMINDER_STATUS_ZH,
    UNIT_KIND_NAMES_ZH,
    kinds_zh,
    occurrence_zh,
    with_units_below_zh,
)
from models.domain.working_days import DayInfo, WorkCalendar
from models.store.orgs import OrgCounts, UnitNode
from models.store.progress import CampaignProgress
from models.store.unit_progress import UnitRow

KIND_ORDER = ("town", "street", "village", "community", "enterprise", "department")
WEEKDAYS_ZH = "一二三四五六日"


def escape(text: str) -> str:
    """User text for Rich: never markup, and without control characters or bidirectional
    overrides (whatever the database holds, the terminal shows the name, not a trick)."""
    return rich_escape(printable(text))


def counts_text(node: UnitNode) -> str:
    parts = [f"{UNIT_KIND_NAMES_ZH[k]}{node.below[k]}" for k in KIND_ORDER if node.below.get(k)]
    if node.people_below:
        parts.append(f"人员{node.people_below}")
    return "，".join(parts)


def org_tree(nodes: Iterable[UnitNode], depth: int) -> Tree:
    """A Rich tree down to `depth` levels, each node with what lies below it."""
    tree = Tree("组织机构", guide_style="dim")

    def add(parent: Tree, node: UnitNode, level: int) -> None:
        tags = f" [dim]{escape(' '.join(node.tags))}[/dim]" if node.tags else ""
        below = counts_text(node)
        label = (
            f"[bold]{escape(node.name)}[/bold] [dim]{escape(node.code)} · "
            f"{UNIT_KIND_NAMES_ZH.get(node.kind, node.kind)}[/dim]{tags}"
            + (f"  （{below}）" if below else "")
        )
        branch = parent.add(label)
        if level < depth:
            for child in node.children:
                add(branch, child, level + 1)
        elif node.children:
            branch.add(f"[dim]… 下级{len(node.children)}个（用 --depth 展开）[/dim]")

    for node in nodes:
        add(tree, node, 1)
    return tree


def org_counts_line(counts: OrgCounts, org: str = "") -> str:
    units = "，".join(f"{UNIT_KIND_NAMES_ZH.get(k, k)}{v}" for k, v in counts.units.items())
    return (
        (f"{org}：" if org else "")
        + f"单位{sum(counts.units.values())}个（{units}），人员{counts.people}人，"
        f"结对{counts.pairings}对，角色{counts.roles}种"
    )


def valid_line(path: object, campaign: LoadedCampaign) -> str:
    """What `validate` and `plan import` say of a campaign file that passed its checks."""
    spec = campaign.spec
    obligations = sum(len(p.obligations) for p in spec.phases)
    return (
        f"{path}：通过：{spec.key}（{spec.name}），{len(spec.phases)} 个环节，"
        f"{obligations} 个事项，{campaign.first_day} 至 {campaign.last_day}"
    )


def subject_text(obligation: Obligation, names: Mapping[str, str]) -> str:
    """Whom an obligation falls on, in words: 村、社区 / 人员：党员（村、社区） / 结对：…"""
    s = obligation.subject
    if s.units is not None:
        if s.units.codes:
            named = "、".join(names.get(c, c) for c in s.units.codes[:2])
            more = len(s.units.codes) - 2
            return named + (f"等{len(s.units.codes)}个单位" if more > 0 else "")
        text = kinds_zh(s.units.kinds)
        return text + (f"（{'、'.join(s.units.tags)}）" if s.units.tags else "")
    if s.persons is not None:
        text = "人员：" + "、".join(names.get(r, r) for r in s.persons.roles)
        kinds = kinds_zh(s.persons.unit_kinds)
        return text + (f"（{kinds}）" if kinds else "")
    assert s.pairings is not None
    return "结对：" + "、".join(names.get(k, k) for k in s.pairings.kinds)


def cadence_text(obligation: Obligation) -> str:
    r = obligation.recurrence
    if r is None:
        return "一次"
    return CADENCE_ZH[r.every] + (f"至少{r.at_least}次" if r.at_least > 1 else "")


def phase_table(campaign: LoadedCampaign, names: Mapping[str, str] | None = None) -> Table:
    """The phases with their dates; with the organization's names, also whom each phase's
    obligations fall on and how often."""
    table = Table(
        title=escape(f"{campaign.spec.name}（{campaign.spec.key}）"), title_justify="left"
    )
    table.add_column("环节", ratio=2, overflow="fold")
    table.add_column("开始", no_wrap=True)
    table.add_column("结束", no_wrap=True)
    table.add_column("事项", justify="right")
    if names is not None:
        table.add_column("对象与周期", ratio=3, overflow="fold")
    for phase in campaign.spec.phases:
        dates = campaign.phase_dates[phase.key]
        row = [
            escape(phase.name) + ("（并行）" if phase.parallel else ""),
            str(dates.starts),
            str(dates.ends),
            str(len(phase.obligations)),
        ]
        if names is not None:
            seen = dict.fromkeys(
                f"{subject_text(o, names)}·{cadence_text(o)}" for o in phase.obligations
            )
            row.append(escape("\n".join(seen)))
        table.add_row(*row)
    return table


def month_table(year: int, month: int, days: list[DayInfo]) -> Table:
    """A month grid: holidays red with their name, make-up working days (调休) marked 班."""
    table = Table(title=f"{year}年{month}月", show_lines=False, title_justify="left")
    for name in WEEKDAYS_ZH:
        table.add_column(name, justify="center", min_width=6)
    row: list[str] = [""] * (days[0].date.isoweekday() - 1)
    for info in days:
        text = str(info.date.day)
        if info.holiday:
            text = f"[bold red]{text}休[/bold red]\n[red]{info.holiday}[/red]"
        elif info.makeup_for:
            text = f"[bold yellow]{text}班[/bold yellow]\n[yellow]{info.makeup_for}调休[/yellow]"
        elif not info.working:
            text = f"[dim]{text}[/dim]"
        row.append(text)
        if len(row) == 7:
            table.add_row(*row)
            row = []
    if row:
        table.add_row(*row, *[""] * (7 - len(row)))
    return table


def make_console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


RAG_STYLE = {"green": "green", "amber": "yellow", "red": "red"}
RAG_TEXT = {"green": "正常", "amber": "有逾期", "red": "逾期较多"}


def progress_tables(progress: CampaignProgress) -> list[Table]:
    """Phases, towns (red/amber/green) and targets, as `campaign status` prints them."""
    phases = Table(title=escape(f"{progress.name} · 截至 {progress.as_of}"), title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("环节", "left"),
        ("起止", "left"),
        ("状态", "left"),
        ("事项", "right"),
        ("已完成", "right"),
        ("逾期", "right"),
        ("完成率", "right"),
    )
    for name, justify in columns:
        phases.add_column(name, justify=justify)
    for p in progress.phases:
        phases.add_row(
            escape(p.name),
            f"{p.starts} → {p.ends}",
            PHASE_STATUS_ZH.get(p.status, p.status),
            str(p.items),
            str(p.accepted),
            str(p.overdue),
            f"{p.percent}%",
        )
    phases.add_row(
        "合计",
        "",
        "",
        str(progress.items),
        str(progress.accepted),
        str(progress.overdue),
        f"{progress.percent}%",
        style="bold",
    )
    towns = Table(title="各镇街", title_justify="left")
    # 应完成: due before the day or done by it, what the state is judged against
    for name in ("镇街", "事项", "已完成", "应完成", "逾期", "完成率", "状态"):
        towns.add_column(name, justify="left" if name in ("镇街", "状态") else "right")
    for t in progress.towns:
        style = RAG_STYLE[t.rag]
        towns.add_row(
            escape(t.name),
            str(t.items),
            str(t.accepted),
            str(t.owed),
            str(t.overdue),
            f"{t.percent}%",
            f"[{style}]●[/{style}] {RAG_TEXT[t.rag]}",
        )
    tables = [phases, towns]
    if progress.targets:
        targets = Table(title="目标", title_justify="left")
        for name in ("目标", "计划", "实际"):
            targets.add_column(name, justify="left" if name == "目标" else "right")
        for target in progress.targets:
            mark = "" if target.actual >= target.target else " [yellow]未达[/yellow]"
            targets.add_row(
                escape(target.name),
                escape(f"{target.target}{target.unit}"),
                escape(f"{target.actual}{target.unit}") + mark,
            )
        tables.append(targets)
    if progress.reminders:
        r = progress.reminders
        reminders = Table(title="提醒", title_justify="left")
        rest = (
            ReminderStatus.PENDING,
            ReminderStatus.SENDING,
            ReminderStatus.SUPERSEDED,
            ReminderStatus.CANCELLED,
            ReminderStatus.DEAD,
        )
        by_status: dict[str, str] = {
            ReminderStatus.SENT: REMINDER_STATUS_ZH[ReminderStatus.SENT],
            "uncertain": "其中可能重复",  # sent again after a sweep died holding them
            **{s: REMINDER_STATUS_ZH[s] for s in rest},
        }
        for name in by_status.values():
            reminders.add_column(name, justify="right")
        reminders.add_row(*(str(r.get(key, 0)) for key in by_status))
        tables.append(reminders)
    if progress.backfilled:
        flagged = Table(title="补录", title_justify="left")
        flagged.add_column(f"已完成事项中补录的（{BACKFILLED_ZH}）", justify="right")
        flagged.add_row(str(progress.backfilled))
        tables.append(flagged)
    if progress.rectifications:
        r = progress.rectifications
        checks = Table(title="抽查整改", title_justify="left")
        for name in ("整改中", "已整改（复查通过）"):
            checks.add_column(name, justify="right")
        checks.add_row(str(r.get("open", 0)), str(r.get("closed", 0)))
        tables.append(checks)
    return tables


def deadline_table(campaign: LoadedCampaign, calendar: WorkCalendar) -> Table:
    """Every deadline the campaign sets: per phase, obligation and window (期次), the days
    evidence may be dated and the due date, as the rollout will write them."""
    from models.domain.planning import occurrences

    table = Table(title=escape(f"{campaign.spec.name} · 各事项截止日期"), title_justify="left")
    for column in ("环节", "事项", "期次"):
        table.add_column(column, overflow="fold")
    for column in ("起", "止", "截止"):
        table.add_column(column, overflow="fold", min_width=10)  # a date is read whole
    for phase in campaign.spec.phases:
        for obligation in phase.obligations:
            for n, occ in enumerate(
                occurrences(campaign.spec, obligation, phase.key, campaign.phase_dates, calendar)
            ):
                table.add_row(
                    escape(phase.name) if n == 0 else "",
                    escape(obligation.title) if n == 0 else "",
                    occurrence_zh(occ.label) or "一次",
                    str(occ.starts),
                    str(occ.ends),
                    f"{occ.due} 周{WEEKDAYS_ZH[occ.due.isoweekday() - 1]}",  # wraps at the space
                )
    return table


def unit_table(rows: list[UnitRow], as_of: str) -> Table:
    """A unit and those below it: counts of each subtree, each unit's own late items."""
    head = with_units_below_zh(rows[0].name, len(rows))
    table = Table(title=f"{escape(head)} · 截至 {as_of}", title_justify="left")
    for name in ("单位", "事项", "已完成", "逾期", "逾期事项（截止日期）"):
        table.add_column(name, justify="right" if name in ("事项", "已完成", "逾期") else "left")
    for row in rows:
        late = "\n".join(
            f"{escape(i.title)}{'·' + i.occurrence if i.occurrence else ''}"
            f"（{i.due}{'，' + i.remark if i.remark else ''}）"
            for i in row.late
        )
        table.add_row(
            "  " * row.depth + escape(row.name),
            str(row.items),
            str(row.accepted),
            f"[red]{row.overdue}[/red]" if row.overdue else "0",
            late,
        )
    return table


def todo_table(person: str, rows: list[dict[str, Any]], as_of: str) -> Table:
    """A person's open items, overdue first: what a digest's 查看全部 points to."""
    table = Table(title=f"{escape(person)}的待办 · 截至 {as_of}", title_justify="left")
    for name in ("状态", "截止", "活动", "环节", "事项", "对象"):
        # Chinese has no spaces to wrap at: a narrow terminal folds the words, never cuts
        # them; a date stays whole
        table.add_column(name, overflow="fold", min_width=10 if name == "截止" else None)
    for row in rows:
        state = f"[red]{row['days']}[/red]" if row["state"] == "overdue" else row["days"]
        table.add_row(
            state + ("（督办）" if row["escalated"] else ""),
            row["due"],
            escape(row["campaign"]),
            escape(row["phase"]),
            escape(row["obligation"] + (f"（{row['occurrence']}）" if row["occurrence"] else "")),
            escape(row["subject"]),
        )
    return table


LOAD_COLUMNS = ("事项", "报送", "附件", "签字", "会议")


def _load_cells(load: Any) -> list[str]:
    return [str(load.items), str(load.submissions), str(load.files), str(load.sign_offs),
            str(load.meetings)]  # fmt: skip


def burden_months(burden: Any, org: str, campaigns: list[str]) -> Table:
    """Month by month, what all units together are asked, and the most asked of one unit."""
    table = Table(
        title=f"{escape(org)} · {len(campaigns)}项活动 · 各月基层负担", title_justify="left"
    )
    table.add_column("月份")
    for name in LOAD_COLUMNS:
        table.add_column(name, justify="right")
    table.add_column("单个单位最多报送", justify="right")
    most: dict[str, int] = {}
    for (_, month), load in burden.by_unit_month.items():
        most[month] = max(most.get(month, 0), load.submissions)
    for month, load in burden.months().items():
        table.add_row(month, *_load_cells(load), str(most[month]))
    return table


def burden_units(burden: Any, org: Any, n: int = 10) -> Table:
    """The units asked most: the department's own campaigns weighed (no person is ranked)."""
    table = Table(title=f"负担最重的{n}个单位", title_justify="left")
    table.add_column("单位")
    table.add_column("类型")
    for name in LOAD_COLUMNS:
        table.add_column(name, justify="right")
    table.add_column("最忙的月份（报送）")
    for unit_id, load in burden.heaviest_units(n):
        unit = org.units[unit_id]
        busiest = burden.busiest_month(unit_id)
        table.add_row(
            escape(unit.name),
            UNIT_KIND_NAMES_ZH.get(unit.kind, unit.kind),
            *_load_cells(load),
            f"{busiest[0]}（{busiest[1].submissions}）" if busiest else "",
        )
    return table


def burden_repeats(burden: Any) -> Table:
    """The same record asked of one unit twice in one window by two campaigns."""
    table = Table(
        title="重复索要：两项活动在同一周期向同一单位要同样的记录（报一次即可同时满足）",
        title_justify="left",
    )
    for name in ("活动甲·事项", "活动乙·事项", "单位数", "可少报次数"):
        table.add_column(name, justify="right" if name in ("单位数", "可少报次数") else "left")
    for r in burden.repeats:
        table.add_row(
            f"{escape(r.first[0])}·{escape(r.first[2])}",
            f"{escape(r.second[0])}·{escape(r.second[2])}",
            str(r.units),
            str(r.times),
        )
    if not burden.repeats:
        table.add_row("无", "", "", "")
    return table


def town_load_table(rows: list[dict[str, Any]]) -> Table:
    """A rehearsal's weekly load of each town: a row per week, a column per town (报送/附件)."""
    towns = list(dict.fromkeys(r["镇街"] for r in rows))
    table = Table(title="各镇（街道）每周负担：报送/附件", title_justify="left")
    table.add_column("周")
    for town in towns:
        table.add_column(escape(town), justify="right")
    by_week: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_week.setdefault(r["周"], {})[r["镇街"]] = r
    for week, cells in by_week.items():
        table.add_row(
            week,
            *(f"{cells[t]['报送']}/{cells[t]['附件']}" if t in cells else "" for t in towns),
        )
    return table


def busiest_weeks_table(rows: list[tuple[str, str, Any]]) -> Table:
    """Each town's busiest week over the campaigns: what its units together are asked."""
    busiest: dict[str, tuple[str, Any]] = {}
    weeks: dict[str, int] = {}
    for town, week, load in rows:
        weeks[town] = weeks.get(town, 0) + 1
        if town not in busiest or load.submissions > busiest[town][1].submissions:
            busiest[town] = (week, load)
    table = Table(title="各镇（街道）每周负担：最忙的一周", title_justify="left")
    for name in ("镇街", "有任务的周数", "最忙的一周", "报送", "附件", "签字", "会议"):
        table.add_column(name, justify="left" if name in ("镇街", "最忙的一周") else "right")
    for town, (week, load) in busiest.items():
        table.add_row(
            escape(town),
            str(weeks[town]),
            week,
            str(load.submissions),
            str(load.files),
            str(load.sign_offs),
            str(load.meetings),
        )
    return table
