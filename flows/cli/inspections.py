"""`campaign inspect` and `campaign inspection ...`: checks, their samples, their results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli.app import (
    RECORD,
    RUN,
    acting,
    app,
    context,
    out,
    parse_done_day,
    parse_run_day,
    say,
)
from flows.cli.console import escape
from flows.cli.params import AsOf, CampaignArg, SubjectOption
from models.domain.inspections import next_check
from models.domain.vocabulary import CheckResult
from models.domain.wording import RESULT_ZH, check_outcome_zh, occurrence_zh
from models.errors import EvidenceError
from models.store import audit
from models.store.evidence import read_evidence_file, store_bytes, subject_id
from models.store.inspections import (
    InspectedCampaign,
    SampleRef,
    made_checks,
    record_result,
    samples_of,
)
from models.store.inspections import spec_inspection as inspection_of
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.rollout import campaign_id
from tasks.inspection_tasks import make_checks

inspection_app = typer.Typer(help="登记和查看抽查结果。", no_args_is_help=True)
app.add_typer(inspection_app, name="inspection", rich_help_panel=RECORD)


@app.command(rich_help_panel=RUN)
def inspect(
    campaign: CampaignArg,
    as_of: AsOf = None,
) -> None:
    """生成截至当天应做的抽查（及整改期满的复查），各自抽取样本；再运行一次不会重复生成。"""
    day = parse_run_day(as_of)
    made = make_checks.fn(campaign, day)  # the flow's task, run here without a server
    if not made:
        run = context()
        loaded = run.campaign(campaign)
        with run.read_session() as session:
            earlier = made_checks(session, campaign_id(session, loaded.spec.key))
        coming = next_check(loaded, run.calendar, day, earlier)
        said = f"截至 {day} 没有尚未生成的抽查"
        if coming is not None:
            inspection, window = coming
            label = occurrence_zh(window.label)  # "" for a check made once
            said += f"；下一次：{inspection.name}（{inspection.key}）{label}，{window.on} 生成"
        say(said)
    for check in made:
        say(
            f"{check['inspection']} {check['label']}：抽取 {check['sampled']} 个"
            f"（{check['on']} 检查）"
        )


@inspection_app.command("record")
def record(
    campaign: CampaignArg,
    inspection: Annotated[str, typer.Option(help="抽查编码")],
    check: Annotated[str, typer.Option(help="批次，如 2014-Q1 或 2014-Q1-recheck")],
    subject: SubjectOption,
    result: Annotated[str, typer.Option(help="pass（通过）或 fail（不通过）")],
    findings: Annotated[str | None, typer.Option(help="发现的问题（不通过时必填）")] = None,
    by: Annotated[str | None, typer.Option(help="检查人（人员编码）")] = None,
    date: Annotated[str | None, typer.Option(help="检查日期（默认今天）")] = None,
    file: Annotated[list[Path] | None, typer.Option(help="检查记录文件，可多次给出")] = None,
) -> None:
    """登记一个抽中对象的结果；不通过即生成有期限的整改。"""
    if result not in tuple(CheckResult):
        raise EvidenceError(f"--result 应为 pass 或 fail，而不是 {result}")
    run = context()
    documents = [read_evidence_file(p, run.settings.max_file_bytes) for p in file or []]
    dated = parse_done_day(date)
    loaded = run.campaign(campaign)
    who = acting(by, loaded.spec.organization)
    person_code = who.person
    kind = loaded.spec.inspected(inspection_of(loaded, inspection))[1].subject.kind
    with run.session() as session, audit.entered_by(who.entered_by):
        org = load_snapshot(session, loaded.spec.organization)
        person = org.person_coded(person_code)
        scope = InspectedCampaign(loaded, campaign_id(session, loaded.spec.key), org, run.calendar)
        outcome = record_result(
            session,
            scope=scope,
            ref=SampleRef(inspection, check, kind, subject_id(org, kind, subject)),
            passed=result == CheckResult.PASS,
            findings=findings,
            inspector=person,
            dated=dated,
            now=utc_now(),
            files=[meta for _, meta in documents],
        )
        for data, meta in documents:  # stored once the result is recorded, before the commit
            store_bytes(run.settings.home.resolve(), data, meta["name"])
    say(f"{subject} · {inspection} {check}: {check_outcome_zh(outcome)}")


@inspection_app.command("show")
def show(
    campaign: CampaignArg,
    check: Annotated[str | None, typer.Option(help="只看此批次，如 2014-Q1")] = None,
) -> None:
    """已做的抽查及每个抽中对象的结果。"""
    run = context()
    loaded = run.campaign(campaign)
    with run.session() as session:
        org = load_snapshot(session, loaded.spec.organization)
        campaign_id(session, loaded.spec.key)  # rolled out, or say so
        rows = samples_of(session, campaign_keys=[loaded.spec.key], label=check)
    table = Table(
        title=escape(f"{loaded.spec.name} · 抽查（{len(rows)}个对象）"), title_justify="left"
    )
    for column in ("抽查", "批次", "对象", "结果", "检查人", "发现的问题"):
        table.add_column(column)
    inspection_names = {i.key: i.name for i in loaded.spec.inspections}
    for sample in rows:
        code, name = org.subject_label(sample.subject_type, sample.subject_id)
        table.add_row(
            escape(inspection_names.get(sample.inspection_key, sample.inspection_key)),
            escape(occurrence_zh(sample.label) or sample.label),
            escape(f"{name}（{code}）"),
            RESULT_ZH[sample.result],
            escape(sample.inspector or ""),
            escape(sample.findings or ""),
        )
    out.print(table)
