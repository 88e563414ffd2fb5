"""Answering a gate outside a waiting run: the CLI and rehearsals."""

from __future__ import annotations

import os

from prefect import task
from prefect.cache_policies import NO_CACHE

from models.domain.campaign import CampaignSpec
from models.domain.permissions import approvers_of
from models.errors import NotFound
from models.store.gates import gate_of, latest_decisions, record_decision
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.rollout import campaign_id
from tasks.context import task_context


def answer_gate(
    campaign: str,
    gate_key: str,
    reviewer: str,
    approved: bool,
    notes: str,
    flow_run_id: str | None = None,
) -> None:
    """Record a reviewer's answer; PermissionRefused when their role may not answer."""
    ctx = task_context()
    loaded = ctx.campaign(campaign)
    gate = gate_of(loaded.spec, gate_key)
    with ctx.session() as session:
        org = load_snapshot(session, loaded.spec.organization)
        person = org.person_coded(reviewer)
        record_decision(
            session,
            campaign=campaign_id(session, loaded.spec.key),
            gate=gate,
            person=person,
            approved=approved,
            notes=notes,
            now=utc_now(),
            flow_run_id=flow_run_id,
        )


@task(name="answer-gate", cache_policy=NO_CACHE)
def answer_gate_task(
    campaign: str, gate_key: str, reviewer: str, approved: bool, notes: str
) -> None:
    answer_gate(campaign, gate_key, reviewer, approved, notes)


@task(name="read-gate-answers", cache_policy=NO_CACHE)
def gate_answers(campaign: str) -> dict[str, bool]:
    with task_context().session() as session:
        return {
            k: d.approved
            for k, d in latest_decisions(session, campaign_id(session, campaign)).items()
        }


def first_approver(spec: CampaignSpec, gate_key: str) -> str:
    """The code of the first person (by code) who may answer the gate: the rehearsal's."""
    gate = gate_of(spec, gate_key)
    with task_context().session() as session:
        org = load_snapshot(session, spec.organization)
    holders = approvers_of(org, gate)
    if not holders:
        raise NotFound(f"没有人担任可审批闸门 {gate_key} 的角色")
    return holders[0].code


def resume_waiting_run(campaign: str, gate: str, approved: bool, reviewer: str, notes: str) -> bool:
    """Resume a rollout paused at this gate, if a Prefect server has one waiting."""
    if not os.environ.get("PREFECT_API_URL"):
        return False  # no server: no run can be waiting in another process
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[f"campaign:{campaign}"]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
            )
        )
        for run in runs:
            result = client.resume_flow_run(
                run.id, run_input={"approved": approved, "reviewer": reviewer, "notes": notes}
            )
            if result.status.value == "ACCEPT":
                return True
    return False
