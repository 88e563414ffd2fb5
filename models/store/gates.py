"""Gate decisions: who may answer a gate, and what the latest answer is."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select
from sqlmodel import Session, col

from models.domain.campaign import CampaignSpec, Gate
from models.domain.org_snapshot import PersonInfo
from models.domain.permissions import check_approver
from models.domain.text_safety import written
from models.errors import CampaignError, NotFound
from models.store import audit
from models.store.tables import GateDecision, Person


def gate_of(spec: CampaignSpec, key: str) -> Gate:
    for gate in spec.gates:
        if gate.key == key:
            return gate
    known = "、".join(g.key for g in spec.gates) or "无"
    raise NotFound(f"活动 {spec.key} 没有闸门 {key}（闸门：{known}）")


def latest_decisions(session: Session, campaign: int) -> dict[str, GateDecision]:
    rows = (
        session.execute(
            select(GateDecision)
            .where(col(GateDecision.campaign_id) == campaign)
            .order_by(col(GateDecision.id))
        )
        .scalars()
        .all()
    )
    return {row.gate_key: row for row in rows}


def approved_gates(session: Session, campaign: int) -> set[str]:
    return {k for k, d in latest_decisions(session, campaign).items() if d.approved}


def record_decision(
    session: Session,
    *,
    campaign: int,
    gate: Gate,
    person: PersonInfo,
    approved: bool,
    notes: str,
    now: dt.datetime,
    flow_run_id: str | None = None,
) -> None:
    check_approver(gate, person)
    notes = written(notes) or ""
    if not approved and not notes:  # the door and the command line say so first
        raise CampaignError("退回须说明理由")
    session.execute(
        insert(GateDecision),
        [
            {
                "campaign_id": campaign,
                "gate_key": gate.key,
                "approved": approved,
                "reviewer_id": person.id,
                "notes": notes,
                "decided_at": now,
                "flow_run_id": flow_run_id,
            }
        ],
    )
    audit.append(
        session,
        actor=person.code,
        action="gate.approved" if approved else "gate.rejected",
        entity="gate",
        entity_key=f"{campaign}:{gate.key}",
        payload={"notes": notes, "flow_run_id": flow_run_id},
        now=now,
    )


def reviewer_name(session: Session, decision: GateDecision) -> str:
    return session.execute(
        select(col(Person.name)).where(col(Person.id) == decision.reviewer_id)
    ).scalar_one()
