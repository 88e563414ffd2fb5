"""Commands that run the work: rollout, simulate, status, gates, evidence, report, phases."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session

from config.yaml_lines import format_loc
from flows.cli import console as view
from flows.cli.app import (
    RECORD,
    RUN,
    acting,
    app,
    context,
    ensure_prefect,
    evidence_app,
    file_lines,
    gate_app,
    out,
    parse_day,
    parse_done_day,
    parse_instant,
    parse_run_day,
    phase_app,
    say,
    say_warnings,
    settings,
)
from flows.cli.params import (
    AsOf,
    CampaignArg,
    JsonFlag,
    ObligationOption,
    OrgOption,
    PersonArg,
    SubjectOption,
    UnitOption,
)
from models.domain.campaign import LoadedCampaign, Obligation
from models.domain.counts import parse_count
from models.domain.date_rules import RUN_NOW
from models.domain.org_import import Readdressed
from models.domain.org_snapshot import OrgSnapshot, PersonInfo
from models.domain.permissions import check_approver
from models.domain.text_safety import written
from models.domain.wording import (
    STATUS_ZH,
    late_rollout_zh,
    next_reminders_zh,
    occurrence_zh,
    readdressed_zh,
    sweep_zh,
    undelivered_zh,
    unread_campaign_zh,
)
from models.errors import CampaignError, DateRuleError, NotFound
from models.report import report_text, write_ledger
from models.store import audit
from models.store.evidence import (
    Submission,
    locate_item,
    read_evidence_file,
    sign,
    store_bytes,
    submit,
)
from models.store.gates import gate_of
from models.store.instant import utc_now
from models.store.ledger import ledger_of
from models.store.orgs import find_org, load_snapshot
from models.store.phase_clock import bring_to_day
from models.store.progress import CampaignProgress, campaign_progress
from models.store.rehearsal import is_rehearsal, refuse_real_records
from models.store.rollout import campaign_id
from models.store.tables import Campaign, ChecklistItem
from models.store.unit_progress import unit_progress, unit_rows_json
from tasks.context import TaskContext


@app.command(rich_help_panel=RUN)
def rollout(
    campaign: CampaignArg,
    as_of: AsOf = None,
    wait_at_gates: Annotated[bool, typer.Option(help="遇到未审批的闸门时等待审批")] = False,
) -> None:
    """载入（或重新载入）活动文件，按批次写出清单事项。"""
    from flows.rollout import rollout_campaign

    # every check before Prefect starts and before anything is written: a day ahead, a bad
    # file, an organization not imported
    day = parse_run_day(as_of)
    run = context()
    loaded = run.campaign(campaign, prefer_file=True)
    with run.session() as session:
        find_org(session, loaded.spec.organization)
        from tasks.rollout_tasks import check_named_units

        named = check_named_units(session, loaded)
    ensure_prefect()
    result = rollout_campaign(campaign, day, wait_at_gates=wait_at_gates)
    say(
        f"{result['campaign']} 第 {result['version']} 版：新增 {result['inserted']} 项，"
        f"共 {result['items']} 项"
    )
    with run.session() as session:
        overdue = campaign_progress(session, loaded, day).overdue
    for note in late_rollout_zh(day, loaded.last_day, overdue, day_given=as_of is not None):
        say(note)
    path = Path(campaign)
    say_warnings(
        loaded,
        file_lines(loaded, path)
        if path.is_file()
        else lambda loc: f"{campaign}: {format_loc(loc)}",
        named,
    )
    if result["moved"] or result["cancelled"] or (result["new_version"] and result["done_kept"]):
        why = "文件有改动" if result["new_version"] else "按现在的节假日安排和组织重新排期"
        say(
            f"{why}：{result['moved']}项截止日期调整，{result['cancelled']}项不再需要（已取消），"
            f"提醒重新安排{result['reminders']}条，已完成的{result['done_kept']}项保持不变"
        )
    for note in readdressed_zh(Readdressed(**result["readdressed"], unreached=result["unreached"])):
        say(note)
    for gate in result["waiting_at"]:
        say(
            f"等待闸门 {gate} 审批：campaign gate approve {result['campaign']} {gate} --by 人员编码"
        )


@app.command(rich_help_panel=RUN)
def simulate(
    campaign: CampaignArg,
    start: Annotated[str, typer.Option("--from", help="第一天，YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="最后一天，YYYY-MM-DD")],
    seed: Annotated[int, typer.Option(help="行为模型的随机种子")] = 2013,
    evidence: Annotated[bool, typer.Option(help="提交模拟的佐证")] = True,
) -> None:
    """在模拟时钟上把活动的一段日子演练一遍。"""
    from flows.simulate import simulate_campaign

    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if last < first:
        raise CampaignError(f"--to {last} 早于 --from {first}")
    run = context()
    run.campaign(campaign)  # an unknown campaign, and a database with real ones, are said
    with run.session() as session:  # before a Prefect server starts (the flow checks again)
        refuse_real_records(session, holidays=run.settings.imported_holidays)
    ensure_prefect()
    result = simulate_campaign(campaign, first, last, seed=seed, evidence=evidence)
    out.print(view.town_load_table(result["town_load"]))
    for phase in result["closed"]:
        say(
            f"{phase['on']} 环节 {phase['key']} 结束：完成 {phase['accepted']}/"
            f"{phase['items']}（{phase['percent']}%），逾期 {phase['overdue']}"
        )
    _print_status(campaign, last)


def brought_to_day(session: Session, loaded: LoadedCampaign, day: dt.date) -> None:
    """The campaign's phases opened and closed as `day` calls for, before acting as of it;
    never beyond today: looking ahead (`status --as-of` next month) must not open a phase
    early, nor close one still running."""
    run = context()
    day = min(day, parse_day(None))
    bring_to_day(
        session, loaded, run.calendar, day, now=utc_now(), actor=run.settings.user or "system"
    )


@dataclass(frozen=True)
class _AsOf:
    session: Session
    loaded: LoadedCampaign
    progress: CampaignProgress


@contextmanager
def _progress_as_of(campaign: str, day: dt.date) -> Iterator[_AsOf]:
    """The campaign brought to `day` (its phases opened and closed) and its progress then."""
    run = context()
    loaded = run.campaign(campaign)
    with run.session() as session:
        brought_to_day(session, loaded, day)
        yield _AsOf(session, loaded, campaign_progress(session, loaded, day))


def _print_status(campaign: str, as_of: dt.date) -> None:
    with _progress_as_of(campaign, as_of) as now:
        progress = now.progress
        # a rehearsal's simulated clock has acted for the days ahead: no estimate from today
        estimate = as_of > parse_day(None) and not is_rehearsal(now.session, now.loaded.spec.key)
    for table in view.progress_tables(progress):
        out.print(table)
    if estimate:
        say(LOOKING_AHEAD.format(day=as_of))


@app.command(rich_help_panel=RECORD)
def status(
    campaign: CampaignArg,
    as_of: AsOf = None,
    as_json: JsonFlag = False,
    unit: UnitOption = None,
) -> None:
    """按阶段和镇街的进度，以及目标与实际的对照；加 --unit 时列出该单位及其下级各自的逾期事项。"""
    day = parse_day(as_of)
    if not (as_json or unit):
        _print_status(campaign, day)
        return
    with _progress_as_of(campaign, day) as now:
        progress, session, loaded = now.progress, now.session, now.loaded
        units = (
            unit_progress(
                session, loaded, load_snapshot(session, loaded.spec.organization), unit, day
            )
            if unit
            else None
        )
    if not as_json and units is not None:
        out.print(view.unit_table(units, progress.as_of))
        return
    data = progress.as_json()
    if units is not None:
        data["units"] = unit_rows_json(units)
    typer.echo(json.dumps(data, ensure_ascii=False))


@app.command(rich_help_panel=RECORD)
def todo(
    person: PersonArg,
    org: OrgOption = None,
    as_of: AsOf = None,
    as_json: JsonFlag = False,
) -> None:
    """一个人的未办事项，逾期的在前：提醒所涉及的全部事项，包括摘要里放不下的。"""
    from models.domain.digest import STATE_ORDER, standing
    from models.store.orgs import find_person
    from models.store.todo import org_key_of, todo_items

    run = context()
    day = parse_day(as_of)
    with run.session() as session:
        found = find_person(session, person, org)
        items = todo_items(session, found)
        snapshot = load_snapshot(session, org_key_of(session, found))
        name = found.name
    campaigns = {key: run.campaign(key) for key in {i.campaign for i in items}}
    obligations = {key: c.spec.obligations_by_key() for key, c in campaigns.items()}
    rows: list[dict[str, Any]] = []
    for owed in items:
        item, loaded = owed.item, campaigns[owed.campaign]
        phase = next((p for p in loaded.spec.phases if p.key == item.phase_key), None)
        obligation = obligations[owed.campaign].get(item.obligation_key)
        state, days = standing(item.due, day, run.calendar, item.status, supervising=owed.escalated)
        rows.append(
            {
                "campaign": loaded.spec.name,
                "phase": phase.name if phase else item.phase_key,
                "obligation": obligation.title if obligation else item.obligation_key,
                "occurrence": occurrence_zh(item.occurrence),
                "subject": snapshot.subject_label(item.subject_type, item.subject_id)[1],
                "due": item.due.isoformat(),
                "state": state,
                "days": days,
                "status": item.status,
                "escalated": owed.escalated,
            }
        )
    rows.sort(key=lambda r: (STATE_ORDER[r["state"]], r["due"]))
    if as_json:
        data = {"person": person, "as_of": day.isoformat(), "items": rows}
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    if not rows:
        say(f"{name}：没有待办事项")
        return
    out.print(view.todo_table(name, rows, day.isoformat()))


def _gate(
    decision: bool, campaign: str, gate: str, by: str | None, notes: str, as_of: str | None = None
) -> None:
    from tasks.gate_tasks import answer_gate, resume_waiting_run

    parse_run_day(as_of)  # a bad day is said before anything is answered
    run = context()
    loaded = run.campaign(campaign)
    spec_gate = gate_of(loaded.spec, gate)
    who = acting(by, loaded.spec.organization)
    reviewer = who.person
    with run.session() as session:
        org = load_snapshot(session, loaded.spec.organization)
        person = org.person_coded(reviewer)
        campaign_id(session, loaded.spec.key)
    check_approver(spec_gate, person, org.role_names)
    if resume_waiting_run(loaded.spec.key, gate, decision, reviewer, notes):
        say(f"闸门 {gate} 的审批已交给等待中的运行")
        return
    with audit.entered_by(who.entered_by):
        answer_gate(loaded.spec.key, gate, reviewer, decision, notes)
    word = "通过" if decision else "退回"
    say(f"闸门 {gate} 已{word}（{person.code} {person.name}）")
    if decision:
        rollout(loaded.spec.key, as_of=as_of, wait_at_gates=False)


Reviewer = Annotated[str | None, typer.Option("--by", help="审批人的人员编码")]
Notes = Annotated[str, typer.Option(help="审批意见（退回须说明理由）")]
GateArg = Annotated[str, typer.Argument(metavar="闸门", help="闸门编码")]
PhaseArg = Annotated[str, typer.Argument(metavar="阶段", help="阶段编码")]


@gate_app.command("approve")
def gate_approve(
    campaign: CampaignArg,
    gate: GateArg,
    by: Reviewer = None,
    notes: Notes = "",
    as_of: AsOf = None,
) -> None:
    """批准闸门：其后各批次按 --as-of 那天下发（在过去某天演练时就按那天下发，不按今天）。"""
    _gate(True, campaign, gate, by, notes, as_of)


@gate_app.command("reject")
def gate_reject(
    campaign: CampaignArg, gate: GateArg, by: Reviewer = None, notes: Notes = ""
) -> None:
    """退回闸门：其后各批次继续等待；记下谁退回、为什么。"""
    if written(notes) is None:
        raise CampaignError("退回须用 --notes 说明理由")
    _gate(False, campaign, gate, by, notes)


def _parse_counts(values: list[str]) -> dict[str, int]:
    return dict(count for value in values if (count := parse_count(value)) is not None)


def _locate(
    session,
    campaign: LoadedCampaign,
    obligation_key: str,
    subject: str,
    occurrence: str | None,
    dated,
):
    """(org, obligation rule, item) for the evidence commands."""
    cid = campaign_id(session, campaign.spec.key)
    org = load_snapshot(session, campaign.spec.organization)
    rule, item = locate_item(
        session,
        campaign=cid,
        version=session.get(Campaign, cid).current_version,
        org=org,
        obligation_key=obligation_key,
        subject_code=subject,
        occurrence=occurrence,
        dated=dated,
    )
    return org, rule, item


def _item_words(rule, item) -> str:
    occurrence = occurrence_zh(item.occurrence)
    return rule.title + (f" · {occurrence}" if occurrence else "")


@dataclass(frozen=True)
class _OnItem:
    session: Session
    loaded: LoadedCampaign
    org: OrgSnapshot
    rule: Obligation
    item: ChecklistItem
    person: PersonInfo  # the acting person, in the campaign's organization


@contextmanager
def _acting_on_item(
    run: TaskContext,
    campaign: str,
    by: str | None,
    obligation: str,
    subject: str,
    occurrence: str | None,
    dated: dt.date,
) -> Iterator[_OnItem]:
    """The item a command acts on, in one transaction, with the acting person's audit."""
    loaded = run.campaign(campaign)
    who = acting(by, loaded.spec.organization)
    with run.session() as session, audit.entered_by(who.entered_by):
        brought_to_day(session, loaded, dated)
        org, rule, item = _locate(session, loaded, obligation, subject, occurrence, dated)
        person = org.person_coded(who.person)
        yield _OnItem(session, loaded, org, rule, item, person)


