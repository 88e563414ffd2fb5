"""The web door's data: sign-in links and sessions (only tokens' hashes are kept), sign-in
attempts, forms handled once, and the items, submissions and sign-offs a signed-in person's
pages list. Session first, keyword-only, named rows back: plain rows, never ORM objects (but
the item a report locks), run by `db.execute_plain`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlmodel import Session, col

from models.domain.door import SESSION_LIFETIME, SIGN_IN_WINDOW, Scope, new_token, token_hash
from models.domain.vocabulary import OPEN_ITEM, EvidenceKind, ItemStatus, SubjectType
from models.store import db
from models.store.tables import (
    Campaign,
    ChecklistItem,
    Evidence,
    Organization,
    Person,
    Unit,
    WebAttempt,
    WebForm,
    WebLink,
    WebSession,
    columns,
    core,
)


@dataclass(frozen=True)
class SignedIn:
    session_id: int
    person_id: int
    person_code: str
    org_key: str
    csrf: str
    org_revision: int  # whether a snapshot held of the organization is still current
    # (key, current version) of each campaign of the organization that was rolled out
    campaigns: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class DoorItem:
    id: int
    campaign_id: int
    campaign_key: str
    phase_key: str
    obligation_key: str
    subject_type: str
    subject_id: int
    unit_id: int
    occurrence: str
    due: dt.date
    status: str
    opens_on: dt.date | None
    closes_on: dt.date | None
    completed_on: dt.date | None


@dataclass(frozen=True)
class EvidenceRow:
    id: int
    kind: str
    person_id: int
    person_name: str
    dated: dt.date
    recorded_at: dt.datetime
    note: str | None
    counts: dict[str, object]
    files: list[dict[str, object]]
    supersedes_id: int | None  # the submission this one replaced


def persons_of_unit(session: Session, *, org_key: str, unit_code: str) -> list[int]:
    """The people of a unit and of every unit below it (by the unit's materialized path)."""
    org_id = select(col(Organization.id)).where(col(Organization.key) == org_key).scalar_subquery()
    path = session.execute(
        select(col(Unit.path)).where(col(Unit.org_id) == org_id, col(Unit.code) == unit_code)
    ).scalar_one_or_none()
    if path is None:
        return []
    return list(
        session.execute(
            select(col(Person.id))
            .join(Unit, col(Unit.id) == col(Person.unit_id))
            .where(col(Unit.org_id) == org_id, col(Unit.path).startswith(path))
            .order_by(col(Person.code))
        ).scalars()
    )


def create_link(
    session: Session, *, person_id: int, purpose: str, now: dt.datetime, lifetime: dt.timedelta
) -> str:
    """A new one-time sign-in token for the person; the row keeps only its hash."""
    return create_links(
        session, person_ids=[person_id], purpose=purpose, now=now, lifetime=lifetime
    )[person_id]


def create_links(
    session: Session,
    *,
    person_ids: Collection[int],
    purpose: str,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> dict[int, str]:
    """A one-time sign-in token for each person, in one insert (a sweep's digests)."""
    tokens = {person_id: new_token() for person_id in person_ids}
    if tokens:
        db.execute_plain(
            session,
            insert(core(WebLink)),
            [
                {
                    "token_hash": token_hash(token),
                    "person_id": person_id,
                    "purpose": purpose,
                    "created_at": now,
                    "expires_at": now + lifetime,
                }
                for person_id, token in tokens.items()
            ],
        )
    return tokens


_REDEEM = (
    update(WebLink)
    .where(
        col(WebLink.token_hash) == bindparam("token"),
        col(WebLink.used_at).is_(None),
        col(WebLink.expires_at) > bindparam("now"),
    )
    .values(used_at=bindparam("now"))
    # the code and organization by subqueries of one table each: SQLite's RETURNING may not
    # name a joined table, and names its columns unqualified. Codes may repeat between
    # organizations: a code alone does not say who.
    .returning(
        col(WebLink.person_id),
        select(col(Person.code))
        .where(col(Person.id) == col(WebLink.person_id))
        .scalar_subquery()
        .label("code"),
        select(col(Organization.key))
        .where(
            col(Organization.id)
            == select(col(Person.org_id))
            .where(col(Person.id) == col(WebLink.person_id))
            .correlate(WebLink)
            .scalar_subquery()
        )
        .scalar_subquery()
        .label("org"),
    )
)


class Redeemed(NamedTuple):
    person_id: int
    code: str
    org: str


def redeem_link(session: Session, *, token: str, now: dt.datetime) -> Redeemed | None:
    """The person the link signs in, marking it used; None when it is unknown, used or
    expired. One UPDATE decides, so two taps at once sign in once."""
    row = db.execute_plain(session, _REDEEM, {"token": token_hash(token), "now": now}).first()
    return Redeemed._make(row) if row else None


def void_link(session: Session, *, token: str, now: dt.datetime) -> None:
    """A link that must never sign in (its invitation was not delivered)."""
    db.execute_plain(
        session,
        update(WebLink)
        .where(col(WebLink.token_hash) == token_hash(token), col(WebLink.used_at).is_(None))
        .values(used_at=now),
    )


def open_session(session: Session, *, person_id: int, now: dt.datetime) -> str:
    """A new signed-in session; returns the cookie's token (only its hash is kept)."""
    token = new_token()
    db.execute_plain(
        session,
        insert(core(WebSession)),
        [
            {
                "token_hash": token_hash(token),
                "person_id": person_id,
                "csrf": new_token()[:43],
                "created_at": now,
                "expires_at": now + SESSION_LIFETIME,
            }
        ],
    )
    return token


# The statements every signed-in request runs, built once (building one costs more than
# running it on SQLite); their values are bound per call.
def _live(*read: Any, now: Any) -> Select[Any]:
    """Live web sessions (not revoked, not expired at `now`) with their person and
    organization."""
    return (
        select(*read)
        .join(Person, col(Person.id) == col(WebSession.person_id))
        .join(Organization, col(Organization.id) == col(Person.org_id))
        .where(col(WebSession.revoked_at).is_(None), col(WebSession.expires_at) > now)
    )


# The organization's rolled-out campaigns come with the session, "key:version,..." (keys
# are slugs): every page needs them, and one statement is cheaper than two.
_CAMPAIGNS = (
    select(
        func.aggregate_strings(
            col(Campaign.key) + ":" + cast(col(Campaign.current_version), String), ","
        )
    )
    .where(col(Campaign.org_id) == col(Organization.id), col(Campaign.current_version).is_not(None))
    .scalar_subquery()
    .label("campaigns")
)
_SIGNED_IN = _live(
    *columns(WebSession, "id person_id csrf"),
    col(Person.code),
    col(Organization.key),
    col(Organization.revision),
    _CAMPAIGNS,
    now=bindparam("now"),
).where(col(WebSession.token_hash) == bindparam("token"))


def _rolled_out(listed: str | None) -> tuple[tuple[str, int], ...]:
    pairs = (entry.rpartition(":") for entry in (listed or "").split(",") if entry)
    return tuple(sorted((key, int(version)) for key, _, version in pairs))


class ServedOrg(NamedTuple):
    key: str
    revision: int
    campaigns: tuple[tuple[str, int], ...]  # (key, current version), as SignedIn's


def served_orgs(session: Session) -> list[ServedOrg]:
    """The organizations with a campaign rolled out (those whose people the door serves),
    each with its revision and campaigns, in the shape a signed-in request reads them."""
    rows = db.execute_plain(
        session,
        select(col(Organization.key), col(Organization.revision), _CAMPAIGNS).order_by(
            col(Organization.key)
        ),
    ).all()
    return [ServedOrg(r.key, r.revision, _rolled_out(r.campaigns)) for r in rows if r.campaigns]


def signed_in(session: Session, *, token: str, now: dt.datetime) -> SignedIn | None:
    """The session a cookie's token names, if it is neither expired nor revoked, with the
    organization's rolled-out campaigns."""
    row = db.execute_plain(
        session, _SIGNED_IN, {"token": token_hash(token), "now": now}
    ).one_or_none()
    if row is None:
        return None
    return SignedIn(
        row.id, row.person_id, row.code, row.key, row.csrf, row.revision, _rolled_out(row.campaigns)
    )


def end_session(session: Session, *, session_id: int, now: dt.datetime) -> None:
    db.execute_plain(
        session, update(WebSession).where(col(WebSession.id) == session_id).values(revoked_at=now)
    )


def revoke_sessions(session: Session, *, person_ids: Collection[int], now: dt.datetime) -> int:
    """End every live session of these people, and their unused links; the number ended."""
    ended = db.rows_changed(
        db.execute_plain(
            session,
            update(WebSession)
            .where(
                col(WebSession.person_id).in_(list(person_ids)),
                col(WebSession.revoked_at).is_(None),
            )
            .values(revoked_at=now),
        )
    )
    db.execute_plain(
        session,
        update(WebLink)
        .where(col(WebLink.person_id).in_(list(person_ids)), col(WebLink.used_at).is_(None))
        .values(used_at=now),
    )
    return ended or 0


@dataclass(frozen=True)
class LiveSession:
    person_code: str
    person_name: str
    created_at: dt.datetime
    expires_at: dt.datetime


def live_sessions(session: Session, *, org_key: str, now: dt.datetime) -> list[LiveSession]:
    read = (col(Person.code), col(Person.name), *columns(WebSession, "created_at expires_at"))
    rows = db.execute_plain(
        session,
        _live(*read, now=now)
        .where(col(Organization.key) == org_key)
        .order_by(col(Person.code), col(WebSession.created_at)),
    ).all()
    return [LiveSession(r.code, r.name, r.created_at, r.expires_at) for r in rows]


def record_failure(session: Session, *, client: str, now: dt.datetime) -> None:
    """A sign-in that failed, for the rate limit (a sign-in that succeeds is in the audit
    trail)."""
    db.execute_plain(
        session,
        insert(core(WebAttempt)),
        [{"client": client[:64], "at": now, "ok": False}],
    )


_RECENT_FAILURES = (
    select(func.count())
    .select_from(WebAttempt)
    .where(
        col(WebAttempt.client) == bindparam("client"),
        col(WebAttempt.ok).is_(False),
        col(WebAttempt.at) > bindparam("since"),
    )
)


def recent_failures(session: Session, *, client: str, now: dt.datetime) -> int:
    return db.execute_plain(
        session, _RECENT_FAILURES, {"client": client[:64], "since": now - SIGN_IN_WINDOW}
    ).scalar_one()


def claim_form(session: Session, *, nonce: str, person_id: int, now: dt.datetime) -> str | None:
    """None the first time a form's nonce is seen (it is taken, in the caller's transaction);
    the outcome recorded the first time when it comes again (a second tap)."""
    digest = token_hash(nonce)
    # RETURNING says whether this insert took the nonce (a driver's rowcount may not)
    taken = db.execute_plain(
        session,
        db.dialect_insert(session, core(WebForm))
        .values(nonce_hash=digest, person_id=person_id, at=now, outcome="")
        .on_conflict_do_nothing(index_elements=["nonce_hash"])
        .returning(col(WebForm.nonce_hash)),
    ).scalar_one_or_none()
    if taken is not None:
        return None
    return (
        db.execute_plain(
            session,
            select(col(WebForm.outcome)).where(
                col(WebForm.nonce_hash) == digest, col(WebForm.person_id) == person_id
            ),
        ).scalar_one_or_none()
        or "这份表单已经提交过"
    )


_FORMS = core(WebForm)
_SET_OUTCOME = (
    update(_FORMS)
    .where(_FORMS.c.nonce_hash == bindparam("nonce"))
    .values(outcome=bindparam("said"))
)


def set_form_outcome(session: Session, *, nonce: str, outcome: str) -> None:
    db.execute_plain(session, _SET_OUTCOME, {"nonce": token_hash(nonce), "said": outcome[:2000]})


_ITEM_COLUMNS: tuple[Any, ...] = (
    col(ChecklistItem.id),
    col(ChecklistItem.campaign_id),
    col(Campaign.key).label("campaign_key"),
    *columns(
        ChecklistItem,
        "phase_key obligation_key subject_type subject_id unit_id occurrence due status"
        " opens_on closes_on completed_on",
    ),
)


def _door_item(row: Row[Any]) -> DoorItem:
    return DoorItem(**row._mapping)


def _scoped(pairings: bool, units: bool) -> Select[Any]:
    who: list[ColumnElement[bool]] = [
        (col(ChecklistItem.subject_type) == SubjectType.PERSON)
        & (col(ChecklistItem.subject_id) == bindparam("person"))
    ]
    if pairings:
        who.append(
            (col(ChecklistItem.subject_type) == SubjectType.PAIRING)
            & col(ChecklistItem.subject_id).in_(bindparam("pairings", expanding=True))
        )
    if units:
        who.append(col(ChecklistItem.unit_id).in_(bindparam("units", expanding=True)))
    return (
        select(*_ITEM_COLUMNS)
        .join(Campaign, col(Campaign.id) == col(ChecklistItem.campaign_id))
        .where(
            col(Campaign.key).in_(bindparam("campaigns", expanding=True)),
            col(ChecklistItem.status).in_(bindparam("statuses", expanding=True)),
            or_(*who),
        )
        .order_by(col(ChecklistItem.due), col(ChecklistItem.id))
    )


# one statement for each shape a scope takes (pairings or not, units or not), built once
_IN_SCOPE = {(p, u): _scoped(p, u) for p in (False, True) for u in (False, True)}


def items_in_scope(
    session: Session,
    *,
    campaign_keys: Collection[str],
    scope: Scope,
    statuses: Collection[str] = OPEN_ITEM,
) -> list[DoorItem]:
    """Items of these campaigns the scope answers for, in the given statuses, by due date."""
    values: dict[str, Any] = {
        "person": scope.person_id,
        "campaigns": list(campaign_keys),
        "statuses": [str(s) for s in statuses],
    }
    if scope.pairing_ids:
        values["pairings"] = sorted(scope.pairing_ids)
    if scope.unit_ids:
        values["units"] = sorted(scope.unit_ids)
    statement = _IN_SCOPE[(bool(scope.pairing_ids), bool(scope.unit_ids))]
    return [_door_item(r) for r in db.execute_plain(session, statement, values).all()]


_OF_SUBJECT = (
    select(*_ITEM_COLUMNS)
    .join(Campaign, col(Campaign.id) == col(ChecklistItem.campaign_id))
    .where(
        col(Campaign.key).in_(bindparam("campaigns", expanding=True)),
        col(ChecklistItem.subject_type) == bindparam("subject_type"),
        col(ChecklistItem.subject_id) == bindparam("subject_id"),
        col(ChecklistItem.status).in_(bindparam("statuses", expanding=True)),
    )
    .order_by(col(ChecklistItem.due), col(ChecklistItem.id))
)


def items_of_subject(
    session: Session,
    *,
    campaign_keys: Collection[str],
    subject_type: str,
    subject_id: int,
    statuses: Collection[str],
) -> list[DoorItem]:
    """One subject's items in these campaigns and statuses, by due date."""
    rows = db.execute_plain(
        session,
        _OF_SUBJECT,
        {
            "campaigns": list(campaign_keys),
            "subject_type": str(subject_type),
            "subject_id": subject_id,
            "statuses": [str(s) for s in statuses],
        },
    ).all()
    return [_door_item(r) for r in rows]


def awaiting_sign_off(
    session: Session, *, campaign_key: str, obligation_keys: Collection[str]
) -> list[DoorItem]:
    """Submitted items of these obligations: what some signer has to answer."""
    if not obligation_keys:
        return []
    rows = db.execute_plain(
        session,
        select(*_ITEM_COLUMNS)
        .join(Campaign, col(Campaign.id) == col(ChecklistItem.campaign_id))
        .where(
            col(Campaign.key) == campaign_key,
            col(ChecklistItem.status) == ItemStatus.SUBMITTED,
            col(ChecklistItem.obligation_key).in_(list(obligation_keys)),
        )
        .order_by(col(ChecklistItem.due), col(ChecklistItem.id)),
    ).all()
    return [_door_item(r) for r in rows]


_DOOR_ITEM = (
    select(*_ITEM_COLUMNS)
    .join(Campaign, col(Campaign.id) == col(ChecklistItem.campaign_id))
    .join(Organization, col(Organization.id) == col(Campaign.org_id))
    .where(col(ChecklistItem.id) == bindparam("item"), col(Organization.key) == bindparam("org"))
)


def door_item(session: Session, *, item_id: int, org_key: str) -> DoorItem | None:
    """An item of the organization's campaigns by id; None for any other id (another
    organization's items do not exist to this one's people)."""
    row = db.execute_plain(session, _DOOR_ITEM, {"item": item_id, "org": org_key}).one_or_none()
    return _door_item(row) if row is not None else None


_ITEM_EVIDENCE = (
    select(
        col(Evidence.id),
        col(Evidence.kind),
        col(Evidence.person_id),
        col(Person.name).label("person_name"),
        *columns(Evidence, "dated recorded_at note counts files supersedes_id"),
    )
    .join(Person, col(Person.id) == col(Evidence.person_id))
    .where(col(Evidence.item_id) == bindparam("item"))
    .order_by(col(Evidence.id))
)


_LAST_EVIDENCE = (
    select(col(Evidence.item_id), col(Evidence.kind), col(Evidence.note))
    .where(col(Evidence.item_id).in_(bindparam("items", expanding=True)))
    .order_by(col(Evidence.item_id), col(Evidence.id))
)


def rejection_notes(session: Session, *, item_ids: Collection[int]) -> dict[int, str | None]:
    """Why each of these items was sent back: the note of its last evidence, where that is a
    rejection. One query for a whole list, not one an item."""
    if not item_ids:
        return {}
    last: dict[int, tuple[str, str | None]] = {}
    for row in db.execute_plain(session, _LAST_EVIDENCE, {"items": sorted(item_ids)}):
        last[row.item_id] = (row.kind, row.note)
    return {item: note for item, (kind, note) in last.items() if kind == EvidenceKind.REJECTION}


def item_evidence(session: Session, *, item_id: int) -> list[EvidenceRow]:
    """What was recorded on an item, oldest first."""
    rows = db.execute_plain(session, _ITEM_EVIDENCE, {"item": item_id}).all()
    return [EvidenceRow(**r._asdict()) for r in rows]


def checklist_item(session: Session, *, item_id: int) -> ChecklistItem:
    """The item's row, locked for the submission or sign-off about to change it."""
    return session.execute(
        select(ChecklistItem).where(col(ChecklistItem.id) == item_id).with_for_update()
    ).scalar_one()
