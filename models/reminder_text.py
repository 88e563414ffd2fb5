"""Reminder messages in Chinese: one digest per recipient, carrying an idempotency key."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pendulum

from models.reminder_planning import days_word
from models.reminder_store import ESCALATIONS
from models.wording import occurrence_zh
from models.working_days import WorkCalendar

RULE_WORDS = {
    "before": "即将到期",
    "due": "今天到期",
    "escalate": "下级逾期，请督办",
    "district": "逾期未办，报区级督办",
}


@dataclass(slots=True)  # a sweep makes 100,000 of them: no frozen-init overhead
class ReminderLine:
    reminder_id: int
    rule: str
    campaign: str
    phase: str
    obligation: str
    subject: str
    occurrence: str
    due: pendulum.Date
    # what the reminder is, in codes that mean the same in any database: campaign, the
    # item's natural key, rule, day and recipient (never a row id)
    natural: str = ""


def digest_key(naturals: Sequence[str]) -> str:
    """The same reminders make the same key, so a receiver can drop a repeat; two databases
    never give one key to different reminders, as row ids would."""
    return hashlib.sha256("\n".join(sorted(naturals)).encode()).hexdigest()[:32]


def rule_word(rule: str) -> str:
    return "已逾期" if rule.startswith("overdue") else RULE_WORDS.get(rule, rule)


def render_digest(
    recipient: str, lines: Sequence[ReminderLine], today: pendulum.Date, calendar: WorkCalendar
) -> tuple[str, str, str]:
    """(title, body, key) of one person's digest for the day."""
    key = digest_key([line.natural or f"id:{line.reminder_id}" for line in lines])
    escalations = sum(1 for line in lines if line.rule in ESCALATIONS)
    title = f"【工作提醒】{recipient}：{len(lines)}项待办" + (
        f"（含督办{escalations}项）" if escalations else ""
    )
    body = [
        f"{recipient}同志：截至{today.year}年{today.month}月{today.day}日，以下事项请及时办理："
    ]
    for n, line in enumerate(sorted(lines, key=lambda x: (x.due, x.campaign, x.obligation)), 1):
        words = occurrence_zh(line.occurrence)
        occurrence = f"（{words}）" if words else ""
        body.append(
            f"{n}. [{rule_word(line.rule)}] {line.campaign} · {line.phase} · {line.obligation}"
            f"{occurrence}；对象：{line.subject}；截止{line.due.month}月{line.due.day}日"
            f"（{days_word(line.due, today, calendar)}）"
        )
    body.append(f"提醒编号：{key}")
    return title, "\n".join(body), key