@evidence_app.command("add")
def evidence_add(
    campaign: CampaignArg,
    subject: SubjectOption,
    obligation: ObligationOption,
    occurrence: Annotated[
        str | None, typer.Option(help="哪一期，如 2013-W37（默认下一期到期的）")
    ] = None,
    by: Annotated[str | None, typer.Option(help="登记人（人员编码）")] = None,
    count: Annotated[list[str] | None, typer.Option(help="数量，名称=数字，可多次给出")] = None,
    note: Annotated[str | None, typer.Option(help="做了什么")] = None,
    file: Annotated[list[Path] | None, typer.Option(help="佐证文件，可多次给出")] = None,
    date: Annotated[str | None, typer.Option(help="办理日期（默认今天）")] = None,
) -> None:
    """为一个清单事项登记佐证：直接通过，或等待签字。"""
    dated = parse_done_day(date)
    counts = _parse_counts(count or [])
    run = context()
    # every file checked before anything is written; stored only once the item accepts them
    documents = [read_evidence_file(p, run.settings.max_file_bytes) for p in file or []]
    with _acting_on_item(run, campaign, by, obligation, subject, occurrence, dated) as at:
        session, loaded, org, rule, item = at.session, at.loaded, at.org, at.rule, at.item
        new = submit(
            session,
            org=org,
            item=item,
            obligation=rule,
            person=at.person,
            submission=Submission(counts, note, [meta for _, meta in documents], dated),
            calendar=run.calendar,
            now=utc_now(),
            supervising=loaded.spec.supervising(rule),
        )
        # Before the commit: a crash from here leaves a stored file and no row, never a row
        # without its file; a file sent again is the same content and stored once.
        for data, meta in documents:
            store_bytes(run.settings.home.resolve(), data, meta["name"])
    say(f"{subject} · {_item_words(rule, item)}：{STATUS_ZH[new]}")


