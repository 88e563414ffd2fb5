"""The rehearsal's day plan: drawn from the seed and each item's key, so a rehearsal split
into segments does on each day what one run over the whole span does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pendulum

from models.domain.campaign import LoadedCampaign
from models.domain.planning import RolloutPlanner
from models.domain.simulation import DayPlan, plan_days
from models.domain.vocabulary import ItemKey, ItemStatus
from models.domain.working_days import WorkCalendar
from tests.unit.test_planning import DATES, small_org, spec

D = pendulum.Date


@dataclass
class Owed:  # as a stored item is: settable
    id: int | None
    status: str
    due: dt.date
    opens_on: dt.date | None
    closes_on: dt.date | None
    key: ItemKey


def setting(status: str = ItemStatus.OPEN) -> tuple[LoadedCampaign, list[Owed]]:
    campaign = spec()
    planner = RolloutPlanner(campaign, DATES, small_org(), WorkCalendar())
    items = [
        Owed(
            n,
            status,
            i.due,
            i.opens,
            i.closes,
            ItemKey(i.phase_key, i.obligation_key, i.subject.type, i.subject.id, i.occurrence),
        )
        for n, i in enumerate((i for t in planner.towns() for i in planner.items(t)), 1)
    ]
    return LoadedCampaign(campaign, Path("t.yaml"), "", "", DATES), items


def days_of(plan: DayPlan) -> dict[dt.date, tuple[list[int], list[int]]]:
    return {
        day: (sorted(i for i, _ in plan.submissions.get(day, [])), sorted(plan.signs.get(day, [])))
        for day in plan.days()
    }


def test_two_segments_plan_what_one_run_over_the_span_plans() -> None:
    loaded, items = setting()

    def plan(start: dt.date, end: dt.date, seed: int = 2013) -> DayPlan:
        return plan_days(
            loaded,
            small_org(),
            WorkCalendar(),
            items=items,
            submitted_on={},
            seed=seed,
            start=start,
            end=end,
        )

    whole = days_of(plan(D(2013, 9, 2), D(2013, 12, 31)))
    halves = days_of(plan(D(2013, 9, 2), D(2013, 10, 31))) | days_of(
        plan(D(2013, 11, 1), D(2013, 12, 31))
    )
    assert whole == halves
    submitted = {i for subs, _ in whole.values() for i in subs}
    assert 0 < len(submitted) <= len(items)  # most do it, some never (the model's shares)
    assert all(D(2013, 9, 2) <= day <= D(2013, 12, 31) for day in whole)
    assert days_of(plan(D(2013, 9, 2), D(2013, 12, 31), seed=7)) != whole


def test_an_item_awaiting_a_signature_is_only_signed_after_its_submission() -> None:
    loaded, items = setting(ItemStatus.SUBMITTED)
    dated = {n: item.due for n, item in enumerate(items, 1)}
    plan = plan_days(
        loaded,
        small_org(),
        WorkCalendar(),
        items=items,
        submitted_on=dated,
        seed=2013,
        start=D(2013, 9, 2),
        end=D(2014, 3, 31),
    )
    assert not plan.submissions
    signed = {i: day for day, ids in plan.signs.items() for i in ids}
    assert set(signed) == set(dated)
    assert all(signed[i] > dated[i] for i in signed)
