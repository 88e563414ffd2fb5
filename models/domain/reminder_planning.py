"""Which reminders an item gets, to whom and on which working day. Pure.

Before the due date and on it, to whoever answers for the item; once it is overdue, repeats
to them, then an escalation to the supervising unit's responsible person and, later, to the
district. Every send day is a working day; the send time is the policy's local hour.

And which of one item's reminders a sweep sends: a sweep after a gap (an outage, a late
deployment, a long holiday) finds several reminders of one item for one person due at once:
the before-due, the on-due, two overdue repeats, maybe an escalation to the same person when
they answer for the unit above too. The person gets one line, with the item as it stands at
the sweep; the rest are superseded, never sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, TypeVar

import pendulum

from models.domain.campaign import CampaignSpec, ReminderPolicy
from models.domain.org_snapshot import OrgSnapshot, PersonInfo
from models.domain.permissions import Subject
from models.domain.vocabulary import OPEN_ITEM, ItemStatus, ReminderStatus, SubjectType
from models.domain.working_days import WorkCalendar, local_instant

# The rules: the name a planned reminder carries says why it is sent.
BEFORE = "before"
DUE = "due"
ESCALATE = "escalate"
DISTRICT = "district"
ESCALATIONS = (ESCALATE, DISTRICT)


def is_escalation(rule: str) -> bool:
    return rule in ESCALATIONS


class GroupedItem(Subject, Protocol):
    @property
    def town_id(self) -> int | None: ...


def escalation_group(rule: str, item: GroupedItem, recipient_unit: int | None) -> int | None:
    """The unit an escalation's digest line is grouped under: the item's town (None: the
    district level), save a person's or a pairing's item escalated to the head of their own
    unit (`boss_of`: a village secretary told of a cadre's missed visits), which is grouped
    under that unit: `待泾村：2个结对…`, not the whole town's name."""
    own_unit = rule == ESCALATE and item.subject_type != SubjectType.UNIT
    return item.unit_id if own_unit and recipient_unit == item.unit_id else item.town_id


def still_to_send(status: str, rule: str) -> bool:
    """Whether a reminder has anything to say when its turn comes, by its item's status. Not
    once the item is done; nor, while a record waits for its signature (待签字), the doer's
    own: they have done their part, and a village that reported on time would otherwise be
    told daily that it is late. The escalations go on: the signature, or the push, is those
    above's. A record sent back is reminded again by the repeats still to come.
    (`_still_to_send` in models/store/reminders.py is this rule in SQL.)"""
    if status == ItemStatus.SUBMITTED:
        return is_escalation(rule)
    return status in OPEN_ITEM


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


# The roles a policy names, first held first; None where a policy names none.
Roles = Sequence[str] | None


@dataclass(frozen=True)
class PlannedReminder:
    rule: str
    recipient_id: int
    send_on: pendulum.Date
    send_at: dt.datetime


def responsible(org: OrgSnapshot, unit_id: int, roles: Roles) -> PersonInfo | None:
    """The person who answers for a unit: the first role of the policy held in it."""
    here = org.persons_by_unit.get(unit_id, [])
    for role in roles or ():
        holders = sorted((p for p in here if role in p.roles), key=lambda p: p.code)
        if holders:
            return holders[0]
    return None


def doer(
    org: OrgSnapshot, subject_type: str, subject_id: int, unit_id: int, roles: Roles
) -> PersonInfo | None:
    if subject_type == SubjectType.PERSON:
        return org.persons[subject_id]
    if subject_type == SubjectType.PAIRING:
        return org.persons[org.pairings[subject_id].cadre_id]
    return responsible(org, unit_id, roles)


def supervisor(org: OrgSnapshot, unit_id: int, roles: Roles) -> PersonInfo | None:
    """The responsible person of the nearest unit above that has one."""
    current = org.units[unit_id].parent_id
    while current is not None:
        found = responsible(org, current, roles)
        if found is not None:
            return found
        current = org.units[current].parent_id
    return None


def boss_of(
    org: OrgSnapshot, subject_type: str, subject_id: int, unit_id: int, roles: Roles
) -> PersonInfo | None:
    """Whom an overdue item escalates to: for a unit, the unit above; for a person or a
    pairing's cadre, the one who answers for their own unit (unless that is themselves),
    else the unit above."""
    if subject_type != SubjectType.UNIT:
        person = doer(org, subject_type, subject_id, unit_id, roles)
        head = responsible(org, unit_id, roles)
        if head is not None and person is not None and head.id != person.id:
            return head
    return supervisor(org, unit_id, roles)


def district(org: OrgSnapshot, roles: Roles) -> PersonInfo | None:
    for role in roles or ():
        holders = sorted(
            (p for p in org.role_holders.get(role, []) if org.units[p.unit_id].town_id is None),
            key=lambda p: p.code,
        )
        if holders:
            return holders[0]
    return None


def addressee(
    rule: str,
    org: OrgSnapshot,
    subject_type: str,
    subject_id: int,
    unit_id: int,
    policy: ReminderPolicy,
) -> PersonInfo | None:
    """Whom a reminder of `rule` about an item goes to, as the organization stands: the one
    who answers for the item; for an escalation, the supervising unit's (the district's when
    none is above); for the district's, the district's."""
    if rule == DISTRICT:
        return district(org, policy.district_roles)
    if rule == ESCALATE:
        return boss_of(
            org, subject_type, subject_id, unit_id, policy.responsible_roles
        ) or district(org, policy.district_roles)
    return doer(org, subject_type, subject_id, unit_id, policy.responsible_roles)


def _at(day: pendulum.Date, policy: ReminderPolicy, timezone: str) -> dt.datetime:
    return local_instant(day, policy.at, timezone)


def before_and_on_due(
    *,
    due: pendulum.Date,
    recipient: PersonInfo | None,
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    timezone: str,
) -> list[PlannedReminder]:
    """Planned with the item: N working days before, and on the due date."""
    if recipient is None:
        return []
    out = []
    if policy.before:
        day = calendar.add_working_days(due, -policy.before)
        out.append(PlannedReminder("before", recipient.id, day, _at(day, policy, timezone)))
    if policy.on_due:
        day = calendar.next_working_day(due)
        out.append(PlannedReminder("due", recipient.id, day, _at(day, policy, timezone)))
    return out


def once_overdue(
    *,
    due: pendulum.Date,
    recipient: PersonInfo | None,
    boss: PersonInfo | None,
    top: PersonInfo | None,
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    timezone: str,
) -> list[PlannedReminder]:
    """Planned when a sweep first finds the item overdue: repeats, then escalations."""
    out = []
    if recipient is not None:
        for k in range(1, policy.overdue_repeats + 1):
            day = calendar.add_working_days(due, k * policy.overdue_every)
            out.append(
                PlannedReminder(overdue_rule(k), recipient.id, day, _at(day, policy, timezone))
            )
    for rule, person, after in (
        (ESCALATE, boss, policy.escalate_after),
        (DISTRICT, top, policy.district_after),
    ):
        if person is not None:
            day = calendar.add_working_days(due, after)
            out.append(PlannedReminder(rule, person.id, day, _at(day, policy, timezone)))
    return out


def item_reminders(
    org: OrgSnapshot,
    item: Subject,
    *,
    due: pendulum.Date,
    overdue: bool,
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    timezone: str,
) -> list[PlannedReminder]:
    """An item's reminders to whom they go as the organization stands: before and on its due
    date; once a sweep has found it overdue, the repeats and the escalations."""
    whom = (org, item.subject_type, item.subject_id, item.unit_id, policy)
    if not overdue:
        return before_and_on_due(
            due=due,
            recipient=addressee(DUE, *whom),
            policy=policy,
            calendar=calendar,
            timezone=timezone,
        )
    return once_overdue(
        due=due,
        recipient=addressee(DUE, *whom),
        # Above a town, or a department, the supervising unit is the district itself.
        boss=addressee(ESCALATE, *whom),
        top=addressee(DISTRICT, *whom),
        policy=policy,
        calendar=calendar,
        timezone=timezone,
    )


class UnitItems(NamedTuple):
    """A campaign's owed items of one unit and obligation, counted."""

    unit_id: int
    obligation_key: str
    items: int


@dataclass(frozen=True)
class Unreached:
    """Whom a campaign's reminders cannot reach as the organization stands: the units whose
    items nobody answers for (no reminder, nobody's list), and the district's escalations
    when nobody at the district holds a district role."""

    units: tuple[int, ...] = ()
    items: int = 0
    roles: tuple[str, ...] = ()  # the roles looked for in those units, first preferred first
    district_roles: tuple[str, ...] | None = None  # None: the district's reminders reach someone


def unreached(org: OrgSnapshot, spec: CampaignSpec, owed: Iterable[UnitItems]) -> Unreached:
    """What of the campaign reaches nobody (a person or a pairing always has its doer)."""
    policies = spec.policies_by_key()
    units: dict[int, None] = {}
    roles: dict[str, None] = {}
    items = 0
    for row in owed:
        policy = policies[row.obligation_key]
        if responsible(org, row.unit_id, policy.responsible_roles) is None:
            units[row.unit_id] = None
            roles.update(dict.fromkeys(policy.responsible_roles or ()))
            items += row.items
    district_roles: dict[str, None] | None = None
    for policy in policies.values():
        if district(org, policy.district_roles) is None:
            district_roles = district_roles or {}
            district_roles.update(dict.fromkeys(policy.district_roles or ()))
    return Unreached(
        tuple(units),
        items,
        tuple(roles),
        None if district_roles is None else tuple(district_roles),
    )


def goes_at(
    send_on: dt.date,
    send_at: dt.datetime,
    *,
    retried: bool,
    now: dt.datetime,
    today: dt.date,
    calendar: WorkCalendar,
) -> dt.datetime:
    """When a pending reminder leaves, as a sweep sees it at `now` (`today`: that instant's
    local day). A retry, or one planned for today or later, at its own instant; one planned
    for an earlier day that no sweep sent at its own hour on the first working day from today
    whose hour is still ahead (its send_at shifted by whole days: the store's claim applies
    the same rule in SQL)."""
    if retried or send_on >= today:
        return send_at
    day: dt.date = calendar.next_working_day(today)
    while (at := send_at + dt.timedelta(days=day.toordinal() - send_on.toordinal())) <= now:
        day = calendar.next_working_day(day, include_self=False)
    return at


def first_to_go(
    waiting: Sequence[tuple[dt.date, dt.datetime, bool, int]],
    *,
    now: dt.datetime,
    today: dt.date,
    calendar: WorkCalendar,
) -> tuple[dt.datetime, int] | None:
    """Of pending reminders grouped as (send_on, send_at, retried, how many), when the first
    leave after `now` and how many leave then (None: none waits)."""
    times: dict[dt.datetime, int] = {}
    for send_on, send_at, retried, n in waiting:
        at = goes_at(send_on, send_at, retried=retried, now=now, today=today, calendar=calendar)
        if at > now:
            times[at] = times.get(at, 0) + n
    if not times:
        return None
    first = min(times)
    return first, times[first]
