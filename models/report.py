"""The closing report: a summary in the yearbook's own style and an Excel ledger (台账)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from models.domain.campaign import LoadedCampaign
from models.domain.org_snapshot import OrgSnapshot
from models.domain.vocabulary import ItemStatus
from models.domain.wording import (
    BACKFILLED_ZH,
    PHASE_STATUS_ZH,
    STATUS_ZH,
    counts_zh,
    date_zh,
    occurrence_zh,
)
from models.inert_cells import cells, inert
from models.progress_text import RAG_ZH, yearbook_sentence
from models.store.ledger import Ledger
from models.store.progress import CampaignProgress

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def span_text(first: dt.date, last: dt.date) -> str:
    """A campaign's span as the yearbook writes it: 2013年8月至12月, 2012年11月至2013年5月,
    and within one month 2026年12月 (never "2026年12月至2026年12月")."""
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.year}年{first.month}月"
    if first.year == last.year:
        return f"{first.year}年{first.month}月至{last.month}月"
    return f"{first.year}年{first.month}月至{last.year}年{last.month}月"


def report_text(loaded: LoadedCampaign, progress: CampaignProgress) -> str:
    """Paragraphs in the yearbook's manner, from the recorded numbers."""
    spec = loaded.spec
    first = loaded.first_day
    last = loaded.last_day
    lines = [f"【{spec.name}】"]
    phases = "；".join(
        f"{p.name}环节（{_md(p.starts)}—{_md(p.ends)}）完成{p.accepted}项/{p.items}项"
        for p in progress.phases
    )
    lines.append(f"{span_text(first, last)}，按{len(progress.phases)}个环节实施。{phases}。")
    done = (
        f"截至{_ymd(progress.as_of)}，共{progress.items}项工作事项，已完成{progress.accepted}项"
        f"（{progress.percent}%），逾期未完成{progress.overdue}项。"
    )
    if progress.backfilled:
        done += f"其中{progress.backfilled}项为补录（{BACKFILLED_ZH}）。"
    lines.append(done)
    sentence = yearbook_sentence(progress)
    if sentence:
        lines.append(sentence)
    shortfalls = [t for t in progress.targets if t.actual < t.target]
    if shortfalls:
        lines.append(
            "未达目标："
            + "，".join(f"{t.name}差{t.target - t.actual}{t.unit}" for t in shortfalls)
            + "。"
        )
    return "\n".join(lines)


def _md(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.month}月{d.day}日"


def _ymd(iso: str) -> str:
    return date_zh(dt.date.fromisoformat(iso))


def write_ledger(
    path: Path,
    ledger: Ledger,
    loaded: LoadedCampaign,
    org: OrgSnapshot,
    progress: CampaignProgress,
) -> int:
    """A sheet per phase (a row per subject, obligation and occurrence) and a summary by
    town; returns the number of item rows written."""
    spec = loaded.spec
    titles = {ob.key: ob.title for _, ob in spec.obligations()}
    evidence, reported = ledger.evidence, ledger.reported
    book = Workbook()
    summary = book.active
    summary.title = "汇总"
    header_font = Font(bold=True)
    _row(summary, ["镇街", "编码", "事项", "已完成", "逾期", "完成率%", "状态"], header_font)
    for t in progress.towns:
        _row(summary, [t.name, t.code, t.items, t.accepted, t.overdue, t.percent, RAG_ZH[t.rag]])
    summary.append([])
    _row(
        summary, ["环节", "开始", "结束", "状态", "事项", "已完成", "逾期", "完成率%"], header_font
    )
    for p in progress.phases:
        _row(
            summary,
            [
                p.name,
                p.starts,
                p.ends,
                PHASE_STATUS_ZH.get(p.status, p.status),
                p.items,
                p.accepted,
                p.overdue,
                p.percent,
            ],
        )
    if progress.targets:
        summary.append([])
        _row(summary, ["目标", "计划", "实际", "单位"], header_font)
        for target in progress.targets:
            _row(summary, [target.name, target.target, target.actual, target.unit])
    _widths(summary)
    rows = 0
    overdue_fill = PatternFill("solid", fgColor="F8CBAD")
    count_names = {c.key: c.name for _, ob in spec.obligations() for c in ob.evidence.counts}
    for index, phase in enumerate(spec.phases, start=1):
        sheet = book.create_sheet(_SHEET_BAD.sub("", f"{index}.{phase.name}")[:31])
        _row(
            sheet,
            [
                "镇街",
                "对象编码",
                "对象",
                "事项",
                "期次",
                "状态",
                "截止日期",
                "完成日期",
                "证据条数",
                "上报数字",
            ],
            header_font,
        )
        items = ledger.by_phase.get(phase.key, [])
        as_of = dt.date.fromisoformat(progress.as_of)
        for item in items:
            code, name = org.subject_label(item.subject_type, item.subject_id)
            counts = counts_zh(reported.get(item.id, {}), count_names)
            sheet.append(
                cells(
                    [
                        org.town_name(item.town_id),
                        code,
                        name,
                        titles.get(item.obligation_key, item.obligation_key),
                        occurrence_zh(item.occurrence) or "一次",
                        STATUS_ZH.get(item.status, item.status),
                        item.due,
                        item.completed_on,
                        evidence.get(item.id, 0),
                        counts,
                    ]
                )
            )
            if item.status not in (ItemStatus.ACCEPTED, ItemStatus.CANCELLED) and item.due < as_of:
                for cell in sheet[sheet.max_row]:
                    cell.fill = overdue_fill
            rows += 1
        _widths(sheet)
        sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    inert(book)  # what users typed stays text
    book.save(path)
    return rows


def _row(sheet: Worksheet, values: list[object], font: Font | None = None) -> None:
    sheet.append(cells(values))
    if font is not None:
        for cell in sheet[sheet.max_row]:
            cell.font = font


def _widths(sheet: Worksheet) -> None:
    for column in sheet.columns:
        width = max(
            (
                len(str(c.value)) * (2 if not str(c.value).isascii() else 1)
                for c in column
                if c.value is not None
            ),
            default=6,
        )
        sheet.column_dimensions[get_column_letter(column[0].column)].width = min(width + 2, 60)
