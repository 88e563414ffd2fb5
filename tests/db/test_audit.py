"""The audit chain: any edited, inserted or deleted event is found and named."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import col

from models.store import audit, db
from models.store.tables import AuditEvent

T0 = dt.datetime(2013, 10, 8, 1, 0, tzinfo=dt.UTC)


def event(url: str, actor: str, action: str, key: str, payload: dict, now: dt.datetime) -> None:
    """One event appended in a transaction of its own."""
    entity = "person" if action.startswith("web.") else "item"
    with db.session_for(url) as session:
        audit.append(session, actor=actor, action=action, entity=entity, entity_key=key,
                     payload=payload, now=now)  # fmt: skip


def chain(url: str, n: int = 5) -> None:
    for k in range(n):
        payload = {"note": f"第{k + 1}次", "counts": {"talks": k}}
        event(url, f"p{k}", "evidence.accepted", str(100 + k), payload, T0 + dt.timedelta(hours=k))


def check(url: str) -> tuple[int, str | None]:
    with db.session_for(url) as session:
        return audit.verify(session)


def sql(url: str, statement: str, **params: object) -> None:
    with db.get_engine(url).begin() as conn:
        conn.execute(text(statement), params)


@pytest.mark.parametrize("before", [1, 0], ids=["after-a-first-event", "from-no-head"])
def test_writers_appending_at_once_make_one_unbroken_chain(db_url: str, before: int) -> None:
    """Eight threads, each appending ten events in transactions of their own, all started
    together: the lock keeps the chain whole (what a morning of sign-ins and reports does
    across the web door's workers). After a first event, every writer queues on the head's
    row; from an empty chain, the first ones find no head to lock and queue apart, and must
    not fork the chain with those that find the head one of them wrote."""
    chain(db_url, before)
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def writer(w: int) -> None:
        start.wait()
        try:
            for k in range(10):
                when = T0 + dt.timedelta(minutes=w * 10 + k)
                event(db_url, f"w{w}", "web.signed-in", f"w{w}-{k}", {"client": "127.0.0.1"}, when)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert check(db_url) == (80 + before, None)


def test_an_untouched_chain_verifies(db_url: str) -> None:
    chain(db_url)
    assert check(db_url) == (5, None)


def test_an_event_hashes_the_same_after_its_round_trip_through_the_database(
    db_url: str,
) -> None:
    """What the verifier reads back (text that JSON escapes, characters beyond ASCII, nested
    keys out of order, numbers, an instant with microseconds) hashes as it did when it was
    appended."""
    chain(db_url, 1)
    payload = {
        "note": '走访"王某"家\n反映：路灯\\水管\t已修',
        "z": {"b": [1, 2.5, None, True], "a": "😀"},
    }
    when = T0 + dt.timedelta(microseconds=123_456)
    with db.session_for(db_url) as session:
        digest = audit.append(session, actor="村书记", action="evidence.submitted",
                              entity="item", entity_key="7", payload=payload, now=when)  # fmt: skip
    with db.session_for(db_url) as session:
        stored = session.execute(
            select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(1)
        ).scalar_one()
        expected = audit.event_hash(
            stored.prev_hash, when, "村书记", "evidence.submitted", "item", "7", payload, stored.id
        )
    assert stored.hash == digest == expected
    assert check(db_url) == (2, None)


EDITS = {
    "actor": "UPDATE audit_event SET actor = 'someone-else' WHERE id = :id",
    "action": "UPDATE audit_event SET action = 'evidence.rejected' WHERE id = :id",
    "entity_key": "UPDATE audit_event SET entity_key = '999' WHERE id = :id",
    "payload": 'UPDATE audit_event SET payload = \'{"note": "改过"}\' WHERE id = :id',
    "at": "UPDATE audit_event SET at = '2013-10-09 01:00:00+00:00' WHERE id = :id",
}


@pytest.mark.parametrize("event", [1, 3, 5])
@pytest.mark.parametrize("field", sorted(EDITS))
def test_an_edited_event_is_named(db_url: str, event: int, field: str) -> None:
    chain(db_url)
    sql(db_url, EDITS[field], id=event)
    assert check(db_url) == (event - 1, f"第 {event} 条记录：内容被改过")


@pytest.mark.parametrize(
    ("deleted", "intact", "message"),
    [
        # one in the middle: found at the next one
        (
            "id = 3",
            2,
            "第 4 条记录：接不上第 2 条（其间有记录被删除，或这一条是插入的）",
        ),
        # the last ones: found by the head
        (
            "id >= 4",
            3,
            "第 5 条记录不见了：链在 3 条记录后止于第 3 条，链头记的是 5 条（最后的记录被删除）",
        ),
    ],
)
def test_deleted_events_are_found(db_url: str, deleted: str, intact: int, message: str) -> None:
    chain(db_url)
    sql(db_url, f"DELETE FROM audit_event WHERE {deleted}")
    assert check(db_url) == (intact, message)


def test_an_event_inserted_in_the_middle_is_named(db_url: str) -> None:
    chain(db_url)
    # a forger who knows the algorithm re-hashes the event they put in place of event 3
    with db.session_for(db_url) as session:
        prev = session.execute(text("SELECT hash FROM audit_event WHERE id = 2")).scalar_one()
    forged_at = T0 + dt.timedelta(hours=2, minutes=30)
    payload = {"note": "补记"}
    digest = audit.event_hash(prev, forged_at, "x", "evidence.accepted", "item", "1", payload, 3)
    sql(db_url, "DELETE FROM audit_event WHERE id = 3")
    sql(
        db_url,
        "INSERT INTO audit_event (id, at, actor, action, entity, entity_key, payload, "
        "prev_hash, hash, scheme) VALUES (3, :at, 'x', 'evidence.accepted', 'item', '1', "
        '\'{"note": "补记"}\', :prev, :hash, 2)',
        at=forged_at,
        prev=prev,
        hash=digest,
    )
    assert check(db_url) == (
        3,
        "第 4 条记录：接不上第 3 条"  # event 4 holds the hash of the event 3 it followed
        "（其间有记录被删除，或这一条是插入的）",
    )


def test_an_event_appended_behind_the_heads_back_is_named(db_url: str) -> None:
    chain(db_url)
    with db.session_for(db_url) as session:
        prev = session.execute(text("SELECT hash FROM audit_event WHERE id = 5")).scalar_one()
    at = T0 + dt.timedelta(days=1)
    digest = audit.event_hash(prev, at, "x", "evidence.accepted", "item", "1", {}, 6)
    sql(
        db_url,
        "INSERT INTO audit_event (id, at, actor, action, entity, entity_key, payload, "
        "prev_hash, hash, scheme) VALUES (6, :at, 'x', 'evidence.accepted', 'item', '1', "
        "'{}', :prev, :hash, 2)",
        at=at,
        prev=prev,
        hash=digest,
    )
    appended = "第 6 条记录：在链头所记的末条（第 5 条）之后（是插入的）"
    assert check(db_url) == (6, appended)


def test_renumbered_events_are_caught_by_their_own_hash(db_url: str) -> None:
    """Each event's hash covers its id: moving the last event to another id (and the head
    with it) leaves a chain whose links still follow each other, but not its hashes."""
    chain(db_url)
    sql(db_url, "UPDATE audit_event SET id = 50 WHERE id = 5")
    sql(db_url, "UPDATE audit_head SET last_id = 50")
    assert check(db_url) == (4, "第 50 条记录：内容被改过")


def test_an_event_made_to_look_older_to_leave_its_id_out_is_caught(db_url: str) -> None:
    chain(db_url)
    with db.session_for(db_url) as session:
        row = session.execute(
            text("SELECT prev_hash, at, payload FROM audit_event WHERE id = 3")
        ).one()
    import json as _json

    payload = row.payload if isinstance(row.payload, dict) else _json.loads(row.payload)
    at = row.at if isinstance(row.at, dt.datetime) else dt.datetime.fromisoformat(row.at)
    old_style = audit.event_hash(
        row.prev_hash, at.replace(tzinfo=dt.UTC), "p2", "evidence.accepted", "item", "102",
        payload,
    )  # fmt: skip
    sql(db_url, "UPDATE audit_event SET scheme = NULL, hash = :h WHERE id = 3", h=old_style)
    assert check(db_url) == (2, "第 3 条记录：内容被改过")


def rechain(url: str) -> None:
    """What someone with write access to the database does after an edit: recompute every
    hash and the head, as the README says the chain alone cannot catch."""
    from sqlalchemy import select

    from models.store.tables import AuditEvent, AuditHead

    with db.session_for(url) as session:
        prev = audit.GENESIS
        events = session.execute(select(AuditEvent).order_by(col(AuditEvent.id))).scalars().all()
        for e in events:
            e.prev_hash = prev
            e.hash = prev = audit.event_hash(
                prev, e.at, e.actor, e.action, e.entity, e.entity_key, e.payload, e.id
            )
        head = session.get(AuditHead, 1)
        assert head is not None
        head.last_hash, head.last_id, head.events = prev, events[-1].id, len(events)


def test_a_rechained_table_is_caught_by_its_anchor(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings
    from models.store.audit_anchor import read_anchor_file, write_anchor

    anchors = tmp_path / "elsewhere" / "anchors.jsonl"  # outside CAMPAIGN_HOME
    monkeypatch.setenv("CAMPAIGN_AUDIT_KEY", "a key kept off the database server")
    get_settings.cache_clear()
    settings = get_settings()
    chain(db_url, 3)
    write_anchor(settings, anchors)
    chain(db_url, 2)
    write_anchor(settings, anchors)
    with db.session_for(db_url) as session:
        assert audit.check_anchors(session, read_anchor_file(anchors, settings)) is None
    sql(db_url, 'UPDATE audit_event SET payload = \'{"note": "改过"}\' WHERE id = 2')
    rechain(db_url)
    assert check(db_url) == (5, None)  # the chain alone holds again ...
    with db.session_for(db_url) as session:
        found = audit.check_anchors(session, read_anchor_file(anchors, settings))
    assert found is not None and found.startswith("第 3 条记录：与 ")


def test_a_forged_anchor_is_refused_by_its_signature(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings
    from models.errors import CampaignError
    from models.store.audit_anchor import read_anchor_file, write_anchor

    anchors = tmp_path / "anchors.jsonl"
    monkeypatch.setenv("CAMPAIGN_AUDIT_KEY", "k")
    get_settings.cache_clear()
    chain(db_url, 2)
    write_anchor(get_settings(), anchors)
    forged = anchors.read_text(encoding="utf-8").replace('"events": 2', '"events": 3')
    anchors.write_text(forged, encoding="utf-8")
    with pytest.raises(CampaignError, match=r"anchors\.jsonl:1: 锚点的签名不符"):
        read_anchor_file(anchors, get_settings())
    inside = get_settings().home / "anchors.jsonl"
    with pytest.raises(CampaignError, match="在 CAMPAIGN_HOME 之内"):
        write_anchor(get_settings(), inside)