@evidence_app.command("sign")
def evidence_sign(
    campaign: CampaignArg,
    subject: SubjectOption,
    obligation: ObligationOption,
    occurrence: Annotated[str | None, typer.Option(help="哪一期，如 2013-W37")] = None,
    by: Annotated[str | None, typer.Option(help="签字人（人员编码）")] = None,
    reject: Annotated[str | None, typer.Option(help="退回，并写明此理由")] = None,
    date: Annotated[str | None, typer.Option(help="签字日期（默认今天）")] = None,
) -> None:
    """为已报送的事项签字（即通过），或说明理由退回。"""
    dated = parse_done_day(date)
    with _acting_on_item(context(), campaign, by, obligation, subject, occurrence, dated) as at:
        rule, item = at.rule, at.item
        new = sign(
            at.session,
            org=at.org,
            item=item,
            obligation=rule,
            signer=at.person,
            approve=reject is None,
            reason=reject,
            dated=dated,
            now=utc_now(),
        )
    say(f"{subject} · {_item_words(rule, item)}：{STATUS_ZH[new]}")


# a day ahead counts what is asked by today and not done by then
LOOKING_AHEAD = "{day} 尚未到来：以上按今天的情况估算，今天已开始的环节中到那天仍未办结的算逾期"


@app.command(rich_help_panel=RECORD)
def report(
    campaign: CampaignArg,
    as_of: AsOf = None,
    xlsx: Annotated[Path | None, typer.Option(help="把台账写到此处")] = None,
) -> None:
    """年鉴体例的总结，可另写出 Excel 台账。"""
    with _progress_as_of(campaign, parse_day(as_of)) as now:
        say(report_text(now.loaded, now.progress))
        if xlsx is not None:
            org = load_snapshot(now.session, now.loaded.spec.organization)
            ledger = ledger_of(now.session, campaign_id(now.session, now.loaded.spec.key))
            rows = write_ledger(xlsx, ledger, now.loaded, org, now.progress)
            say(f"台账：{xlsx}（{rows} 行）")


