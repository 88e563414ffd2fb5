"""The rollout flow's steps without the flow, for the database tier."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from config.campaign_files import shipped_org_files
from config.org_file import read_org_file, read_org_files
from config.settings import get_settings
from models.domain.planning import released_waves
from models.store import db
from models.store.orgs import import_org
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
