"""Progress rendered as text for people: markdown for the Prefect UI, the yearbook summary."""

from __future__ import annotations

from models.domain.wording import PHASE_STATUS_ZH
from models.store.progress import CampaignProgress

RAG_ZH = {"green": "🟢 正常", "amber": "🟡 有逾期", "red": "🔴 逾期较多"}


def town_rows(progress: CampaignProgress) -> list[dict[str, object]]:
    return [
        {
            "镇街": t.name,
            "编码": t.code,
            "事项": t.items,
            "已完成": t.accepted,
            "逾期": t.overdue,
            "应完成": t.owed,
            "完成率%": t.percent,
            "状态": RAG_ZH[t.rag],
        }
        for t in progress.towns
    ]


def summary_markdown(progress: CampaignProgress) -> str:
    lines = [
        f"## {progress.name}",
        "",
        f"截至 {progress.as_of}：事项 {progress.items} 项，已完成 {progress.accepted} 项"
        f"（{progress.percent}%），逾期 {progress.overdue} 项。",
        "",
        "| 环节 | 起止 | 状态 | 事项 | 已完成 | 逾期 | 完成率 |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for p in progress.phases:
        lines.append(
            f"| {p.name} | {p.starts} 至 {p.ends} | {PHASE_STATUS_ZH.get(p.status, p.status)}"
            f" | {p.items} | {p.accepted} | {p.overdue} | {p.percent}% |"
        )
    if progress.targets:
        lines += ["", "| 目标 | 计划 | 实际 |", "|---|---:|---:|"]
        lines += [
            f"| {t.name} | {t.target}{t.unit} | {t.actual}{t.unit} |" for t in progress.targets
        ]
    return "\n".join(lines) + "\n"


def yearbook_sentence(progress: CampaignProgress) -> str:
    """The closing sentence in the yearbook's style: 共组织集中宣讲307场次，走访……"""
    parts = [f"{t.name}{t.actual}{t.unit}" for t in progress.targets]
    if not parts:
        return ""
    return "共" + "，".join(parts) + "。"
