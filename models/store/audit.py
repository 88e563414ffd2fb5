"""The audit trail: every state change appends an event in the same transaction.

Events form a hash chain (each hash covers the previous one), so an edited, inserted or
deleted event shows when the chain is verified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, text, update
from sqlmodel import Session, col

from models.domain.vocabulary import EvidenceKind, ItemStatus
from models.domain.wording import STATUS_ZH
from models.store.db import execute_plain
from models.store.tables import AuditEvent, AuditHead, Campaign, ChecklistItem, columns, core

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 7_202_614
# the operator entering records on someone else's behalf, for what this context appends
_ENTERED_BY: ContextVar[str | None] = ContextVar("entered_by", default=None)
# the door an action came through: "web", or "cli:LOGIN" (the OS user who ran the command)
_VIA: ContextVar[str | None] = ContextVar("via", default=None)


@contextmanager
def through(via: str) -> Iterator[None]:
    """Events appended inside say which door they came through (`via`)."""
    token = _VIA.set(via)
    try:
        yield
    finally:
        _VIA.reset(token)


@contextmanager
def entered_by(login: str | None) -> Iterator[None]:
    """Events appended inside say who typed them in (`entered_by`), when that is not the
    person they are of: the department's staff entering a paper record."""
    token = _ENTERED_BY.set(login)
    try:
        yield
    finally:
        _ENTERED_BY.reset(token)


# How an event's hash is made: 1 (events written before 0006) covers its content and the
# hash before it; 2 also covers its own id, so that renumbering events breaks the chain.
SCHEME = 2


def event_hash(
    prev_hash: str,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    payload: dict[str, Any],
    event_id: int | None = None,
) -> str:
    """The event's hash; with `event_id` (scheme 2) the id is covered too."""
    content: list[Any] = [
        prev_hash, at.astimezone(dt.UTC).isoformat(), actor, action, entity, entity_key, payload
    ]  # fmt: skip
    body = json.dumps(
        content if event_id is None else [event_id, *content],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


# Built once: an event is appended on every web sign-in and report, and building a statement
# costs more than running it.
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
# On the tables, not the mapped classes: the ORM's bulk paths cost more than the writes.
_EVENTS, _HEADS = core(AuditEvent), core(AuditHead)
# FOR UPDATE: a writer that found no head to lock may meet one committed meanwhile
# (rendered on PostgreSQL only; SQLite has one writer)
_HEAD = (
    select(_HEADS.c.last_id, _HEADS.c.last_hash, _HEADS.c.events)
    .where(_HEADS.c.id == 1)
    .with_for_update()
)
_APPENDED = ("at", "actor", "action", "entity", "entity_key", "payload", "hash", "scheme")
_PG_INSERT_AFTER_HEAD = (
    insert(_EVENTS)
    .from_select(
        [*_APPENDED, "prev_hash"],
        select(
            *(bindparam(name, type_=_EVENTS.c[name].type) for name in _APPENDED),
            _HEADS.c.last_hash,
        )
        .where(_HEADS.c.id == 1)
        .with_for_update(),
    )
    .returning(_EVENTS.c.id, _EVENTS.c.prev_hash)
)
_PG_HASH_AND_MOVE_HEAD = text(
    "WITH hashed AS (UPDATE audit_event SET hash = :digest WHERE id = :event) "
    "UPDATE audit_head SET last_id = :event, last_hash = :digest, events = events + 1 "
    "WHERE id = 1"
)
_INSERT = insert(_EVENTS).returning(_EVENTS.c.id)
_SET_HASH = (
    update(_EVENTS).where(_EVENTS.c.id == bindparam("event")).values(hash=bindparam("digest"))
)
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.id == 1)
    .values(last_id=bindparam("last"), last_hash=bindparam("digest"), events=_HEADS.c.events + 1)
)


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
    if (typist := _ENTERED_BY.get()) is not None:
        payload = {**payload, "entered_by": typist}
    if (via := _VIA.get()) is not None:
        payload = {**payload, "via": via}
    values = {
        "at": now,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_key": entity_key,
        "payload": payload,
        "hash": "",
        "scheme": SCHEME,
    }
    postgresql = session.get_bind().dialect.name == "postgresql"
    run = partial(execute_plain, session)
    if postgresql:
        # Writers queue on the head's row lock, held until their commit: two statements
        # under it, not five. The insert reads the head and locks it (after waiting, it
        # reads the head the writer before it left), and its id is drawn under the lock,
        # so ids follow the chain.
        appended = run(_PG_INSERT_AFTER_HEAD, values).one_or_none()
        if appended is not None:
            digest = event_hash(
                appended.prev_hash, now, actor, action, entity, entity_key, payload, appended.id
            )
            run(_PG_HASH_AND_MOVE_HEAD, {"event": appended.id, "digest": digest})
            return digest
        # the chain's first event: no head yet to lock; first appenders queue here
        run(_PG_LOCK, {"k": _PG_AUDIT_LOCK})
    head = run(_HEAD).one_or_none()
    prev = head.last_hash if head else GENESIS
    # the id is the database's (a sequence may skip): the row first, then its hash
    event_id = run(_INSERT, {**values, "prev_hash": prev}).scalar_one()
    digest = event_hash(prev, now, actor, action, entity, entity_key, payload, event_id)
    run(_SET_HASH, {"event": event_id, "digest": digest})
    if head is None:
        run(insert(_HEADS).values(id=1, last_id=event_id, last_hash=digest, events=1))
    else:
        run(_MOVE_HEAD, {"last": event_id, "digest": digest})
    return digest


