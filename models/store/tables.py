"""SQLModel tables for the vocabulary of DESIGN.md. Every generated row has a natural key.

Dates of deadlines are plain dates in the campaign's timezone; instants use UtcDateTime.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.domain.vocabulary import ItemKey, ItemStatus, PhaseStatus, ReminderStatus
from models.store.instant import UtcDateTime


def _json(default: Any = list) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


def _instant(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable))


class Organization(SQLModel, table=True):
    """A district (or any tree) kept apart from the others in the same database: its units,
    people, roles and pairings, and whom its campaigns remind by default."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    name: str = Field(default="", max_length=200)
    responsible_roles: list[str] = _json()
    district_roles: list[str] = _json()
    # who may run commands that act for a person: [{login, person, proxy}], from its files
    operators: list[dict[str, Any]] = _json()
    # bumped by every import that changes the organization: a reader holding a snapshot
    # knows by one small query whether it is still current
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


def _org() -> Any:
    return Field(foreign_key="organization.id", index=True)


class Unit(SQLModel, table=True):
    """A node of the organization tree: district, town, street, village, community, ..."""

    __table_args__ = (UniqueConstraint("org_id", "code", name="uq_unit_org_code"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = _org()
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32, index=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    path: str = Field(default="", max_length=1000, description="/root/.../code/ for subtrees")
    tags: list[str] = _json()
    origin: str = Field(default="import", max_length=16, description="seed | filled | import")


class Role(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("org_id", "code", name="uq_role_org_code"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = _org()
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)


class PairingKind(SQLModel, table=True):
    __tablename__ = "pairing_kind"
    __table_args__ = (UniqueConstraint("org_id", "code", name="uq_pairing_kind_org_code"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = _org()
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)


class Person(SQLModel, table=True):
    """A cadre, party member or other individual, in one unit."""

    __table_args__ = (UniqueConstraint("org_id", "code", name="uq_person_org_code"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = _org()
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    channels: list[str] = _json()
    origin: str = Field(default="import", max_length=16)


class PersonRole(SQLModel, table=True):
    __tablename__ = "person_role"
    __table_args__ = (UniqueConstraint("person_id", "role_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role_id: int = Field(foreign_key="role.id", index=True)


class Pairing(SQLModel, table=True):
    """A standing link: one cadre and one contact. Many-to-one and one-to-many are several rows."""

    __table_args__ = (
        UniqueConstraint("kind_id", "cadre_id", "contact_id"),
        UniqueConstraint("org_id", "code", name="uq_pairing_org_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = _org()
    code: str = Field(max_length=64)
    kind_id: int = Field(foreign_key="pairing_kind.id")
    cadre_id: int = Field(foreign_key="person.id", index=True)
    contact_id: int = Field(foreign_key="person.id", index=True)
    origin: str = Field(default="import", max_length=16)


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    current_version: int | None = None
    org_id: int | None = Field(default=None, foreign_key="organization.id", index=True)


class CampaignVersion(SQLModel, table=True):
    """A campaign file as loaded, by content hash: a changed file makes a new version."""

    __tablename__ = "campaign_version"
    __table_args__ = (
        UniqueConstraint("campaign_id", "version"),
        UniqueConstraint("campaign_id", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    version: int
    content_hash: str = Field(max_length=64)
    source_path: str = Field(max_length=1000)
    text: str
    loaded_at: dt.datetime = _instant(nullable=False)


class Phase(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="campaign_version.id")
    key: str = Field(max_length=64)
    name: str = Field(max_length=200)
    position: int
    starts: dt.date
    ends: dt.date


class Obligation(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="campaign_version.id")
    phase_key: str = Field(max_length=64)
    key: str = Field(max_length=64)
    title: str = Field(max_length=500)
    subject_type: str = Field(max_length=16, description="unit | person | pairing")
    rule: dict[str, Any] = _json(dict)


class ChecklistItem(SQLModel, table=True):
    """One obligation for one subject with one due date (one occurrence).

    No foreign-key constraints here, by choice: a rollout writes hundreds of thousands of
    rows, and PostgreSQL's per-row FK checks made the load four times slower (measured,
    bench/rollout.py). The planner writes only ids it has just read from the same database,
    and units and campaigns are never deleted.
    """

    __tablename__ = "checklist_item"
    __table_args__ = (
        UniqueConstraint(
            "campaign_id",
            "phase_key",
            "obligation_key",
            "subject_type",
            "subject_id",
            "occurrence",
            name="uq_checklist_item_natural",
        ),
        Index("ix_checklist_item_campaign_status", "campaign_id", "status"),
        Index("ix_checklist_item_campaign_town", "campaign_id", "town_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int
    phase_key: str = Field(max_length=64)
    obligation_key: str = Field(max_length=64)
    subject_type: str = Field(max_length=16)
    subject_id: int
    occurrence: str = Field(max_length=32)
    due: dt.date
    status: str = Field(
        default=ItemStatus.PENDING.value,
        max_length=16,
        description="pending (phase not open) | open | submitted | accepted | rejected | cancelled",
    )
    wave: str | None = Field(default=None, max_length=64)
    version: int
    unit_id: int = Field(description="the unit answerable for it")
    town_id: int | None = None
    opens_on: dt.date | None = Field(
        default=None, description="a recurring item's window: evidence must be dated inside it"
    )
    closes_on: dt.date | None = None
    completed_on: dt.date | None = None
    overdue_on: dt.date | None = Field(
        default=None, description="the day a sweep first found it overdue (events, escalations)"
    )

    @property
    def key(self) -> ItemKey:
        return ItemKey(
            self.phase_key, self.obligation_key, self.subject_type, self.subject_id, self.occurrence
        )


def core(model: type[SQLModel]) -> Table:
    """A table model's Core table, for writes that need no ORM objects."""
    # SQLModel sets __table__ on every table=True class but its types do not declare it.
    return model.__table__  # type: ignore[attr-defined]


def columns(model: type[SQLModel], names: str) -> list[Column[Any]]:
    """A table's columns by name ("id due status"), for selects that read no whole row."""
    table = core(model)
    return [table.c[name] for name in names.split()]


# The item's natural key, read off its unique constraint so that the stores' column lists
# cannot drift from it.
ITEM_NATURAL_KEY: tuple[str, ...] = tuple(
    next(
        c
        for c in core(ChecklistItem).constraints
        if isinstance(c, UniqueConstraint) and c.name == "uq_checklist_item_natural"
    ).columns.keys()
)


class PhaseState(SQLModel, table=True):
    """Whether a campaign's phase is pending, open or closed, and since when."""

    __tablename__ = "phase_state"
    __table_args__ = (UniqueConstraint("campaign_id", "phase_key"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    phase_key: str = Field(max_length=64)
    status: str = Field(default=PhaseStatus.PENDING.value, max_length=16)
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None


class GateDecision(SQLModel, table=True):
    """A person's answer at a gate; the latest one for a gate is in force."""

    __tablename__ = "gate_decision"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    gate_key: str = Field(max_length=64)
    approved: bool
    reviewer_id: int = Field(foreign_key="person.id")
    notes: str = ""
    decided_at: dt.datetime = _instant(nullable=False)
    flow_run_id: str | None = Field(default=None, max_length=64)


class Evidence(SQLModel, table=True):
    """Append-only: a correction is a new row that supersedes the old one."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="checklist_item.id", index=True)
    kind: str = Field(max_length=16, description="submission | sign-off | rejection")
    person_id: int = Field(foreign_key="person.id")
    recorded_at: dt.datetime = _instant(nullable=False)
    dated: dt.date
    note: str | None = None
    counts: dict[str, Any] = _json(dict)
    files: list[dict[str, Any]] = _json()
    supersedes_id: int | None = Field(default=None, foreign_key="evidence.id")


class Reminder(SQLModel, table=True):
    """A planned message about an item to a recipient: the outbox row.

    pending → sending (claimed by a sweep) → sent; a failed delivery goes back to pending with
    a later send_at, and after the last try to dead. A claim left in sending by a sweep that
    died is sent again and marked uncertain (it may have arrived twice). Like checklist items,
    no foreign-key constraints: reminders are written in bulk beside their items.
    """

    __table_args__ = (
        UniqueConstraint("item_id", "rule", "recipient_id", "send_on", name="uq_reminder_natural"),
        Index("ix_reminder_status_send_at", "status", "send_at"),
        Index("ix_reminder_item", "item_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int
    rule: str = Field(max_length=32, description="before | due | overdue-N | escalate | district")
    recipient_id: int
    send_on: dt.date
    send_at: dt.datetime = _instant(nullable=False)
    status: str = Field(default=ReminderStatus.PENDING.value, max_length=16)
    attempts: int = 0
    last_error: str | None = None
    claimed_at: dt.datetime | None = _instant()
    claimed_by: str | None = Field(default=None, max_length=64)
    uncertain: bool = False
    digest: str | None = Field(default=None, max_length=64, description="idempotency key sent")
    sent_at: dt.datetime | None = _instant()


class Inspection(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "key", "occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    key: str = Field(max_length=64)
    occurrence: str = Field(max_length=32)
    created_at: dt.datetime = _instant(nullable=False)


class InspectionSample(SQLModel, table=True):
    __tablename__ = "inspection_sample"
    __table_args__ = (UniqueConstraint("inspection_id", "subject_type", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id")
    subject_type: str = Field(max_length=16)
    subject_id: int
    result: str | None = Field(default=None, max_length=16)
    findings: str | None = None
    inspector_id: int | None = Field(default=None, foreign_key="person.id")
    recorded_at: dt.datetime | None = _instant()
    checked_on: dt.date | None = Field(default=None, description="the day of the check")


class AuditEvent(SQLModel, table=True):
    """Every state change, hash-chained so an edited, inserted or deleted event shows."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_key"),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _instant(nullable=False)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_key: str = Field(max_length=200)
    payload: dict[str, Any] = _json(dict)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    scheme: int | None = Field(default=None, description="how its hash is made (audit.SCHEME)")


class AuditHead(SQLModel, table=True):
    """Where the chain ends, written with every event: without it, deleting the last events
    would leave a chain that still verifies."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    last_id: int
    last_hash: str = Field(max_length=64)
    events: int


class WebLink(SQLModel, table=True):
    """A one-time sign-in link of the web door: kept only as the token's hash, it works once
    before it expires."""

    __tablename__ = "web_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    purpose: str = Field(max_length=16, description="invite | digest | printed")
    created_at: dt.datetime = _instant(nullable=False)
    expires_at: dt.datetime = _instant(nullable=False)
    used_at: dt.datetime | None = _instant()


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie carries a token whose hash is kept here, so that any
    worker on any machine knows it and `campaign web sessions --revoke` ends it."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    csrf: str = Field(max_length=64, description="the token every form of the session carries")
    created_at: dt.datetime = _instant(nullable=False)
    expires_at: dt.datetime = _instant(nullable=False)
    revoked_at: dt.datetime | None = _instant()


class WebAttempt(SQLModel, table=True):
    """A sign-in attempt, by client address: failures in a window limit the next ones, for
    every worker alike."""

    __tablename__ = "web_attempt"
    __table_args__ = (Index("ix_web_attempt_client_at", "client", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    client: str = Field(max_length=64)
    at: dt.datetime = _instant(nullable=False)
    ok: bool


class WebForm(SQLModel, table=True):
    """A form once handled: a second tap of the same form (its nonce) records nothing more."""

    __tablename__ = "web_form"

    nonce_hash: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="person.id")
    at: dt.datetime = _instant(nullable=False)
    outcome: str = Field(default="", max_length=2000)


class ReminderChannel(SQLModel, table=True):
    """A channel that took a reminder, for a person with several channels: a retry after
    one of them failed goes only to those that did not take it (never a copy to the one
    that did). The channel is kept as a hash of its URL (which may hold a secret)."""

    __tablename__ = "reminder_channel"

    reminder_id: int = Field(primary_key=True)
    channel: str = Field(primary_key=True, max_length=64)
    delivered_at: dt.datetime = _instant(nullable=False)