def _phase_run(campaign: str, phase: str, on: str | None) -> tuple[str, dt.date]:
    """The campaign's key and the day, once the day is no later than today and the phase
    one of the campaign's; checked before Prefect starts."""
    day = parse_run_day(on)
    loaded = context().campaign(campaign)
    if phase not in loaded.phase_dates:
        raise NotFound(f"没有环节 {phase}（环节：{'、'.join(loaded.phase_dates)}）")
    ensure_prefect()
    return loaded.spec.key, day


@phase_app.command("open")
def phase_open(campaign: CampaignArg, phase: PhaseArg, on: AsOf = None) -> None:
    """现在开启一个阶段（通常由其定时运行开启）。"""
    from flows.phase import open_campaign_phase

    key, day = _phase_run(campaign, phase, on)
    opened = open_campaign_phase(key, phase, day)
    say(f"环节 {phase} 已开始：{opened} 项进入办理")


@phase_app.command("close")
def phase_close(campaign: CampaignArg, phase: PhaseArg, on: AsOf = None) -> None:
    """结束一个阶段并发布其小结。"""
    from flows.phase import close_campaign_phase

    key, day = _phase_run(campaign, phase, on)
    summary = close_campaign_phase(key, phase, day)
    say(f"环节 {phase} 已结束：完成 {summary['accepted']}/{summary['items']}")