def verify(session: Session) -> tuple[int, str | None]:
    """(events checked, None) when the chain holds, else the first broken event described:
    edited (its hash does not match its content), inserted or deleted (it does not follow
    the event before it), or the chain's end removed or extended (it disagrees with the
    head written with every event)."""
    prev = GENESIS
    count = 0
    last_id: int | None = None
    rows = session.execute(select(AuditEvent).order_by(col(AuditEvent.id))).yield_per(5000)
    newest_scheme = 1
    for event in rows.scalars():
        scheme = event.scheme or 1
        if scheme < newest_scheme:  # an event made to look older, to leave its id out
            return count, f"第 {event.id} 条记录：内容被改过"
        newest_scheme = scheme
        expected = event_hash(
            prev, event.at, event.actor, event.action, event.entity, event.entity_key,
            event.payload, event.id if scheme >= 2 else None,
        )  # fmt: skip
        if event.prev_hash != prev:
            after = f"第 {last_id} 条" if last_id is not None else "链的开头"
            return (
                count,
                f"第 {event.id} 条记录：接不上{after}（其间有记录被删除，或这一条是插入的）",
            )
        if event.hash != expected:
            return count, f"第 {event.id} 条记录：内容被改过"
        prev, last_id = event.hash, event.id
        count += 1
    head = session.get(AuditHead, 1, populate_existing=True)
    if head is None:
        if count:
            return count, "链头记录不见了（被删除）"
        return 0, None
    if (head.last_id, head.last_hash, head.events) != (last_id, prev, count):
        if count < head.events:
            return count, (
                f"第 {head.last_id} 条记录不见了：链在 {count} 条记录后止于第 {last_id} 条，"
                f"链头记的是 {head.events} 条（最后的记录被删除）"
            )
        return count, (
            f"第 {last_id} 条记录：在链头所记的末条（第 {head.last_id} 条）之后（是插入的）"
        )
    return count, None


def chain_position(session: Session) -> tuple[int, int | None, str]:
    """(events, last id, last hash) of the chain as it is, walked: what an anchor records."""
    count, last_id, last_hash = 0, None, GENESIS
    for event_id, digest in session.execute(
        select(col(AuditEvent.id), col(AuditEvent.hash)).order_by(col(AuditEvent.id))
    ).yield_per(5000):
        count, last_id, last_hash = count + 1, event_id, digest
    return count, last_id, last_hash


def check_anchors(session: Session, anchors: list[Any]) -> str | None:
    """None when the chain still reaches every anchor (event `last_id` is the anchor's
    `events`-th, with its hash); else the first anchor it no longer reaches, described."""
    wanted = {a.last_id for a in anchors}
    found: dict[int, tuple[int, str]] = {}
    rows = session.execute(
        select(col(AuditEvent.id), col(AuditEvent.hash)).order_by(col(AuditEvent.id))
    ).yield_per(5000)
    for seen, (event_id, digest) in enumerate(rows, 1):
        if event_id in wanted:
            found[event_id] = (seen, digest)
    for anchor in anchors:
        position = found.get(anchor.last_id)
        if position is None:
            return f"第 {anchor.last_id} 条记录：{anchor.at} 锚定过，现在不见了"
        if position != (anchor.events, anchor.last_hash):
            return (
                f"第 {anchor.last_id} 条记录：与 {anchor.at} 的锚点不符（到它为止的链被重写过："
                "它或它之前的记录被修改、增加或删除）"
            )
    return None


class SubjectItem(NamedTuple):
    id: int
    obligation_key: str
    occurrence: str
    key: str  # the campaign's


