"""Inspections: when a campaign's checks fall and which subjects each one samples. Pure.

A check samples the subjects that had an item of the inspected obligation due by the end of
its window (a month, a quarter, or the whole phase), stratified by town, from a generator seeded
by the campaign file, so the same file and data always draw the same sample; a subject drawn
last time is not drawn again at once unless the campaign allows it (or its stratum has no one
else).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import pendulum

from models.domain.campaign import Inspection, LoadedCampaign, PhaseDates, Recurrence, Sample
from models.domain.planning import windows
from models.domain.seeded import rng_for
from models.domain.vocabulary import CheckResult
from models.domain.working_days import RollPolicy, WorkCalendar

RECHECK = "-recheck"
CADENCE_WINDOWS = {"monthly": "month", "quarterly": "quarter"}


@dataclass(frozen=True)
class CheckWindow:
    """One check: its label, the days whose items it looks at, the day it is made."""

    label: str
    starts: pendulum.Date
    ends: pendulum.Date
    on: pendulum.Date


@dataclass(frozen=True)
class CheckOutcome:
    """What recording one sampled subject's result led to."""

    result: CheckResult
    rectified: bool = False  # a passed re-check closed the earlier rectification
    rectify_by: dt.date | None = None  # a fail: the rectification's deadline


@dataclass(frozen=True)
class Candidate:
    subject_type: str
    subject_id: int
    town_id: int | None


def check_windows(
    inspection: Inspection, phase: PhaseDates, calendar: WorkCalendar
) -> list[CheckWindow]:
    """The checks of an inspection over the inspected obligation's phase."""
    if inspection.cadence in ("once", "phase-end"):
        on = calendar.roll(phase.ends, RollPolicy.PREVIOUS)
        return [CheckWindow(inspection.cadence, phase.starts, phase.ends, on)]
    every = Recurrence(every=CADENCE_WINDOWS[inspection.cadence])
    return [
        CheckWindow(w.label, w.starts, w.ends, w.due)
        for w in windows(every, phase.starts, phase.ends, calendar, RollPolicy.PREVIOUS)
    ]


def check_day(
    inspection: Inspection, label: str, phase: PhaseDates, calendar: WorkCalendar
) -> pendulum.Date | None:
    """The day a check (or the re-inspection of its failures, `label-recheck`) is made on
    and its sample drawn: no result of it can be dated before. None: no such check."""
    base = label.removesuffix(RECHECK)
    return next((w.on for w in check_windows(inspection, phase, calendar) if w.label == base), None)


def _sizes(sample: Sample, strata: dict[object, int]) -> dict[object, int]:
    """How many to draw from each stratum: a fraction of each (at least one from a stratum
    that has anyone), or a count shared in proportion by largest remainder."""
    if sample.fraction is not None:
        return {k: min(n, max(1, math.ceil(sample.fraction * n))) for k, n in strata.items() if n}
    total = sum(strata.values())
    want = min(sample.count or 0, total)
    exact = {k: want * n / total for k, n in strata.items()} if total else {}
    sizes = {k: int(v) for k, v in exact.items()}
    by_remainder = sorted(exact, key=lambda k: (-(exact[k] - sizes[k]), str(k)))
    for k in by_remainder[: want - sum(sizes.values())]:
        sizes[k] += 1
    return sizes


def draw(
    inspection: Inspection,
    label: str,
    population: Iterable[Candidate],
    previous: set[tuple[str, int]],
) -> list[Candidate]:
    """The sample of one check, in a stable order."""
    sample = inspection.sample
    strata: dict[object, list[Candidate]] = defaultdict(list)
    for c in sorted(set(population), key=lambda c: (c.subject_type, c.subject_id)):
        strata[c.town_id if sample.stratify == "town" else "all"].append(c)
    sizes = _sizes(sample, {k: len(v) for k, v in strata.items()})
    chosen: list[Candidate] = []
    for key in sorted(strata, key=str):
        members = strata[key]
        rng = rng_for(sample.seed, inspection.key, label, str(key))
        fresh = [c for c in members if (c.subject_type, c.subject_id) not in previous]
        if sample.repeat:
            fresh = members
        picked = rng.sample(fresh, min(sizes.get(key, 0), len(fresh)))
        short = sizes.get(key, 0) - len(picked)
        if short > 0:  # the stratum has too few new subjects: the rest come from last time's
            again = [c for c in members if c not in picked]
            picked += rng.sample(again, short)
        chosen += picked
    return sorted(chosen, key=lambda c: (c.subject_type, c.subject_id))


def previous_label(windows_: Sequence[CheckWindow], label: str) -> str | None:
    labels = [w.label for w in windows_]
    i = labels.index(label)
    return labels[i - 1] if i > 0 else None


def next_check(
    loaded: LoadedCampaign,
    calendar: WorkCalendar,
    day: dt.date,
    made: Collection[tuple[str, str]] = (),
) -> tuple[Inspection, CheckWindow] | None:
    """The first check of the campaign due after `day` and not made yet (`made`: inspection
    key and check label): what a planner asking for the checks too early should be told to
    wait for. None when there is none."""
    coming = [
        (window.on, inspection.key, inspection, window)
        for inspection in loaded.spec.inspections
        for window in check_windows(
            inspection, loaded.phase_dates[loaded.spec.inspected(inspection)[0].key], calendar
        )
        if window.on > day and (inspection.key, window.label) not in made
    ]
    if not coming:
        return None
    _, _, inspection, window = min(coming, key=lambda c: (c[0], c[1]))
    return inspection, window
