"""The web door's rules over plain values: sign-in tokens, who sees which items, the order
of a person's list, and when sign-in attempts are too many. Pure: the store keeps the rows,
the web layer the pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from models.domain.campaign import CampaignSpec, EvidenceRule
from models.domain.org_snapshot import OrgSnapshot, PersonInfo
from models.domain.permissions import holds_sign_off_role, may_approve, may_inspect

# A token of 32 random bytes (256 bits): a sign-in link, a session cookie, a form's nonce.
TOKEN_BYTES = 32
# Failed sign-ins from one address within the window before it is refused for a while.
MAX_FAILED_SIGN_INS = 10
SIGN_IN_WINDOW = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(days=14)


def new_token() -> str:
    """A URL-safe random token; only its hash is ever stored."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the database keeps of a token: someone who reads the table cannot sign in."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so that a CSRF token cannot be guessed byte by byte."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def link_usable(expires_at: dt.datetime, used_at: dt.datetime | None, now: dt.datetime) -> bool:
    """A sign-in link works once, before it expires."""
    return used_at is None and now < expires_at


def too_many_attempts(failures: int) -> bool:
    return failures >= MAX_FAILED_SIGN_INS


@dataclass(frozen=True)
class Scope:
    """What a person answers for: themselves, the pairings they are the cadre of, and the
    units their responsible role covers (their own and every unit below it)."""

    person_id: int
    pairing_ids: frozenset[int]
    unit_ids: frozenset[int]


def scope_of(org: OrgSnapshot, person: PersonInfo, responsible: Iterable[str]) -> Scope:
    """The items a person's list holds: their own person items, their pairings, and, when a
    role of theirs is one of `responsible` (the campaign's responsible roles), the items of
    their unit and of the units below it, as `permissions.may_submit` allows them."""
    pairings = frozenset(p.id for p in org.pairings.values() if p.cadre_id == person.id)
    units: frozenset[int] = frozenset()
    if person.roles & set(responsible):
        units = frozenset(u for u in org.units if org.is_within(u, person.unit_id))
    return Scope(person.id, pairings, units)


def progress_root(org: OrgSnapshot, person: PersonInfo, spec: CampaignSpec) -> int | None:
    """The unit whose part of the tree 进度 shows a person for a campaign: the whole
    district for a holder of one of its district roles (every town's escalations reach
    them), their own unit for one of its responsible roles, else none."""
    if person.roles & spec.district_roles():
        return org.top_of(person.unit_id)
    if person.roles & spec.responsible_roles():
        return person.unit_id
    return None


def sees_units_below(org: OrgSnapshot, person: PersonInfo, specs: Iterable[CampaignSpec]) -> bool:
    """Whether 进度 shows this person units below their part of the tree (a town's, the
    district's), where the escalations about them are followed; a village's shows only
    itself."""
    roots = {progress_root(org, person, spec) for spec in specs} - {None}
    return any(u.parent_id in roots for u in org.units.values())


@dataclass(frozen=True)
class DoorPages:
    """Which of the door's pages beyond 我的待办 a person is offered: those their roles can
    ever have something on. A village secretary's phone shows no 抽查 or 闸门 tab that
    would only ever be empty."""

    sign: bool  # 待我签字: a role some obligation's sign-off names
    checks: bool  # 抽查: an inspector role of some inspection
    gates: bool  # 闸门: an approver role of some gate
    progress: bool  # 进度: a role that answers for units, or that the district's escalations reach


def pages_for(person: PersonInfo, specs: Iterable[CampaignSpec]) -> DoorPages:
    """The pages offered to `person` in the campaigns `specs`, by the same rules each page
    lists its rows by (the rows themselves still depend on units and on what is waiting)."""
    sign = checks = gates = progress = False
    for spec in specs:
        sign = sign or any(
            holds_sign_off_role(person, o.evidence.sign_off) for _, o in spec.obligations()
        )
        checks = checks or any(may_inspect(person, i.inspectors) for i in spec.inspections)
        gates = gates or any(may_approve(person, g) for g in spec.gates)
        progress = progress or bool(
            person.roles & (spec.responsible_roles() | spec.district_roles())
        )
    return DoorPages(sign=sign, checks=checks, gates=gates, progress=progress)


def asks_the_same(a: EvidenceRule, b: EvidenceRule) -> bool:
    """Whether one submission answers both obligations (最多报一次: one meeting record for
    the meeting items of several campaigns): the same counts, a note alike, as many files.
    Their sign-offs may differ: each item goes on to its own."""
    return (
        a.note == b.note
        and a.files == b.files
        and {c.key for c in a.counts} == {c.key for c in b.counts}
    )


# Channels a whole group reads: a sign-in link must never go there, only the plain address.
GROUP_CHANNELS = ("wecomrobot", "dingrobot")


def is_group_channel(url: str) -> bool:
    return url.split("://", 1)[0].lower().removesuffix("s") in GROUP_CHANNELS


def sign_in_url(base: str, token: str) -> str:
    return f"{base}/login?t={token}"