def subject_items(
    session: Session, kind: str, subject_id: int, campaign: str | None = None
) -> dict[int, SubjectItem]:
    """A subject's checklist items (of one campaign, when given), by id."""
    query = (
        select(*columns(ChecklistItem, "id obligation_key occurrence"), col(Campaign.key))
        .join(Campaign, col(Campaign.id) == col(ChecklistItem.campaign_id))
        .where(col(ChecklistItem.subject_type) == kind, col(ChecklistItem.subject_id) == subject_id)
    )
    if campaign:
        query = query.where(col(Campaign.key) == campaign)
    return {row.id: SubjectItem._make(row) for row in session.execute(query)}


def subject_history(
    session: Session, item_ids: list[int], subject: tuple[str, int] | None = None
) -> list[AuditEvent]:
    """The events of the given checklist items, and the check results of the subject,
    oldest first."""
    keys = [str(i) for i in item_ids]
    events: list[AuditEvent] = []
    if subject is not None:
        events += session.execute(
            select(AuditEvent).where(
                col(AuditEvent.entity) == "check",
                col(AuditEvent.entity_key) == f"{subject[0]}:{subject[1]}",
            )
        ).scalars()
    for start in range(0, len(keys), 1000):
        events += session.execute(
            select(AuditEvent).where(
                col(AuditEvent.entity) == "item",
                col(AuditEvent.entity_key).in_(keys[start : start + 1000]),
            )
        ).scalars()
    return sorted(events, key=lambda e: e.id or 0)


# What an item's last evidence event says its status is.
_STATUS_OF_ACTION = {
    "evidence.submitted": ItemStatus.SUBMITTED,
    "evidence.accepted": ItemStatus.ACCEPTED,
    "evidence.rejected": ItemStatus.REJECTED,
    "evidence.counted": ItemStatus.OPEN,
}
_KIND_OF_ACTION = {"evidence.rejected": EvidenceKind.REJECTION}


def verify_data(session: Session) -> tuple[int, str | None]:
    """(items checked, None) when every evidence row and every item's status is what the
    audit events that made them say, else the first item that differs, described: counts
    raised in place, a row added or removed, an item set accepted by hand. Run after the
    chain holds (then the events themselves are the trail's)."""
    from models.store.tables import ChecklistItem, Evidence

    events: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for key, action, payload in session.execute(
        select(col(AuditEvent.entity_key), col(AuditEvent.action), col(AuditEvent.payload))
        .where(col(AuditEvent.entity) == "item", col(AuditEvent.action).startswith("evidence."))
        .order_by(col(AuditEvent.id))
    ).yield_per(5000):
        if key.isdigit():
            events.setdefault(int(key), []).append((action, payload))
    rows: dict[int, list[Any]] = {}
    for row in session.execute(
        select(
            *columns(Evidence, "item_id kind note counts files dated"),
        ).order_by(col(Evidence.id))
    ).yield_per(5000):
        rows.setdefault(row.item_id, []).append(row)
    for item_id in sorted(set(events) | set(rows)):
        said, held = events.get(item_id, []), rows.get(item_id, [])
        if len(said) != len(held):
            return item_id, (
                f"事项 {item_id}：有 {len(held)} 条办理记录，审计记录为 {len(said)} 条"
                "（有记录在系统之外被增删）"
            )
        for n, ((action, payload), row) in enumerate(zip(said, held, strict=True), 1):
            stored = (
                row.note,
                row.counts or {},
                [f.get("sha256") for f in row.files or []],
                row.dated.isoformat(),
            )
            recorded = (
                payload.get("note"),
                payload.get("counts") or {},
                list(payload.get("files") or []),
                payload.get("dated", stored[3]),  # events before the day was recorded
            )
            kind_ok = _KIND_OF_ACTION.get(action, row.kind) == row.kind
            if recorded != stored or not kind_ok:
                return item_id, (
                    f"事项 {item_id}：第 {n} 条办理记录与审计记录不符"
                    "（其说明、数量、附件或办理日期在系统之外被改过）"
                )
    statuses = {
        r.id: r.status
        for r in session.execute(
            select(col(ChecklistItem.id), col(ChecklistItem.status)).where(
                col(ChecklistItem.status).in_(
                    [ItemStatus.SUBMITTED, ItemStatus.ACCEPTED, ItemStatus.REJECTED]
                )
            )
        )
    }
    for item_id, status in sorted(statuses.items()):
        last = events.get(item_id)
        expected = _STATUS_OF_ACTION.get(last[-1][0]) if last else None
        if expected != status:
            return item_id, (
                f"事项 {item_id}：状态为{STATUS_ZH.get(status, status)}，但审计记录"
                + (
                    f"最后记的是{STATUS_ZH.get(expected, expected)}"
                    if expected
                    else "中没有它的办理记录"
                )
                + "（状态在系统之外被改过）"
            )
    return len(set(events) | set(statuses)), None
