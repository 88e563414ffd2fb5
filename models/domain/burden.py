"""What the campaigns ask of each unit: items due, submissions, files, sign-offs and meetings
per unit and month; where two campaigns ask one unit for the same record in one window (one
submission would answer both: 最多报一次); and the warnings `campaign validate` gives where a
campaign asks what the 2024《整治形式主义为基层减负若干规定》and the 2026 国办函〔2026〕12号
restrict (photos every time, check-ins, rankings of persons).

Pure: campaigns, their phase dates, an organization snapshot and the calendar go in. An item
belongs to the unit that answers for it (a person's or a pairing cadre's unit), in the month
it is due; a recurring item asks `at_least` submissions, each with its files and sign-off.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from models.domain.campaign import CampaignSpec, Obligation, PhaseDates
from models.domain.door import asks_the_same
from models.domain.org_snapshot import OrgSnapshot
from models.domain.planning import RolloutPlanner
from models.domain.working_days import WorkCalendar

# A meeting is what the obligation's title says is convened (召开), held as a 会议 or a 会.
MEETING_WORDS = ("召开", "会议", "座谈会", "交流会", "生活会", "组织生活")
# What the rules restrict unless a campaign truly needs it: rankings and check-ins of persons.
RANKING_WORDS = ("排名", "排行", "积分", "评比排序")
CHECK_IN_WORDS = ("打卡", "签到", "定位", "在线时长")


def is_meeting(obligation: Obligation) -> bool:
    return any(word in obligation.title for word in MEETING_WORDS)


@dataclass
class Load:
    """What is asked in one cell of the table (a unit's month, a month, a unit)."""

    items: int = 0
    submissions: int = 0
    files: int = 0
    sign_offs: int = 0
    meetings: int = 0

    def add(self, other: Load) -> None:
        self.items += other.items
        self.submissions += other.submissions
        self.files += other.files
        self.sign_offs += other.sign_offs
        self.meetings += other.meetings


@dataclass(frozen=True)
class Repeat:
    """Two campaigns asking one kind of unit for the same record in the same windows."""

    first: tuple[str, str, str]  # campaign key, obligation key, title
    second: tuple[str, str, str]
    units: int  # how many units are asked twice
    times: int  # how many windows, over all those units, overlap: submissions one could save


@dataclass
class Burden:
    by_unit_month: dict[tuple[int, str], Load] = field(default_factory=dict)
    repeats: list[Repeat] = field(default_factory=list)

    def months(self) -> dict[str, Load]:
        out: dict[str, Load] = defaultdict(Load)
        for (_, month), load in self.by_unit_month.items():
            out[month].add(load)
        return dict(sorted(out.items()))

    def units(self) -> dict[int, Load]:
        out: dict[int, Load] = defaultdict(Load)
        for (unit, _), load in self.by_unit_month.items():
            out[unit].add(load)
        return dict(out)

    def heaviest_units(self, n: int = 10) -> list[tuple[int, Load]]:
        """Units asked most (submissions, then files): the department's own campaigns
        weighed, not persons ranked."""
        return sorted(
            self.units().items(), key=lambda kv: (-kv[1].submissions, -kv[1].files, kv[0])
        )[:n]

    def busiest_month(self, unit: int) -> tuple[str, Load] | None:
        mine = [(m, load) for (u, m), load in self.by_unit_month.items() if u == unit]
        return max(mine, key=lambda ml: (ml[1].submissions, ml[0])) if mine else None


def town_loads(burden: Burden, org: OrgSnapshot) -> list[tuple[str, str, Load]]:
    """(town, period, load): the units of each town together, the district's own (区直)
    apart; in period order, then town code."""
    out: dict[tuple[str, str, str], Load] = defaultdict(Load)
    for (unit_id, when), load in burden.by_unit_month.items():
        town_id = org.units[unit_id].town_id
        town = org.units[town_id] if town_id else None
        key = (when, town.code if town else "", town.name if town else "区直")
        out[key].add(load)
    return [(name, when, load) for (when, _, name), load in sorted(out.items())]


def _subtree(org: OrgSnapshot, top: int) -> set[int]:
    """The unit and every unit below it."""
    below: dict[int | None, list[int]] = defaultdict(list)
    for unit in org.units.values():
        below[unit.parent_id].append(unit.id)
    out: set[int] = set()
    todo = [top]
    while todo:
        unit_id = todo.pop()
        out.add(unit_id)
        todo += below[unit_id]
    return out


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def week_of(day: dt.date) -> str:
    """The ISO week, as 2013-W07, its Monday after it for a reader: 2013-W07（2月11日起）."""
    year, week, weekday = day.isocalendar()
    monday = day - dt.timedelta(days=weekday - 1)
    return f"{year}-W{week:02d}（{monday.month}月{monday.day}日起）"


def weigh(
    campaigns: Sequence[tuple[CampaignSpec, dict[str, PhaseDates]]],
    org: OrgSnapshot,
    calendar: WorkCalendar,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    under: int | None = None,
    period: Callable[[dt.date], str] = month_of,
) -> Burden:
    """The load of every unit (those under `under`, itself included) per period (month) of
    due date, for items due in [since, until]; and the repeated asks between campaigns."""
    burden = Burden()
    # (unit, campaign, obligation) → windows, for the repeats
    windows: dict[tuple[int, str, str], list[tuple[dt.date, dt.date]]] = defaultdict(list)
    asks: dict[tuple[str, str], Obligation] = {}
    inside = _subtree(org, under) if under is not None else None
    for spec, dates in campaigns:
        obligations = spec.obligations_by_key()
        planner = RolloutPlanner(spec, dates, org, calendar)
        for town in planner.towns():
            for item in planner.items(town):
                due = item.due  # a pendulum.Date is a date
                if (since and due < since) or (until and due > until):
                    continue
                unit = item.subject.unit_id
                if inside is not None and unit not in inside:
                    continue
                ob = obligations[item.obligation_key]
                times = ob.submissions_needed
                load = burden.by_unit_month.setdefault((unit, period(due)), Load())
                load.add(
                    Load(
                        items=1,
                        submissions=times,
                        files=times * ob.evidence.files,
                        sign_offs=times if ob.evidence.sign_off else 0,
                        meetings=times if is_meeting(ob) else 0,
                    )
                )
                opens = item.opens or dates[item.phase_key].starts
                windows[(unit, spec.key, ob.key)].append((opens, due))
                asks[(spec.key, ob.key)] = ob
    burden.repeats = _repeats(windows, asks)
    return burden


def _asks_a_record(ob: Obligation) -> bool:
    return ob.evidence.files > 0 or bool(ob.evidence.counts)


def _repeats(
    windows: dict[tuple[int, str, str], list[tuple[dt.date, dt.date]]],
    asks: dict[tuple[str, str], Obligation],
) -> list[Repeat]:
    pairs = [
        (a, b)
        for a in sorted(asks)
        for b in sorted(asks)
        if a[0] < b[0]
        and _asks_a_record(asks[a])
        and asks_the_same(asks[a].evidence, asks[b].evidence)
    ]
    by_unit: dict[int, dict[tuple[str, str], list[tuple[dt.date, dt.date]]]] = defaultdict(dict)
    for (unit, campaign, obligation), spans in windows.items():
        by_unit[unit][(campaign, obligation)] = sorted(spans)
    out = []
    for a, b in pairs:
        units = times = 0
        for mine in by_unit.values():
            if a not in mine or b not in mine:
                continue
            overlapping = sum(
                1 for s1, e1 in mine[a] if any(s1 <= e2 and s2 <= e1 for s2, e2 in mine[b])
            )
            if overlapping:
                units += 1
                times += overlapping
        if units:
            out.append(Repeat((*a, asks[a].title), (*b, asks[b].title), units=units, times=times))
    return sorted(out, key=lambda r: -r.times)


def restraint_warnings(spec: CampaignSpec) -> list[tuple[tuple[str | int, ...], str]]:
    """Where a campaign asks what the rules restrict: files on every occurrence of a
    recurring item with no word of why (its detail), a weekly item asking files (photos
    weekly is the check-in the rules forbid), rankings and check-ins of persons. Warnings,
    never errors: a campaign may truly need one, and says why in the obligation's detail."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for p, phase in enumerate(spec.phases):
        for o, ob in enumerate(phase.obligations):
            loc = ("phases", p, "obligations", o)
            r = ob.recurrence
            if r is not None and ob.evidence.files > 0 and not (ob.detail or "").strip():
                out.append(
                    (
                        (*loc, "evidence", "files"),
                        f"每次都要{ob.evidence.files}个附件（照片）却没有说明为何需要："
                        "减负规定限制反复索要照片留痕；确需时在 detail 中写明理由，"
                        "或改为由签字确认",
                    )
                )
            words = [w for w in CHECK_IN_WORDS if w in ob.title]
            if words:
                out.append(((*loc, "title"), f"要求{'、'.join(words)}：规定禁止打卡、签到类要求"))
            texts: Iterable[tuple[tuple[str | int, ...], str]] = [((*loc, "title"), ob.title)] + [
                ((*loc, "evidence", "counts", c, "name"), count.name)
                for c, count in enumerate(ob.evidence.counts)
            ]
            for where, text in texts:
                ranked = [w for w in RANKING_WORDS if w in text]
                if ranked:
                    out.append((where, f"“{text}”含{'、'.join(ranked)}：规定禁止对人员积分排名"))
    for t, target in enumerate(spec.targets):
        ranked = [w for w in RANKING_WORDS if w in target.name]
        if ranked:
            out.append(
                (
                    ("targets", t, "name"),
                    f"目标“{target.name}”含{'、'.join(ranked)}：规定禁止对人员积分排名",
                )
            )
    return out
