"""Rollout planning on a small tree: subjects, occurrences, waves, windows."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from typing import NamedTuple

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.domain.campaign import CampaignSpec, PhaseDates, Recurrence
from models.domain.org_snapshot import OrgSnapshot
from models.domain.planning import (
    NamedUnit,
    RolloutPlanner,
    begun,
    half_gated,
    in_window,
    named_unit_codes,
    named_unit_problems,
    not_open_yet,
    select_wave_units,
    waves_before,
    windows,
)
from models.domain.vocabulary import RETIRED_TAG
from models.domain.wording import half_gated_zh
from models.domain.working_days import RollPolicy, WorkCalendar

D = pendulum.Date
cal = WorkCalendar()


def small_org() -> OrgSnapshot:
    units = [
        (1, "d", "区", "district", [], None),
        (2, "t1", "一镇", "town", [], 1),
        (3, "t2", "二镇", "town", [], 1),
        (4, "t1-a", "甲村", "village", [], 2),
        (5, "t1-b", "乙村", "village", ["weakest"], 2),
        (6, "t2-a", "丙村", "village", [], 3),
        (7, "t2-b", "丁村", "village", [], 3),
        (8, "dept", "组织部", "department", [], 1),
    ]
    persons = [
        (10, "p1", "张三", 8, frozenset({"org-cadre"})),
        (11, "p2", "李四", 4, frozenset({"secretary"})),
        (12, "p3", "王五", 6, frozenset({"needy"})),
    ]
    pairings = [(20, "pair-1", "cadre-needy", 10, 12)]
    return OrgSnapshot.build(units, persons, pairings)


def spec(**extra: object) -> CampaignSpec:
    data = {
        "key": "t",
        "name": "测试",
        "organization": "weihai-etdz",
        "phases": [
            {
                "key": "pilot",
                "name": "试点",
                "start": "2013-09-02",
                "end": "2013-09-30",
                "obligations": [
                    {"key": "fix", "title": "整治", "subject": {"units": {"kinds": ["village"]}}}
                ],
            },
            {
                "key": "rest",
                "name": "推进",
                "start": "2013-10-08",
                "end": "2013-12-31",
                "obligations": [
                    {"key": "fix2", "title": "整治", "subject": {"units": {"kinds": ["village"]}}},
                    {
                        "key": "monthly",
                        "title": "月例会",
                        "subject": {"units": {"kinds": ["town"]}},
                        "recurrence": {"every": "month"},
                    },
                    {
                        "key": "notes",
                        "title": "心得",
                        "subject": {"persons": {"roles": ["org-cadre"]}},
                    },
                    {
                        "key": "contact",
                        "title": "联系",
                        "subject": {"pairings": {"kinds": ["cadre-needy"]}},
                        "recurrence": {"every": "two-months"},
                    },
                ],
            },
        ],
        **extra,
    }
    return CampaignSpec.model_validate(data)


DATES = {
    "pilot": PhaseDates("pilot", D(2013, 9, 2), D(2013, 9, 30)),
    "rest": PhaseDates("rest", D(2013, 10, 8), D(2013, 12, 31)),
}
WAVES = {
    "waves": [
        {
            "key": "pilot",
            "name": "试点",
            "phases": ["pilot"],
            "select": {"kinds": ["village"], "per": "town", "count": 1, "prefer_tags": ["weakest"]},
        },
        {"key": "rest", "name": "其余", "phases": ["rest"], "after_gate": "g"},
    ],
    "gates": [{"key": "g", "name": "评审", "approvers": ["leading-group"]}],
}


def all_items(planner: RolloutPlanner, waves: set[str | None] | None = None) -> list:
    return [i for t in planner.towns() for i in planner.items(t, waves)]


def test_subjects_occurrences_and_towns_without_waves() -> None:
    planner = RolloutPlanner(spec(), DATES, small_org(), cal)
    items = all_items(planner)
    by_ob: dict[str, list] = {}
    for item in items:
        by_ob.setdefault(item.obligation_key, []).append(item)
    assert len(by_ob["fix"]) == len(by_ob["fix2"]) == 4
    assert sorted(i.occurrence for i in by_ob["monthly"] if i.subject.id == 2) == [
        "2013-10",
        "2013-11",
        "2013-12",
    ]
    # The October window starts on the 8th (the phase) and is due on the 31st, a Thursday.
    assert next(i.due for i in by_ob["monthly"] if i.subject.id == 2) == D(2013, 10, 31)
    assert [i.occurrence for i in by_ob["contact"]] == ["2013-B5", "2013-B6"]
    assert by_ob["notes"][0].subject.town_id is None  # a department is district level
    assert by_ob["contact"][0].subject.unit_id == 8  # the cadre answers for the pairing
    assert planner.count() == len(items) == 4 + 4 + 3 * 2 + 1 + 2
    assert planner.towns() == [None, 2, 3]


def test_pilot_wave_picks_the_preferred_unit_per_town_and_the_rest_waits() -> None:
    planner = RolloutPlanner(spec(**WAVES), DATES, small_org(), cal)
    assert planner.wave_units == {"pilot": {5, 6}, "rest": {4, 7}}
    pilot_only = all_items(planner, {None, "pilot"})
    assert sorted(i.subject.id for i in pilot_only if i.obligation_key == "fix") == [5, 6]
    assert not [i for i in pilot_only if i.obligation_key == "fix2"]
    everything = all_items(planner)
    assert sorted(i.subject.id for i in everything if i.obligation_key == "fix2") == [4, 7]
    assert {i.wave for i in everything if i.obligation_key == "monthly"} == {None}


def test_a_wave_keeps_the_units_it_chose_and_picks_only_where_it_has_too_few() -> None:
    # town 1 piloted 甲村 (4) before 乙村 was tagged weakest; town 2 has none chosen yet
    planner = RolloutPlanner(spec(**WAVES), DATES, small_org(), cal, chosen={"pilot": {4}})
    assert planner.wave_units == {"pilot": {4, 6}, "rest": {5, 7}}
    # a unit no longer in the organization is not kept
    assert select_wave_units(spec(**WAVES), small_org(), {"pilot": {4, 99}})["pilot"] == {4, 6}


def test_a_retired_unit_is_neither_a_subject_nor_a_pilot() -> None:
    org = small_org()
    merged = replace(org.units[5], tags=frozenset({"weakest", RETIRED_TAG}))
    org = replace(org, units={**org.units, 5: merged})
    planner = RolloutPlanner(spec(**WAVES), DATES, org, cal)
    assert planner.wave_units == {"pilot": {4, 6}, "rest": {7}}  # 乙村 merged away
    assert 5 not in {i.subject.id for i in all_items(planner)}


def test_a_gate_holding_back_only_part_of_an_obligation_is_said() -> None:
    # the pilot picks villages; the phase after the gate also falls on communities, whose
    # items go out at once: said where the obligation is, with the gate it does not wait for
    waves = {**WAVES, "phases": spec().model_dump(mode="json")["phases"]}
    waves["phases"][1]["obligations"][0]["subject"]["units"]["kinds"] = ["village", "community"]
    found = half_gated(spec(**waves))
    assert [(f.loc, f.outside, f.gate_key) for f in found] == [
        (("phases", 1, "obligations", 0, "subject", "units", "kinds"), ("community",), "g")
    ]
    assert half_gated_zh(found[0]) == (
        "“整治”落在村、社区上，批次只挑选村：社区的这些事项下发时就写出，不等闸门“评审”（g）；"
        "要它们也等闸门，把 community 加进挑选批次的 select.kinds（那个批次也就从中挑选）"
    )
    # wholly outside the waves (the towns' monthly meeting), or wholly inside: nothing said
    assert half_gated(spec(**WAVES)) == []


@pytest.mark.parametrize(
    ("every", "labels"),
    [
        ("week", ["2013-W40", "2013-W41"]),
        ("month", ["2013-10"]),
        ("quarter", ["2013-Q4"]),
        ("half-year", ["2013-H2"]),
        ("year", ["2013"]),
    ],
)
def test_window_labels(every: str, labels: list[str]) -> None:
    got = windows(
        Recurrence(every=every), D(2013, 10, 1), D(2013, 10, 13), cal, RollPolicy.PREVIOUS
    )
    assert [w.label for w in got] == labels


days = st.dates(min_value=pendulum.Date(2012, 1, 1), max_value=pendulum.Date(2014, 12, 31))


@given(
    a=days,
    b=days,
    probe=days,
    every=st.sampled_from(["week", "month", "two-months", "quarter", "half-year", "year"]),
)
def test_windows_tile_the_span_and_are_due_on_working_days_inside_or_after_them(
    a: dt.date, b: dt.date, probe: dt.date, every: str
) -> None:
    start, end = sorted([D(a.year, a.month, a.day), D(b.year, b.month, b.day)])
    got = windows(Recurrence(every=every), start, end, cal, RollPolicy.PREVIOUS)
    # evidence dated on any day counts for exactly one window inside the span, none outside
    day = D(probe.year, probe.month, probe.day)
    holding = [w for w in got if w.starts <= day <= w.ends]
    assert len(holding) == (1 if start <= day <= end else 0)
    assert got[0].starts == start and got[-1].ends == end
    for before, after in itertools.pairwise(got):
        assert after.starts == before.ends.add(days=1)
    for w in got:
        assert w.starts <= w.ends
        assert cal.is_working_day(w.due)
        assert w.due >= w.starts
    assert len({w.label for w in got}) == len(got)


@pytest.mark.parametrize(
    ("every", "expected"),
    [
        # 2013: Spring Festival on 02-10, the holiday from 02-09; 2014: on 01-31, and 01-30
        # (除夕) was a working day that year
        (
            "spring-festival",
            {"2013-spring-festival": D(2013, 2, 8), "2014-spring-festival": D(2014, 1, 30)},
        ),
        # 七一 2013 is a Monday: the Friday before; 2014 a Tuesday: the Monday before
        ("july-first", {"2013-july-first": D(2013, 6, 28), "2014-july-first": D(2014, 6, 30)}),
        (
            "national-day",
            {"2013-national-day": D(2013, 9, 30), "2014-national-day": D(2014, 9, 30)},
        ),
    ],
)
def test_festival_windows_in_2013_and_2014(every: str, expected: dict[str, pendulum.Date]) -> None:
    got = windows(Recurrence(every=every), D(2013, 1, 1), D(2014, 12, 31), cal, RollPolicy.PREVIOUS)
    assert {w.label: w.due for w in got} == expected
    for w in got:
        assert w.ends == w.due and w.starts == w.due.subtract(months=1)
        assert cal.is_working_day(w.due)


def test_a_festival_outside_the_span_has_no_window() -> None:
    got = windows(
        Recurrence(every="spring-festival"), D(2013, 3, 1), D(2014, 1, 29), cal, RollPolicy.PREVIOUS
    )
    assert got == []  # 2013's deadline is before the span, 2014's (01-30) after it


def test_a_rectification_is_due_its_days_after_the_failed_check_in_calendar_days() -> None:
    from models.domain.planning import rectification_due

    # calendar days, not working days: 2013-10-20 is a Sunday
    assert rectification_due(dt.date(2013, 9, 20), 30) == pendulum.Date(2013, 10, 20)
    assert rectification_due(dt.datetime(2013, 12, 31, 23, 0), 1) == pendulum.Date(2014, 1, 1)


def test_a_day_counts_for_a_recurring_item_only_inside_its_window() -> None:
    opens, closes = dt.date(2026, 12, 7), dt.date(2026, 12, 13)
    assert in_window(opens, opens, closes) and in_window(closes, opens, closes)
    assert not in_window(dt.date(2026, 12, 6), opens, closes)
    assert not in_window(dt.date(2026, 12, 14), opens, closes)
    assert in_window(dt.date(2013, 1, 1), None, None)  # a one-off item: any day
    # the week to come is not reportable yet; this week's is from its first day
    assert not_open_yet(dt.date(2026, 12, 14), dt.date(2026, 12, 13))
    assert not not_open_yet(opens, opens) and not not_open_yet(None, opens)


def test_a_list_shows_the_items_whose_window_has_begun_and_counts_the_rest() -> None:
    class Row(NamedTuple):
        name: str
        opens_on: dt.date | None

    rows = [
        Row("this week", dt.date(2026, 12, 7)),
        Row("one-off", None),
        Row("next week", dt.date(2026, 12, 14)),
        Row("the week after", dt.date(2026, 12, 21)),
    ]
    listed = begun(rows, dt.date(2026, 12, 8))
    assert [r.name for r in listed.now] == ["this week", "one-off"]
    assert listed.ahead == [dt.date(2026, 12, 14), dt.date(2026, 12, 21)]


def test_a_gate_is_judged_by_the_waves_before_it() -> None:
    staged = spec(**WAVES)
    assert [w.key for w in waves_before(staged, "g")] == ["pilot"]
    assert waves_before(spec(), "g") == []  # no waves: nothing but the gate's own words


def test_a_unit_named_by_code_is_checked_against_the_organization() -> None:
    campaign = spec()
    data = campaign.model_dump(mode="json")
    data["phases"][0]["obligations"][0]["subject"]["units"]["codes"] = ["t1-a", "t1", "gone", "x"]
    named = CampaignSpec.model_validate(data)
    assert named_unit_codes(named) == {"t1-a", "t1", "gone", "x"}
    known = {
        "t1-a": NamedUnit("village", False),
        "t1": NamedUnit("town", False),
        "gone": NamedUnit("village", True),
    }
    errors, warnings = named_unit_problems(named, known)
    at = ("phases", 0, "obligations", 0, "subject", "units", "codes")
    assert errors == [
        ((*at, 1), "单位 t1 的类型是 town，不在 kinds（village）之中：不会向它下发"),
        ((*at, 3), "组织 weihai-etdz 中没有单位 x"),
    ]
    assert warnings == [((*at, 2), "单位 gone 已撤销：不会向它下发事项")]
