"""The reminder rules and statuses, and which of one item's reminders a sweep sends. Pure.

A sweep after a gap (an outage, a late deployment, a long holiday) finds several reminders of
one item for one person due at once: the before-due, the on-due, two overdue repeats, maybe an
escalation to the same person when they answer for the unit above too. The person gets one
line, with the item as it stands at the sweep; the rest are superseded, never sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from models.domain.vocabulary import ReminderStatus

BEFORE = "before"
DUE = "due"
ESCALATE = "escalate"
DISTRICT = "district"
ESCALATIONS = (ESCALATE, DISTRICT)


def is_escalation(rule: str) -> bool:
    return rule in ESCALATIONS


def overdue_rule(k: int) -> str:
    return f"overdue-{k}"


def rank(rule: str) -> tuple[int, int]:
    """Lower says more. Of one person's reminders of an item, the doer's own (the latest of
    them) says more than an escalation (a person who answers for the unit above as well is
    told once, as the doer), the district's escalation more than the town's."""
    if rule == DISTRICT:
        return (1, -1)
    if rule == ESCALATE:
        return (1, 0)
    if rule.startswith("overdue-"):
        return (0, -2 - int(rule.removeprefix("overdue-")))
    return (0, -1 if rule == DUE else 0)


class DueReminder(Protocol):
    """What ranking and superseding read of a due reminder."""

    @property
    def id(self) -> int: ...
    @property
    def item_id(self) -> int: ...
    @property
    def recipient_id(self) -> int: ...
    @property
    def rule(self) -> str: ...


T = TypeVar("T", bound=DueReminder)


def one_per_item(due: Sequence[T]) -> tuple[list[T], list[int]]:
    """(the reminder kept for each item and recipient, the ids of those it supersedes)."""
    best: dict[tuple[int, int], T] = {}
    superseded: list[int] = []
    for reminder in due:
        key = (reminder.item_id, reminder.recipient_id)
        held = best.get(key)
        if held is None:
            best[key] = reminder
        elif rank(reminder.rule) < rank(held.rule):
            superseded.append(held.id)
            best[key] = reminder
        else:
            superseded.append(reminder.id)
    return list(best.values()), superseded


def add_up(by_status: dict[str, int]) -> int:
    """Every planned reminder is in exactly one status: what a total must come back to."""
    return sum(by_status.get(s.value, 0) for s in ReminderStatus)
