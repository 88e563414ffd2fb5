"""The words the engine stores: statuses of items, phases and reminders, and subject types.
StrEnums, so that a stored value and the code that tests it cannot drift apart (a StrEnum
member equals its string: rows read back compare equal)."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class ItemKey(NamedTuple):
    """An item's natural key within its campaign (the table's unique constraint): what a
    seeded draw about the item is drawn from, so that it is the same in every run."""

    phase_key: str
    obligation_key: str
    subject_type: str
    subject_id: int
    occurrence: str


class ItemStatus(StrEnum):
    PENDING = "pending"  # its phase is not open yet
    OPEN = "open"
    SUBMITTED = "submitted"  # evidence in, awaiting sign-off
    REJECTED = "rejected"  # sent back: may be submitted again
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"  # no longer asked (a changed file, a superseded rectification)


OPEN_ITEM = (ItemStatus.OPEN, ItemStatus.SUBMITTED, ItemStatus.REJECTED)  # still owed
NOT_DONE = (ItemStatus.PENDING, *OPEN_ITEM)  # owed now or once its phase opens

# The tag of a unit merged away or dissolved (合村并居, 撤村建居): kept, for its history, but
# no campaign asks anything of it any more (`UnitInfo.retired`).
RETIRED_TAG = "已撤销"
DONE_ITEM = (ItemStatus.ACCEPTED, ItemStatus.CANCELLED)  # nothing more to do


class EvidenceKind(StrEnum):
    """What an evidence row records."""

    SUBMISSION = "submission"
    SIGN_OFF = "sign-off"
    REJECTION = "rejection"


class PhaseStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sweep
    SENT = "sent"
    DEAD = "dead"  # the last try failed
    CANCELLED = "cancelled"  # the item was done or moved first
    SUPERSEDED = "superseded"  # said by another line of the same item to the same person


class SubjectType(StrEnum):
    UNIT = "unit"
    PERSON = "person"
    PAIRING = "pairing"


class CheckResult(StrEnum):
    """An inspected subject's result."""

    PASS = "pass"
    FAIL = "fail"
