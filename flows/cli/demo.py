"""`make demo`: the main job on the embedded default, from a fresh data folder.

It imports the shipped organization, loads the two main campaigns of the seed (or, with
--all, every shipped campaign), rehearses each over its whole span with the seeded behaviour
model (the leading group answers the pilot gate), prints progress at each phase boundary and
the closing reports, and writes the ledgers.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from config.campaign_files import (
    org_names,
    shipped_campaigns,
    shipped_org_files,
)
from config.org_file import read_org_files
from config.settings import Settings
from flows.cli import console as view
from models.domain.burden import town_loads, week_of, weigh
from models.report import report_text, write_ledger
from models.store.gates import latest_decisions, reviewer_name
from models.store.ledger import ledger_of
from models.store.orgs import import_org, load_snapshot, org_counts, org_id_of
from models.store.progress import campaign_progress
from models.store.rehearsal import refuse_real_records
from models.store.rollout import campaign_id
from tasks.context import TaskContext

CAMPAIGNS = ("village-rectification-2013", "mass-line-2013")
ORG = "weihai-etdz"  # the shipped district the demo rehearses


def run_demo(settings: Settings, out: Console, every_campaign: bool = False) -> None:
    # a rehearsal's digests go to a file, one JSON line each, never to people's channels
    outbox = settings.rehearsal_outbox
    from flows.simulate import simulate_campaign
    from tasks.reminder_tasks import reminder_totals

    started = time.monotonic()
    run = TaskContext(settings)
    calendar = run.calendar
    out.rule("1. 导入组织机构")
    with run.session() as session:
        refuse_real_records(session)  # the demo rehearses: never on a department's records
        import_org(session, read_org_files(shipped_org_files(settings, ORG)))
        out.print(view.org_counts_line(org_counts(session, org_id_of(session, ORG)), ORG))
    keys = [p.stem for p in shipped_campaigns(settings)] if every_campaign else CAMPAIGNS
    loaded = {key: run.campaign(key) for key in keys}
    out.rule("2. 活动方案（已校验）")
    names = org_names(settings, ORG)
    for campaign in loaded.values():
        out.print(view.phase_table(campaign, names))

    # One segment per day on which phases end (phases may run in parallel).
    segments = [
        (key, end, [p for p in campaign.spec.phases if campaign.phase_dates[p.key].ends == end])
        for key, campaign in loaded.items()
        for end in sorted({d.ends for d in campaign.phase_dates.values()})
    ]
    with run.read_session() as session:
        snapshot = load_snapshot(session, ORG)
    weekly = weigh(
        [(c.spec, c.phase_dates) for c in loaded.values()], snapshot, calendar, period=week_of
    )
    out.print(view.busiest_weeks_table(town_loads(weekly, snapshot)))

    out.rule("3. 按模拟时钟推演全年（行为模型：多数按期、部分逾期、少数未完成）")
    boundaries: list[tuple[str, str, str]] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} 段"),
        TimeElapsedColumn(),
        console=out,
    ) as bar:
        task = bar.add_task("推演", total=len(segments))
        previous_end: dict[str, dt.date] = {}
        for key, end, ending in segments:
            campaign = loaded[key]
            names_ending = "、".join(p.name for p in ending)
            bar.update(task, description=f"{campaign.spec.name} · {names_ending}")
            start = previous_end.get(key)
            first = campaign.first_day if start is None else start + dt.timedelta(days=1)
            simulate_campaign(key, first, end, seed=2013)
            previous_end[key] = end
            with run.session() as session:
                progress = campaign_progress(session, campaign, end)
            for phase in ending:
                p = next(x for x in progress.phases if x.key == phase.key)
                line = (
                    f"{end} {campaign.spec.name} · {phase.name}结束：完成 "
                    f"{p.accepted}/{p.items}（{p.percent}%），逾期 {p.overdue}；"
                    f"全活动完成 {progress.percent}%"
                )
                bar.console.print(line, markup=False)
                boundaries.append((key, phase.key, line))
            bar.advance(task)

    out.rule("4. 闸门")
    with run.session() as session:
        for key, campaign in loaded.items():
            for gate_key, decision in latest_decisions(session, campaign_id(session, key)).items():
                gate = next(g for g in campaign.spec.gates if g.key == gate_key)
                word = "批准" if decision.approved else "否决"
                out.print(
                    f"{campaign.spec.name} · {gate.name}：{reviewer_name(session, decision)}"
                    f"{word}（{decision.notes}）",
                    markup=False,
                )

    out.rule("5. 提醒")
    totals = reminder_totals()
    digests = sum(1 for _ in outbox.open(encoding="utf-8")) if outbox.exists() else 0
    out.print(
        f"已发送提醒{totals.get('sent', 0)}条（合并为{digests}份汇总），其中督办"
        f"{totals.get('escalated', 0)}条；停发{totals.get('dead', 0)}条；"
        f"因事项完成而取消{totals.get('cancelled', 0)}条；同一事项当天已有一条而合并"
        f"{totals.get('superseded', 0)}条。写入：{outbox}",
        markup=False,
    )
    if outbox.exists():
        first = json.loads(outbox.open(encoding="utf-8").readline())
        out.print(f"第一份提醒：{first['title']}\n{first['body']}", markup=False)

    out.rule("6. 总结报告")
    reports = settings.home.resolve() / "reports"
    with run.session() as session:
        org = load_snapshot(session, ORG)
        for key, campaign in loaded.items():
            end = campaign.last_day
            progress = campaign_progress(session, campaign, end)
            for table in view.progress_tables(progress):
                out.print(table)
            out.print(report_text(campaign, progress), markup=False)
            ledger = ledger_of(session, campaign_id(session, key))
            rows = write_ledger(reports / f"{key}.xlsx", ledger, campaign, org, progress)
            out.print(f"台账：{reports / f'{key}.xlsx'}（{rows}行）", markup=False)
            out.print()
    out.rule("完成")
    out.print(
        f"用时 {time.monotonic() - started:.0f} 秒。数据目录：{settings.home.resolve()}",
        markup=False,
    )
    out.print(
        "在 Prefect 界面查看推演记录（流程运行、各环节进度、各镇街表格）：运行 make ui，"
        "然后打开 http://127.0.0.1:4200",
        markup=False,
    )
