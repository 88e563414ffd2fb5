"""Whom an overdue item escalates to: a unit's to the unit above, a person's to their own
unit's head first."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pendulum
import pytest

from models.domain.campaign import CampaignSpec
from models.domain.org_snapshot import OrgSnapshot
from models.domain.reminder_planning import (
    PlannedReminder,
    UnitItems,
    Unreached,
    boss_of,
    doer,
    escalation_group,
    first_to_go,
    goes_at,
    item_reminders,
    still_to_send,
    unreached,
)
from models.domain.vocabulary import ItemStatus
from models.domain.working_days import PACKAGE_LAST_YEAR, HolidayTable, WorkCalendar
from models.errors import MissingHolidayTable

ROLES = ["secretary", "org-committee"]


def org() -> OrgSnapshot:
    units: list[tuple[int, str, str, str, list[str], int | None]] = [
        (1, "d", "区", "district", [], None),
        (2, "t", "一镇", "town", [], 1),
        (4, "v", "甲村", "village", [], 2),
        (8, "dept", "组织部", "department", [], 1),
    ]
    persons = [
        (11, "sec", "李书记", 4, frozenset({"secretary", "party-member"})),
        (13, "m1", "王党员", 4, frozenset({"party-member"})),
        (14, "oc", "赵委员", 2, frozenset({"org-committee"})),
        (15, "c1", "孙干部", 8, frozenset({"cadre"})),
        (16, "n1", "周群众", 4, frozenset({"needy"})),
    ]
    pairings = [(20, "cn-1", "cadre-needy", 15, 16), (21, "mh-1", "member-help", 11, 13)]
    return OrgSnapshot.build(units, persons, pairings)


def code(person: object) -> str | None:
    return getattr(person, "code", None)


def test_a_member_is_reminded_and_escalates_to_the_village_secretary() -> None:
    o = org()
    assert code(doer(o, "person", 13, 4, ROLES)) == "m1"
    assert code(boss_of(o, "person", 13, 4, ROLES)) == "sec"


def test_the_secretary_himself_escalates_to_the_town() -> None:
    assert code(boss_of(org(), "person", 11, 4, ROLES)) == "oc"


def test_a_unit_escalates_to_the_unit_above() -> None:
    assert code(boss_of(org(), "unit", 4, 4, ROLES)) == "oc"


def test_a_pairing_reminds_its_cadre_and_escalates_within_the_cadres_unit_or_above() -> None:
    o = org()
    assert code(doer(o, "pairing", 21, 4, ROLES)) == "sec"  # member-help: the secretary helps
    assert code(boss_of(o, "pairing", 21, 4, ROLES)) == "oc"  # he heads the village himself
    assert code(doer(o, "pairing", 20, 8, ROLES)) == "c1"
    # nobody heads the department in this tree, nor the district: no one to escalate to
    assert boss_of(o, "pairing", 20, 8, ROLES) is None


def test_when_waiting_reminders_leave_after_a_gap_and_before_their_hour() -> None:
    cal = WorkCalendar()
    bj = ZoneInfo("Asia/Shanghai")

    def at(day: int, month: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2013, month, day, hour, minute, tzinfo=bj)

    # 07:00 on 10-08, the first working day after National Day (10-01 to 10-07 off)
    now, today = at(8, 10, 7), dt.date(2013, 10, 8)
    late = (dt.date(2013, 9, 30), at(30, 9, 9))  # planned for 09-30 09:00, never sent
    assert goes_at(*late, retried=False, now=now, today=today, calendar=cal) == at(8, 10, 9)
    # a retry keeps its own instant; one planned for a later day too
    retry = (dt.date(2013, 10, 8), at(8, 10, 7, 4))
    assert goes_at(*retry, retried=True, now=now, today=today, calendar=cal) == at(8, 10, 7, 4)
    later = (dt.date(2013, 10, 10), at(10, 10, 9))
    assert goes_at(*later, retried=False, now=now, today=today, calendar=cal) == at(10, 10, 9)
    # a sweep on a holiday (10-03) sends nothing: the late one goes on 10-08 at its hour
    holiday = at(3, 10, 9, 30)
    gone = goes_at(*late, retried=False, now=holiday, today=dt.date(2013, 10, 3), calendar=cal)
    assert gone == at(8, 10, 9)

    # the first to go, and how many go then (the late ones and today's, merged by instant)
    today_9 = (dt.date(2013, 10, 8), at(8, 10, 9))
    groups = [(*late, False, 3), (*today_9, False, 2), (*later, False, 7)]
    assert first_to_go(groups, now=now, today=today, calendar=cal) == (at(8, 10, 9), 5)
    assert first_to_go([], now=now, today=today, calendar=cal) is None


def test_at_the_years_end_the_next_batch_needs_next_years_holiday_table() -> None:
    """A reminder left late on the last working day of the package's last year goes on the
    first working day of the next: without that year's table the calendar cannot say which
    (`campaign remind` then leaves its 'next batch' line out rather than fail the sweep);
    with it, the day after New Year's holiday."""
    bj = ZoneInfo("Asia/Shanghai")
    last = PACKAGE_LAST_YEAR
    new_years_eve = dt.date(last, 12, 31)
    while not WorkCalendar().is_working_day(new_years_eve):
        new_years_eve -= dt.timedelta(days=1)
    after_hours = dt.datetime.combine(new_years_eve, dt.time(17), bj)
    day_before = new_years_eve - dt.timedelta(days=1)  # planned for 09:00 then, never sent
    late = [(day_before, dt.datetime.combine(day_before, dt.time(9), bj), False, 4)]
    with pytest.raises(MissingHolidayTable):
        first_to_go(late, now=after_hours, today=new_years_eve, calendar=WorkCalendar())
    # next year's table, as `calendar import-notice` writes it: New Year's Day off
    table = HolidayTable(last + 1, holidays={dt.date(last + 1, 1, 1): "元旦"})
    first_day = dt.date(last + 1, 1, 2)
    while first_day.weekday() >= 5:
        first_day += dt.timedelta(days=1)
    with_table = WorkCalendar([table])
    assert first_to_go(late, now=after_hours, today=new_years_eve, calendar=with_table) == (
        dt.datetime.combine(first_day, dt.time(9), bj),
        4,
    )


