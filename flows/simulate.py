"""Flow: rehearse a campaign over a span of days on a simulated clock.

It calls the same flows a real year would (rollout, open and close each phase) with `today`
set, and records evidence from a seeded model of unit behaviour (most on time, some late, a
few never), answering each gate as the leading group would once its pilot phases are over,
and sweeping reminders every working morning as the daily schedule would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from prefect import flow, get_run_logger

from flows.phase import close_campaign_phase, open_campaign_phase
from flows.rollout import rollout_campaign
from flows.run_tags import tag_current_run
from models.domain.working_days import to_date
from tasks.burden_tasks import publish_town_load
from tasks.context import task_context
from tasks.gate_tasks import answer_gate_task, first_approver, gate_answers
from tasks.progress_tasks import publish_progress
from tasks.simulation_tasks import begin_rehearsal, plan_behaviour, simulate_days

GATE_NOTES = "（模拟）试点经验已全面总结，同意逐村居按程序推进。"


@flow(name="simulate-campaign", flow_run_name="{campaign} · 模拟 · {start}→{end}")
def simulate_campaign(
    campaign: str,
    start: dt.date,
    end: dt.date,
    seed: int = 2013,
    evidence: bool = True,
    answer_gates: bool = True,
    reminders: bool = True,
) -> dict[str, Any]:
    """Run the campaign from `start` to `end` (inclusive); returns each closed phase's
    numbers and the progress at the end."""
    logger = get_run_logger()
    loaded = task_context().campaign(campaign)
    spec = loaded.spec
    tag_current_run([f"campaign:{spec.key}", "simulation"])
    begin_rehearsal(spec.key)
    rollout_campaign(campaign, as_of=start)  # a file from anywhere: nothing is stored yet
    town_load = publish_town_load(spec.key, start, end)
    plan = plan_behaviour(spec.key, start, end, seed) if evidence else None
    closed: list[dict[str, Any]] = []
    answered = gate_answers(spec.key)
    day = to_date(start)
    last = to_date(end)
    # a span ends the day before a phase opens, or on the day one closes
    boundaries = sorted(
        {d.starts.subtract(days=1) for d in loaded.phase_dates.values()}
        | {d.ends for d in loaded.phase_dates.values()}
    )
    while day <= last:
        for phase in spec.phases:
            if loaded.phase_dates[phase.key].starts == day and day != start:
                open_campaign_phase(spec.key, phase.key, day)
        # the days up to the next phase boundary (or a gate's day) are lived in one task run
        span_end = min([b for b in boundaries if b >= day] + [last])
        simulate_days(spec.key, day, span_end, plan, reminders, seed)
        day = span_end
        for phase in spec.phases:
            if loaded.phase_dates[phase.key].ends == day:
                summary = close_campaign_phase(spec.key, phase.key, day)
                closed.append({**summary, "on": day.isoformat()})
                logger.info(
                    "phase %s closed: %s/%s accepted",
                    phase.key,
                    summary["accepted"],
                    summary["items"],
                )
        if answer_gates and _answer_due_gates(spec, loaded.phase_dates, day, answered):
            rollout_campaign(spec.key, as_of=day)
            if evidence:
                plan = plan_behaviour(spec.key, day.add(days=1), end, seed)
        day = day.add(days=1)
    progress = publish_progress(spec.key, end)
    return {"campaign": spec.key, "closed": closed, "progress": progress, "town_load": town_load}


def _answer_due_gates(spec: Any, dates: Any, day: pendulum.Date, answered: dict[str, bool]) -> bool:
    """Approve a gate on the last day of the phases of the waves before it, as its first
    approver would. Returns whether any gate was answered."""
    any_answered = False
    earlier: list[str] = []
    for wave in spec.waves:
        gate = wave.after_gate
        if gate and gate not in answered and earlier and max(dates[p].ends for p in earlier) == day:
            approver = first_approver(spec, gate)
            answer_gate_task(spec.key, gate, approver, True, GATE_NOTES)
            answered[gate] = True
            any_answered = True
        earlier += wave.phases
    return any_answered
