"""The audit trail: every state change appends an event in the same transaction.

Events form a hash chain (each hash covers the previous one), so an edited, inserted or
deleted event shows when the chain is verified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import insert, select, text
from sqlmodel import Session

from models.tables import AuditEvent

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 7_202_614


def event_hash(
    prev_hash: str,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    payload: dict[str, Any],
) -> str:
    body = json.dumps(
        [prev_hash, at.astimezone(dt.UTC).isoformat(), actor, action, entity, entity_key, payload],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    payload: dict[str, Any],
    now: dt.datetime,
) -> str:
    """Append one event after the last; concurrent writers queue on a lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    last = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev = last or GENESIS
    digest = event_hash(prev, now, actor, action, entity, entity_key, payload)
    session.execute(
        insert(AuditEvent),
        [
            {
                "at": now,
                "actor": actor,
                "action": action,
                "entity": entity,
                "entity_key": entity_key,
                "payload": payload,
                "prev_hash": prev,
                "hash": digest,
            }
        ],
    )
    return digest


def verify(session: Session) -> tuple[int, str | None]:
    """(events checked, None) when the chain holds, else the first broken event described."""
    prev = GENESIS
    count = 0
    for event in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        expected = event_hash(
            prev, event.at, event.actor, event.action, event.entity, event.entity_key, event.payload
        )
        if event.prev_hash != prev:
            return (
                count,
                f"event {event.id}: does not follow the event before it (one was "
                "inserted or deleted)",
            )
        if event.hash != expected:
            return count, f"event {event.id}: its content was edited"
        prev = event.hash
        count += 1
    return count, None