@app.command(rich_help_panel=RUN)
def demo(
    every_campaign: Annotated[
        bool, typer.Option("--all", help="演练随附的全部活动，而不只是两个主要活动")
    ] = False,
) -> None:
    """在内置默认环境（CAMPAIGN_HOME 里的 SQLite）上演示主流程。"""
    from flows.cli.demo import run_demo

    # Prefect's own INFO lines would tear the demo's progress bar apart; the UI keeps them.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    ensure_prefect()
    run_demo(settings(), out, every_campaign)


@app.command(rich_help_panel=RUN)
def deploy(
    campaign: CampaignArg,
    pool: Annotated[
        str | None,
        typer.Option(help="由此进程工作池的 worker 运行（默认由 campaign serve 运行）"),
    ] = None,
    fan_out: Annotated[
        bool,
        typer.Option(help="与 --pool 同用：下发时每组镇街各成一次运行"),
    ] = False,
) -> None:
    """把活动按其日期部署为定时的 Prefect 部署（再运行即替换）。"""
    from flows.deployments import deploy_campaign

    if fan_out and pool is None:  # before a temporary server is started for nothing
        raise CampaignError("--fan-out 须与 --pool 同用：分批的运行由工作池的 worker 执行")
    loaded = context().campaign(campaign)
    ensure_prefect()
    for name in deploy_campaign(loaded, pool, fan_out):
        say(f"已部署 {name}")
    if loaded.last_day < parse_day(None):
        say(
            f"注意：本活动已于 {loaded.last_day} 结束，定时的下发、环节开始和结束不会再运行，"
            "每日提醒仍会催办未完成的事项；演练过去的日子请用 campaign simulate"
        )


