"""Whom an overdue item escalates to: a unit's to the unit above, a person's to their own
unit's head first."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from models.domain.org_snapshot import OrgSnapshot
from models.domain.reminder_planning import boss_of, doer, first_to_go, goes_at
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
