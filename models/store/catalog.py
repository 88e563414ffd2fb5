"""What the database holds of campaigns and organizations, read without their files: the
stored version of a campaign by key, and an imported organization's vocabulary."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from models.domain.campaign import OrgVocabulary
from models.domain.planning import NamedUnit
from models.domain.vocabulary import RETIRED_TAG
from models.store.tables import (
    Campaign,
    CampaignVersion,
    Organization,
    PairingKind,
    Role,
    Unit,
    core,
)


@dataclass(frozen=True)
class StoredCampaign:
    key: str
    version: int
    text: str
    source_path: str
    content_hash: str


def stored_campaign(
    session: Session, key: str, version: int | None = None
) -> StoredCampaign | None:
    """The campaign's current version (or `version`) as its rollout stored it."""
    campaign = session.execute(
        select(Campaign).where(col(Campaign.key) == key)
    ).scalar_one_or_none()
    if campaign is None:
        return None
    wanted = version if version is not None else campaign.current_version
    row = session.execute(
        select(CampaignVersion).where(
            col(CampaignVersion.campaign_id) == campaign.id, col(CampaignVersion.version) == wanted
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    return StoredCampaign(key, row.version, row.text, row.source_path, row.content_hash)


def stored_campaign_keys(session: Session) -> list[str]:
    return list(session.execute(select(col(Campaign.key)).order_by(col(Campaign.key))).scalars())


def campaigns_of(session: Session, org_key: str) -> list[str]:
    """The keys of the campaigns rolled out for an organization."""
    return list(
        session.execute(
            select(col(Campaign.key))
            .join(Organization, col(Organization.id) == col(Campaign.org_id))
            .where(col(Organization.key) == org_key)
            .order_by(col(Campaign.key))
        ).scalars()
    )


def stored_vocabulary(session: Session, org: str) -> OrgVocabulary | None:
    """The roles, pairing kinds and default reminded roles of an imported organization."""
    found = session.execute(
        select(Organization).where(col(Organization.key) == org)
    ).scalar_one_or_none()
    if found is None:
        return None
    roles = session.execute(select(col(Role.code)).where(col(Role.org_id) == found.id)).scalars()
    kinds = session.execute(
        select(col(PairingKind.code)).where(col(PairingKind.org_id) == found.id)
    ).scalars()
    return OrgVocabulary(
        key=org,
        roles=frozenset(roles),
        pairing_kinds=frozenset(kinds),
        responsible_roles=tuple(found.responsible_roles or ()),
        district_roles=tuple(found.district_roles or ()),
    )


def named_units(session: Session, org: str, codes: Collection[str]) -> dict[str, NamedUnit]:
    """Of these unit codes, those the imported organization holds, with kind and retirement."""
    if not codes:
        return {}
    rows = session.execute(
        select(col(Unit.code), col(Unit.kind), col(Unit.tags))
        .join(Organization, col(Organization.id) == col(Unit.org_id))
        .where(col(Organization.key) == org, col(Unit.code).in_(sorted(codes)))
    ).all()
    return {r.code: NamedUnit(r.kind, RETIRED_TAG in (r.tags or ())) for r in rows}


def stored_org_names(session: Session, org: str) -> dict[str, str]:
    """The Chinese names of an imported organization's roles, pairing kinds and units."""
    found = session.execute(
        select(col(Organization.id)).where(col(Organization.key) == org)
    ).scalar_one_or_none()
    if found is None:
        return {}
    names: dict[str, str] = {}
    for table in (core(Role), core(PairingKind), core(Unit)):
        stmt = select(table.c.code, table.c.name).where(table.c.org_id == found)
        names.update(dict(session.execute(stmt).all()))
    return names
