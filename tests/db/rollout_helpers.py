"""The rollout flow's steps without the flow, for the database tier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from config.campaign_files import calendar_for, shipped_org_files
from config.org_file import read_org_file, read_org_files
from config.settings import get_settings
from models.domain.campaign import Obligation
from models.domain.org_snapshot import OrgSnapshot
from models.domain.planning import released_waves
from models.domain.working_days import WorkCalendar
from models.store import db
from models.store.evidence import find_item, obligation_rule, subject_id
from models.store.orgs import import_org, load_snapshot
from models.store.rollout import campaign_id
from models.store.tables import ChecklistItem
from tasks.rollout_tasks import (
    load_campaign_version,
    plan_rollout,
    read_gate_decisions,
    town_batches,
    write_checklist_items,
)


def import_shipped_org(url: str) -> None:
    with db.session_for(url) as session:
        import_org(session, read_org_file(get_settings().orgs_dir / "weihai-etdz.yaml"))


def import_full_org(url: str) -> None:
    """The shipped organization with its synthetic people and pairings (the CSVs)."""
    with db.session_for(url) as session:
        import_org(session, read_org_files(shipped_org_files(get_settings(), "weihai-etdz")))


def rolled_out(url: str, campaign: str, as_of: dt.date, *, people: bool = False) -> str:
    """The shipped district imported (`people`: with its people and pairings) and the
    campaign rolled out as of a day; returns the database URL."""
    (import_full_org if people else import_shipped_org)(url)
    rollout(url, campaign, as_of)
    return url


@dataclass(frozen=True)
class Located:
    """An item found as the command line finds it, with what acting on it needs."""

    org: OrgSnapshot
    rule: Obligation
    item: ChecklistItem
    calendar: WorkCalendar


def locate(
    session: Session,
    campaign: str,
    obligation: str,
    subject: tuple[str, str],
    *,
    dated: dt.date,
    occurrence: str | None = None,
) -> Located:
    """(kind, code) `subject`'s item of an obligation of the campaign's first version."""
    cid = campaign_id(session, campaign)
    rule = obligation_rule(session, cid, 1, obligation)
    org = load_snapshot(session, "weihai-etdz")
    kind, code = subject
    item = find_item(
        session,
        campaign=cid,
        obligation=rule,
        subject=subject_id(org, kind, code),
        occurrence=occurrence,
        dated=dated,
    )
    return Located(org, rule, item, calendar_for(get_settings()))


def rollout(url: str, campaign: str, as_of: dt.date) -> int:
    """What the rollout flow does, through its tasks' functions, for every released wave;
    returns items inserted."""
    ctx = load_campaign_version.fn(campaign, as_of)
    planner = plan_rollout.fn(ctx)
    approved, _ = read_gate_decisions.fn(ctx)
    waves = released_waves(ctx.loaded.spec, approved)
    return sum(
        write_checklist_items.fn(ctx, planner, towns, waves, label=f"b{i}")["inserted"]
        for i, towns in enumerate(town_batches(planner, waves))
    )


def item_count(url: str) -> int:
    with db.session_for(url) as session:
        return session.execute(select(func.count()).select_from(ChecklistItem)).scalar_one()


def spoil_stored_campaign(url: str, campaign: str, text: str) -> None:
    """Make the stored version of a rolled-out campaign unreadable, as a newer release's
    stricter checks or a damaged database would: a sweep must name it and go on."""
    from sqlalchemy import update
    from sqlmodel import col

    from models.store.tables import Campaign, CampaignVersion

    with db.session_for(url) as session:
        spoilt = session.execute(
            select(col(Campaign.id)).where(col(Campaign.key) == campaign)
        ).scalar_one()
        session.execute(
            update(CampaignVersion)
            .where(col(CampaignVersion.campaign_id) == spoilt)
            .values(text=text)
        )
        session.commit()
