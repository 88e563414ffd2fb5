"""What the rollout flow does, without Prefect, for the database tier."""

from __future__ import annotations

import datetime as dt

import pendulum
from sqlalchemy import func, select

from config.campaign_files import calendar_for, read_campaign
from config.org_file import read_org_file
from config.settings import get_settings
from models import db
from models.gates import approved_gates
from models.instant import utc_now
from models.org_snapshot import load_snapshot
from models.org_store import import_org
from models.planning import RolloutPlanner, released_waves
from models.rollout_store import item_rows, store_version, sync_phase_states, write_items
from models.tables import ChecklistItem


def import_shipped_org(url: str) -> None:
    with db.session_for(url) as session:
        import_org(session, read_org_file(get_settings().orgs_dir / "weihai-etdz.yaml"))


def rollout(url: str, campaign: str, as_of: dt.date) -> int:
    """Store the version, plan and write every released wave; returns items inserted."""
    settings = get_settings()
    calendar = calendar_for(settings)
    loaded = read_campaign(settings, campaign, calendar)
    today = pendulum.Date(as_of.year, as_of.month, as_of.day)
    with db.session_for(url) as session:
        stored = store_version(session, loaded, utc_now())
        statuses = sync_phase_states(session, stored.campaign_id, loaded, today)
        org = load_snapshot(session)
        waves = released_waves(loaded.spec, approved_gates(session, stored.campaign_id))
    planner = RolloutPlanner(loaded.spec, loaded.phase_dates, org, calendar)
    inserted = 0
    for town in planner.towns():
        with db.session_for(url) as session:
            rows = item_rows(
                planner.items(town, waves), stored.campaign_id, stored.version, statuses
            )
            inserted += write_items(session, rows)
    return inserted


def item_count(url: str) -> int:
    with db.session_for(url) as session:
        return session.execute(select(func.count()).select_from(ChecklistItem)).scalar_one()
