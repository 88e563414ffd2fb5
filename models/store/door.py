"""The web door's data: sign-in links and sessions (only tokens' hashes are kept), sign-in
attempts, forms handled once, and the items, submissions and sign-offs a signed-in person's
pages list. Session first, keyword-only, named rows back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, or_, select, update
from sqlmodel import Session

from models.domain.door import SESSION_LIFETIME, SIGN_IN_WINDOW, Scope, new_token, token_hash
from models.domain.vocabulary import OPEN_ITEM, ItemStatus, SubjectType
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
)


@dataclass(frozen=True)
class SignedIn:
    session_id: int
    person_id: int
    person_code: str
    org_key: str
    csrf: str
    org_revision: int  # whether a snapshot held of the organization is still current


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


def person_by_code(session: Session, *, org_key: str, code: str) -> int | None:
    return session.execute(
        select(Person.id)
        .join(Organization, Organization.id == Person.org_id)
        .where(Organization.key == org_key, Person.code == code)
    ).scalar_one_or_none()


def person_code(session: Session, *, person_id: int) -> str:
    return session.execute(select(Person.code).where(Person.id == person_id)).scalar_one()


def persons_of_unit(session: Session, *, org_key: str, unit_code: str) -> list[int]:
    """The people of a unit and of every unit below it (by the unit's materialized path)."""
    org_id = select(Organization.id).where(Organization.key == org_key).scalar_subquery()
    path = session.execute(
        select(Unit.path).where(Unit.org_id == org_id, Unit.code == unit_code)
    ).scalar_one_or_none()
    if path is None:
        return []
    return list(
        session.execute(
            select(Person.id)
            .join(Unit, Unit.id == Person.unit_id)
            .where(Unit.org_id == org_id, Unit.path.startswith(path))
            .order_by(Person.code)
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
        session.execute(
            insert(WebLink.__table__),  # type: ignore[arg-type]
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
        WebLink.token_hash == bindparam("token"),
        WebLink.used_at.is_(None),
        WebLink.expires_at > bindparam("now"),
    )
    .values(used_at=bindparam("now"))
    .returning(WebLink.person_id)
)


def redeem_link(session: Session, *, token: str, now: dt.datetime) -> int | None:
    """The person the link signs in, marking it used; None when it is unknown, used or
    expired. One UPDATE decides, so two taps at once sign in once."""
    return session.execute(_REDEEM, {"token": token_hash(token), "now": now}).scalar_one_or_none()


def open_session(session: Session, *, person_id: int, now: dt.datetime) -> str:
    """A new signed-in session; returns the cookie's token (only its hash is kept)."""
    token = new_token()
    session.execute(
        insert(WebSession.__table__),  # type: ignore[arg-type]
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
_SIGNED_IN = (
    select(
        WebSession.id,
        WebSession.person_id,
        WebSession.csrf,
        Person.code,
        Organization.key,
        Organization.revision,
    )
    .join(Person, Person.id == WebSession.person_id)
    .join(Organization, Organization.id == Person.org_id)
    .where(
        WebSession.token_hash == bindparam("token"),
        WebSession.revoked_at.is_(None),
        WebSession.expires_at > bindparam("now"),
    )
)


def signed_in(session: Session, *, token: str, now: dt.datetime) -> SignedIn | None:
    """The session a cookie's token names, if it is neither expired nor revoked."""
    row = session.execute(_SIGNED_IN, {"token": token_hash(token), "now": now}).one_or_none()
    if row is None:
        return None
    return SignedIn(row.id, row.person_id, row.code, row.key, row.csrf, row.revision)


def end_session(session: Session, *, session_id: int, now: dt.datetime) -> None:
    session.execute(update(WebSession).where(WebSession.id == session_id).values(revoked_at=now))


def revoke_sessions(session: Session, *, person_ids: Collection[int], now: dt.datetime) -> int:
    """End every live session of these people, and their unused links; the number ended."""
    ended = session.execute(
        update(WebSession)
        .where(WebSession.person_id.in_(list(person_ids)), WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    session.execute(
        update(WebLink)
        .where(WebLink.person_id.in_(list(person_ids)), WebLink.used_at.is_(None))
        .values(used_at=now)
    )
    return ended or 0


@dataclass(frozen=True)
class LiveSession:
    person_code: str
    person_name: str
    created_at: dt.datetime
    expires_at: dt.datetime


def live_sessions(session: Session, *, org_key: str, now: dt.datetime) -> list[LiveSession]:
    rows = session.execute(
        select(Person.code, Person.name, WebSession.created_at, WebSession.expires_at)
        .join(Person, Person.id == WebSession.person_id)
        .join(Organization, Organization.id == Person.org_id)
        .where(
            Organization.key == org_key,
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > now,
        )
        .order_by(Person.code, WebSession.created_at)
    ).all()
    return [LiveSession(r.code, r.name, r.created_at, r.expires_at) for r in rows]


def record_attempt(session: Session, *, client: str, ok: bool, now: dt.datetime) -> None:
    session.execute(
        insert(WebAttempt.__table__),  # type: ignore[arg-type]
        [{"client": client[:64], "at": now, "ok": ok}],
    )


_RECENT_FAILURES = (
    select(func.count())
    .select_from(WebAttempt)
    .where(
        WebAttempt.client == bindparam("client"),
        WebAttempt.ok.is_(False),
        WebAttempt.at > bindparam("since"),
    )
)


def recent_failures(session: Session, *, client: str, now: dt.datetime) -> int:
    return session.execute(
        _RECENT_FAILURES, {"client": client[:64], "since": now - SIGN_IN_WINDOW}
    ).scalar_one()


def claim_form(session: Session, *, nonce: str, person_id: int, now: dt.datetime) -> str | None:
    """None the first time a form's nonce is seen (it is taken, in the caller's transaction);
    the outcome recorded the first time when it comes again (a second tap)."""
    digest = token_hash(nonce)
    # RETURNING says whether this insert took the nonce (a driver's rowcount may not)
    taken = session.execute(
        db.dialect_insert(session, WebForm.__table__)  # type: ignore[arg-type]
        .values(nonce_hash=digest, person_id=person_id, at=now, outcome="")
        .on_conflict_do_nothing(index_elements=["nonce_hash"])
        .returning(WebForm.nonce_hash)
    ).scalar_one_or_none()
    if taken is not None:
        return None
    return (
        session.execute(
            select(WebForm.outcome).where(
                WebForm.nonce_hash == digest, WebForm.person_id == person_id
            )
        ).scalar_one_or_none()
        or "这份表单已经提交过"
    )


_FORMS = WebForm.__table__  # type: ignore[attr-defined]
_SET_OUTCOME = (
    update(_FORMS)
    .where(_FORMS.c.nonce_hash == bindparam("nonce"))
    .values(outcome=bindparam("said"))
)


def set_form_outcome(session: Session, *, nonce: str, outcome: str) -> None:
    session.execute(_SET_OUTCOME, {"nonce": token_hash(nonce), "said": outcome[:2000]})


_ORG_CAMPAIGNS = (
    select(Campaign.key, Campaign.current_version)
    .join(Organization, Organization.id == Campaign.org_id)
    .where(Organization.key == bindparam("org"), Campaign.current_version.is_not(None))
    .order_by(Campaign.key)
)


def org_campaigns(session: Session, *, org_key: str) -> list[tuple[str, int]]:
    """(key, current version) of each campaign of an organization that was rolled out."""
    rows = session.execute(_ORG_CAMPAIGNS, {"org": org_key}).all()
    return [(r.key, r.current_version) for r in rows]


_ITEM_COLUMNS = (
    ChecklistItem.id,
    ChecklistItem.campaign_id,
    Campaign.key.label("campaign_key"),
    ChecklistItem.phase_key,
    ChecklistItem.obligation_key,
    ChecklistItem.subject_type,
    ChecklistItem.subject_id,
    ChecklistItem.unit_id,
    ChecklistItem.occurrence,
    ChecklistItem.due,
    ChecklistItem.status,
    ChecklistItem.opens_on,
    ChecklistItem.closes_on,
)


def _door_item(row: object) -> DoorItem:
    return DoorItem(**{c.key: getattr(row, c.key) for c in _ITEM_COLUMNS})  # type: ignore[attr-defined]


def _scoped(pairings: bool, units: bool) -> Select[Any]:
    who = [
        (ChecklistItem.subject_type == SubjectType.PERSON)
        & (ChecklistItem.subject_id == bindparam("person"))
    ]
    if pairings:
        who.append(
            (ChecklistItem.subject_type == SubjectType.PAIRING)
            & ChecklistItem.subject_id.in_(bindparam("pairings", expanding=True))
        )
    if units:
        who.append(ChecklistItem.unit_id.in_(bindparam("units", expanding=True)))
    return (
        select(*_ITEM_COLUMNS)
        .join(Campaign, Campaign.id == ChecklistItem.campaign_id)
        .where(
            Campaign.key.in_(bindparam("campaigns", expanding=True)),
            ChecklistItem.status.in_(bindparam("statuses", expanding=True)),
            or_(*who),
        )
        .order_by(ChecklistItem.due, ChecklistItem.id)
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
    return [_door_item(r) for r in session.execute(statement, values).all()]


_OF_SUBJECT = (
    select(*_ITEM_COLUMNS)
    .join(Campaign, Campaign.id == ChecklistItem.campaign_id)
    .where(
        Campaign.key.in_(bindparam("campaigns", expanding=True)),
        ChecklistItem.subject_type == bindparam("subject_type"),
        ChecklistItem.subject_id == bindparam("subject_id"),
        ChecklistItem.status.in_(bindparam("statuses", expanding=True)),
    )
    .order_by(ChecklistItem.due, ChecklistItem.id)
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
    rows = session.execute(
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
    rows = session.execute(
        select(*_ITEM_COLUMNS)
        .join(Campaign, Campaign.id == ChecklistItem.campaign_id)
        .where(
            Campaign.key == campaign_key,
            ChecklistItem.status == ItemStatus.SUBMITTED,
            ChecklistItem.obligation_key.in_(list(obligation_keys)),
        )
        .order_by(ChecklistItem.due, ChecklistItem.id)
    ).all()
    return [_door_item(r) for r in rows]


_DOOR_ITEM = (
    select(*_ITEM_COLUMNS)
    .join(Campaign, Campaign.id == ChecklistItem.campaign_id)
    .join(Organization, Organization.id == Campaign.org_id)
    .where(ChecklistItem.id == bindparam("item"), Organization.key == bindparam("org"))
)


def door_item(session: Session, *, item_id: int, org_key: str) -> DoorItem | None:
    """An item of the organization's campaigns by id; None for any other id (another
    organization's items do not exist to this one's people)."""
    row = session.execute(_DOOR_ITEM, {"item": item_id, "org": org_key}).one_or_none()
    return _door_item(row) if row is not None else None


_ITEM_EVIDENCE = (
    select(
        Evidence.id,
        Evidence.kind,
        Evidence.person_id,
        Person.name,
        Evidence.dated,
        Evidence.recorded_at,
        Evidence.note,
        Evidence.counts,
        Evidence.files,
    )
    .join(Person, Person.id == Evidence.person_id)
    .where(Evidence.item_id == bindparam("item"))
    .order_by(Evidence.id)
)


def item_evidence(session: Session, *, item_id: int) -> list[EvidenceRow]:
    """What was recorded on an item, oldest first."""
    return [EvidenceRow(*r) for r in session.execute(_ITEM_EVIDENCE, {"item": item_id}).all()]


def checklist_item(session: Session, *, item_id: int) -> ChecklistItem:
    """The item's row, locked for the submission or sign-off about to change it."""
    return session.execute(
        select(ChecklistItem).where(ChecklistItem.id == item_id).with_for_update()
    ).scalar_one()
