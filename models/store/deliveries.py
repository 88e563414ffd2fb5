"""What a sweep's deliveries did, recorded in one transaction per chunk of digests: the
reminders sent (with their digest's key), those that failed (tried again later, or dead),
the channels that took each (for a person with several), and one audit event."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlmodel import Session

from models.domain.digest import Delivery, channel_key
from models.domain.reminder_planning import is_escalation
from models.store import audit
from models.store.reminders import (
    Claimed,
    record_channels,
    record_failed,
    record_sent,
)


class Delivered(NamedTuple):
    """One person's digest, delivered: the reminders it carried, its key, and what each
    channel it went to gave."""

    group: Sequence[Claimed]
    key: str
    outcomes: Sequence[tuple[str, Delivery]]  # (channel URL, what it gave)
    several: bool  # the person has several channels: which took it is kept


@dataclass
class Recorded:
    """What recording a sweep's chunks counted, and the items whose escalations went out."""

    counts: Counter[str] = field(default_factory=Counter)
    escalated: list[int] = field(default_factory=list)


def record_deliveries(
    session: Session,
    delivered: Sequence[Delivered],
    *,
    into: Recorded,
    now: dt.datetime,
    worker: str,
    base_seconds: float,
) -> None:
    """Record a chunk: a digest every channel took is sent; one a channel refused goes back
    to be tried again (on the channels that did not take it) or, when no retry can help,
    dead."""
    counts = into.counts
    sent: list[tuple[int, str]] = []
    failed: list[int] = []
    for d in delivered:
        group = d.group
        failures = [f for _, f in d.outcomes if not f.ok]
        if d.several:
            record_channels(
                session,
                [(c.id, channel_key(ch)) for ch, f in d.outcomes if f.ok for c in group],
                now=now,
            )
        if failures:
            counts["dead"] += record_failed(
                session,
                group,
                error="; ".join(f.error or "失败" for f in failures),
                now=now,
                base_seconds=base_seconds,
                final=all(f.permanent for f in failures),
            )
            counts["failed"] += len(group)
            failed += [c.id for c in group]
            continue
        sent += [(c.id, d.key) for c in group]
        escalations = [c.item_id for c in group if is_escalation(c.rule)]
        into.escalated += escalations
        counts["sent"] += len(group)
        counts["digests"] += 1
        counts["escalated"] += len(escalations)
        counts["uncertain"] += sum(1 for c in group if c.uncertain)
    record_sent(session, sent, now=now)
    # one event per recorded chunk, in the same transaction: which reminders went out and
    # which failed (a row per reminder would double the sweep)
    audit.append(
        session,
        actor=worker,
        action="reminders.recorded",
        entity="reminder",
        entity_key=f"{now.isoformat()}",
        payload={"sent": [i for i, _ in sent], "failed": failed},
        now=now,
    )