def _spec(district_roles: list[str]) -> CampaignSpec:
    ob = {"subject": {"units": {"kinds": ["village", "town"]}}, "evidence": {"note": True}}
    return CampaignSpec.model_validate(
        {
            "key": "grid",
            "name": "网格化",
            "organization": "x",
            "reminders": {"responsible_roles": ROLES, "district_roles": district_roles},
            "phases": [
                {
                    "key": "p",
                    "name": "推开",
                    "start": "2026-11-02",
                    "end": "2026-12-31",
                    "obligations": [
                        {"key": "map", "title": "报送网格图", **ob},
                        {"key": "talk", "title": "走访", **ob},
                    ],
                }
            ],
        }
    )


def test_what_reaches_nobody_is_counted_by_unit_and_the_districts_roles_named() -> None:
    o = org()  # 甲村 has its secretary, 一镇 its committee member; the district holds nothing
    owed = [UnitItems(4, "map", 1), UnitItems(2, "map", 1), UnitItems(8, "map", 2)]
    owed.append(UnitItems(8, "talk", 3))
    gap = unreached(o, _spec(["org-dept-head"]), owed)
    # the department has nobody holding either role: its five items reach nobody
    assert gap == Unreached(
        units=(8,), items=5, roles=tuple(ROLES), district_roles=("org-dept-head",)
    )
    # the same when the organization names no district role at all
    assert unreached(o, _spec([]), owed).district_roles == ()
    # a district person with the role: the district's escalations reach them
    o.persons[17] = replace(
        o.persons[14], id=17, code="head", unit_id=1, roles=frozenset({"org-dept-head"})
    )
    o.persons_by_unit[1] = [o.persons[17]]
    o.role_holders["org-dept-head"] = [o.persons[17]]
    assert unreached(o, _spec(["org-dept-head"]), owed[:2]) == Unreached()


def test_an_items_reminders_follow_whoever_answers_for_it_now() -> None:
    o, cal = org(), WorkCalendar()
    policy = _spec(["org-dept-head"]).reminders

    class Item(NamedTuple):
        subject_type: str
        subject_id: int
        unit_id: int

    due = pendulum.Date(2026, 11, 20)  # a Friday

    def planned(item: Item, *, overdue: bool) -> list[PlannedReminder]:
        return item_reminders(
            o,
            item,
            due=due,
            overdue=overdue,
            policy=policy,
            calendar=cal,
            timezone="Asia/Shanghai",
        )

    on_time = planned(Item("unit", 4, 4), overdue=False)
    assert [(p.rule, p.recipient_id, p.send_on) for p in on_time] == [
        ("before", 11, pendulum.Date(2026, 11, 17)),
        ("due", 11, due),
    ]
    late = planned(Item("unit", 4, 4), overdue=True)
    assert [(p.rule, p.recipient_id) for p in late] == [
        ("overdue-1", 11),
        ("overdue-2", 11),
        ("overdue-3", 11),
        ("escalate", 14),  # the town's committee member; nobody at the district
    ]
    # the department: nobody answers for it, nobody above it holds a role
    assert planned(Item("unit", 8, 8), overdue=True) == []


def test_a_persons_item_escalated_to_their_own_units_head_is_grouped_under_that_unit() -> None:
    class Item(NamedTuple):
        subject_type: str
        unit_id: int
        town_id: int | None
        subject_id: int = 1

    village, town = 7, 3
    cadre = Item("pairing", village, town)
    assert escalation_group("escalate", cadre, recipient_unit=village) == village
    # the secretary's own item, escalated past them to the town; the district; a unit's item
    assert escalation_group("escalate", cadre, recipient_unit=town) == town
    assert escalation_group("district", cadre, recipient_unit=None) == town
    assert escalation_group("escalate", Item("unit", village, town), recipient_unit=town) == town


def test_a_record_awaiting_its_signature_reminds_only_those_above() -> None:
    waiting = ItemStatus.SUBMITTED
    assert [r for r in ("before", "due", "overdue-2", "escalate", "district")
            if still_to_send(waiting, r)] == ["escalate", "district"]  # fmt: skip
    assert still_to_send(ItemStatus.REJECTED, "overdue-3")  # sent back: the doer again
    assert not still_to_send(ItemStatus.ACCEPTED, "district")