@app.command("catch-up", rich_help_panel=RUN)
def catch_up(
    campaign: CampaignArg,
    now: Annotated[
        str | None,
        typer.Option(help="补到哪一时刻，ISO 8601 带时区偏移（默认现在）"),
    ] = None,
) -> None:
    """停机之后：把活动定时任务到此刻本该运行的补跑一次
    （迟到的定时运行被取消并注明原因，其工作在这里完成）。"""
    from flows.catch_up import catch_up_campaign

    context().campaign(campaign)
    instant = parse_instant(now) if now else None
    if instant is not None and instant > utc_now():
        raise DateRuleError(f"--now {now} 晚于此刻：{RUN_NOW}")
    ensure_prefect()
    result = catch_up_campaign(campaign, instant)
    closed = "、".join(result["phases_closed"]) or "无"
    say(
        f"{result['campaign']}：接手误点的运行 {len(result['late_runs_taken_over'])} 个；"
        f"写入事项 {result['items_written']}；结束的环节：{closed}；"
        f"抽查 {result['checks']}；发送提醒 {result['reminders_sent']} 条"
        f"（{result['digests']} 份汇总），失败 {result['reminders_failed']}"
        f"（新逾期 {result['newly_overdue']}）"
    )
    _say_failures(result["failure_reasons"])
    _say_next_due(result["next_due"])
    if result["waiting_at"]:
        say(f"等待闸门审批：{'、'.join(result['waiting_at'])}")


def _say_next_due(next_due: tuple[str, int] | None) -> None:
    """When the next reminders leave, in the local time (the sweep gives it only when it
    sent nothing)."""
    if next_due:
        at, waiting = next_due
        local = dt.datetime.fromisoformat(at).astimezone(ZoneInfo(settings().timezone))
        say(next_reminders_zh(local, waiting))


def _say_failures(reasons: list[tuple[str, int]]) -> None:
    """Why reminders were not delivered, the commonest first: what a planner can act on."""
    for error, n in reasons:
        say(undelivered_zh(error, n))


@app.command(rich_help_panel=RUN)
def serve(
    campaigns: Annotated[list[str], typer.Argument(metavar="活动...", help="活动编码或活动文件")],
) -> None:
    """在本进程中运行各活动的定时任务（内置默认方式）；Ctrl-C 停止。"""
    from prefect import serve as prefect_serve

    from flows.deployments import campaign_deployments

    run = context()
    deployments = [d for c in campaigns for d in campaign_deployments(run.campaign(c))]
    prefect_serve(*deployments)


@app.command(rich_help_panel=RUN)
def remind(
    as_of: AsOf = None,
    retry_dead: Annotated[bool, typer.Option(help="重发投递失败（dead）的提醒")] = False,
) -> None:
    """发送到此刻（或 --as-of 当天 09:00）应发的全部提醒：每人一条摘要。"""
    from flows.remind import remind_due

    day = parse_run_day(as_of) if as_of else None
    ensure_prefect()
    result = remind_due(day, retry_dead=retry_dead)
    for line in sweep_zh(
        result["day"], overdue=result["overdue"], counts=result, totals=result["totals"]
    ):
        say(line)
    _say_failures(result.get("reasons", []))
    _say_next_due(result.get("next_due"))
    if result.get("problems"):
        for problem in result["problems"]:
            typer.echo(f"错误：{unread_campaign_zh(problem)}", err=True)
        raise typer.Exit(1)
