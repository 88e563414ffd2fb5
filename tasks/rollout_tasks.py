"""Tasks of a rollout: store the version, plan, write items town by town, gates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pendulum
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from config.campaign_files import read_stored_version
from config.yaml_lines import format_loc, load_yaml_text
from models.domain.campaign import LoadedCampaign
from models.domain.org_import import Readdressed
from models.domain.planning import (
    RolloutPlanner,
    named_unit_codes,
    named_unit_problems,
    waved_kinds,
)
from models.domain.vocabulary import ItemStatus
from models.domain.working_days import to_date
from models.errors import CampaignError, SpecError
from models.store import audit, db
from models.store.catalog import named_units, stored_vocabulary
from models.store.gates import approved_gates, latest_decisions
from models.store.instant import utc_now
from models.store.orgs import load_snapshot
from models.store.reminders import plan_initial_reminders
from models.store.rollout import (
    ItemRow,
    in_towns,
    item_rows,
    items_of,
    phase_statuses,
    replan_items,
    store_version,
    stored_version,
    sync_phase_states,
    wave_members,
    write_items,
)
from tasks.context import TaskContext, task_context
from tasks.gate_tasks import answer_gate
from tasks.logs import task_logger
from tasks.org_tasks import readdress_campaign, unreached_notes
from tasks.retry import retry_unless_user_error

# Batches hold whole towns, up to about this many items, so a province-sized rollout is a
# few hundred task runs, never one per item.
BATCH_ITEMS = 50_000


@dataclass(frozen=True)
class RolloutContext:
    loaded: LoadedCampaign
    campaign_id: int
    version: int
    replan: bool
    statuses: dict[str, str]
    as_of: pendulum.Date
    # a changed file that reminds otherwise (other roles, other rules): what was planned to
    # whom is looked at again once the items are written
    reminders_changed: bool = False
    new_version: bool = False  # the file changed since the last rollout


# Loading reads the file and the database: a dropped connection is worth two more tries, a
# bad file (a user error) is not.
LOADING: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [2, 10],
    "retry_condition_fn": retry_unless_user_error,
    "cache_policy": NO_CACHE,
}


def check_named_units(
    session: Session, loaded: LoadedCampaign
) -> list[tuple[tuple[str | int, ...], str]]:
    """The units the campaign names by code, against its organization as imported: raises
    SpecError, each problem at its line, for a code the organization lacks or a unit of a
    kind its subject does not take (either would silently get nothing); returns warnings
    (a unit retired). Nothing to check for an organization not imported."""
    spec = loaded.spec
    codes = named_unit_codes(spec)
    if not codes or stored_vocabulary(session, spec.organization) is None:
        return []
    errors, warnings = named_unit_problems(spec, named_units(session, spec.organization, codes))
    if errors:
        lines = load_yaml_text(loaded.text, loaded.path)
        raise SpecError(
            [f"{loaded.path}:{lines.line_of(loc)}: {format_loc(loc)}: {m}" for loc, m in errors]
        )
    return warnings


@task(name="load-campaign-version", **LOADING)
def load_campaign_version(campaign: str, as_of: dt.date) -> RolloutContext:
    """Read the file, store it as a version (a changed file is a new one), open due phases."""
    run = task_context()
    loaded = run.campaign(campaign, prefer_file=True)
    today = to_date(as_of)
    with run.session() as session:
        check_named_units(session, loaded)  # before anything is written
        stored = store_version(session, loaded, utc_now())
        statuses = sync_phase_states(session, stored.campaign_id, loaded, today)
        if stored.created:
            audit.append(
                session,
                actor=run.settings.user or "system",
                action="campaign.loaded",
                entity="campaign",
                entity_key=loaded.spec.key,
                payload={"version": stored.version, "hash": loaded.content_hash},
                now=utc_now(),
            )
    new_version = stored.created and stored.previous is not None
    # Any rollout after the first plans again, a changed file or not: a holiday table
    # imported or corrected since (calendar import-notice --replace) moves deadlines too.
    replan = not stored.created or new_version
    changed = new_version and _reminds_otherwise(run, loaded, stored.previous)
    task_logger().info(
        "campaign %s version %s (%s)",
        loaded.spec.key,
        stored.version,
        "new" if stored.created else "unchanged",
    )
    return RolloutContext(
        loaded, stored.campaign_id, stored.version, replan, statuses, today, changed, new_version
    )


def _reminds_otherwise(run: TaskContext, loaded: LoadedCampaign, previous: int | None) -> bool:
    """Whether this version's reminder policies differ from the previous version's (read
    against the organization as it is now, so only the file's own change counts; one that no
    longer reads counts as changed)."""
    if previous is None:
        return False
    try:
        before = read_stored_version(run.settings, loaded.spec.key, previous)
    except CampaignError:
        return True
    return before.spec.policies_by_key() != loaded.spec.policies_by_key()


@task(name="load-batch-context", **LOADING)
def load_batch_context(campaign: str, version: int, as_of: dt.date, replan: bool) -> RolloutContext:
    """The context a batch run on a worker needs: the version its rollout stored, read from
    the database (whatever campaign file the worker's machine has, if any)."""
    run = task_context()
    key = campaign if not campaign.endswith((".yaml", ".yml")) else None
    if key is None:  # a rollout given a path: the file's key names the stored version
        key = run.campaign(campaign).spec.key
    loaded = read_stored_version(run.settings, key, version)
    with run.session() as session:
        stored = stored_version(session, loaded.spec.key, version)
        if stored is None:
            raise CampaignError(f"活动 {key} 没有第 {version} 版")
        statuses = phase_statuses(session, stored.campaign_id)
    today = to_date(as_of)
    return RolloutContext(loaded, stored.campaign_id, version, replan, statuses, today)


@task(name="plan-rollout", cache_policy=NO_CACHE)
def plan_rollout(ctx: RolloutContext) -> RolloutPlanner:
    run = task_context()
    spec = ctx.loaded.spec
    with run.session() as session:
        org = load_snapshot(session, spec.organization)
        # a pilot chosen stays chosen (see select_wave_units)
        chosen = wave_members(session, ctx.campaign_id) if waved_kinds(spec) else None
    return RolloutPlanner(spec, ctx.loaded.phase_dates, org, run.calendar, chosen)


def town_batches(
    planner: RolloutPlanner, waves: set[str | None], limit: int = BATCH_ITEMS
) -> list[list[int | None]]:
    """Whole towns grouped up to `limit` items each."""
    batches: list[list[int | None]] = []
    current: list[int | None] = []
    size = 0
    for town in planner.towns():
        n = planner.count(town, waves)
        if not n:
            continue
        if current and size + n > limit:
            batches.append(current)
            current, size = [], 0
        current.append(town)
        size += n
    if current:
        batches.append(current)
    return batches


@task(
    name="write-checklist-items",
    retries=2,
    retry_delay_seconds=[2, 10],
    cache_policy=NO_CACHE,
    task_run_name="write-checklist-items · {label}",
)
def write_checklist_items(
    ctx: RolloutContext,
    planner: RolloutPlanner,
    towns: list[int | None],
    waves: set[str | None],
    label: str,
) -> dict[str, int]:
    """Write the items of these towns in one transaction; returns how many were new, how
    many not yet done got a new deadline or were cancelled (a changed file), and the
    reminders planned."""
    inserted = moved = cancelled = 0
    others = ({w.key for w in ctx.loaded.spec.waves} | {None}) - waves
    with task_context().session() as session:
        for town in towns:
            # streamed into the insert; a replan reads them twice, so holds one town's
            rows: Iterable[ItemRow] = item_rows(
                planner.items(town, waves), ctx.campaign_id, ctx.version, ctx.statuses
            )
            if ctx.replan:
                rows = listed = list(rows)
                m, c = replan_items(
                    session, ctx.campaign_id, ctx.version, town, listed, other_waves=others
                )
                moved, cancelled = moved + m, cancelled + c
            inserted += write_items(session, rows)
        reminders = plan_initial_reminders(
            session,
            spec=ctx.loaded.spec,
            campaign=ctx.campaign_id,
            org=planner.org,
            calendar=planner.calendar,
            where=[in_towns(towns)],
        )
        if inserted or moved or cancelled:
            audit.append(
                session,
                actor="system",
                action="items.planned",
                entity="campaign",
                entity_key=ctx.loaded.spec.key,
                payload={
                    "batch": label,
                    "inserted": inserted,
                    "moved": moved,
                    "cancelled": cancelled,
                    "reminders": reminders,
                    "version": ctx.version,
                },
                now=utc_now(),
            )
    if moved or cancelled:
        task_logger().info("re-planned %s: %d moved, %d cancelled", label, moved, cancelled)
    return {"inserted": inserted, "moved": moved, "cancelled": cancelled, "reminders": reminders}


@task(name="count-done-items", cache_policy=NO_CACHE)
def done_items(ctx: RolloutContext) -> int:
    """Items already done (accepted): a changed file leaves them as they are."""
    with task_context().session() as session:
        return items_of(session, ctx.campaign_id, ItemStatus.ACCEPTED)


@task(name="check-reach", cache_policy=NO_CACHE)
def check_reach(ctx: RolloutContext, planner: RolloutPlanner) -> Readdressed:
    """Whether every item has someone its reminders go to: what reaches nobody, said (on
    the organization the rollout planned with: a large one is not read twice). A changed
    file that reminds otherwise (other roles): its reminders not yet sent go to whom they
    would be planned for now and those nobody could be given before are planned, as after
    an organization import."""
    spec = ctx.loaded.spec
    with task_context().session() as session:
        if ctx.reminders_changed:
            done = readdress_campaign(session, spec, planner.org, planner.calendar)
        else:
            done = Readdressed(
                unreached=tuple(unreached_notes(session, spec, ctx.campaign_id, planner.org))
            )
    logger = task_logger()
    if done.moved or done.cancelled or done.planned:
        logger.info(
            "%s: reminders readdressed: %d moved, %d cancelled, %d planned",
            spec.key,
            done.moved,
            done.cancelled,
            done.planned,
        )
    for note in done.unreached:  # info: the command line says them itself; the UI shows them
        logger.info("%s: %s", spec.key, note)
    return done


@task(name="count-items", cache_policy=NO_CACHE)
def count_items(ctx: RolloutContext) -> int:
    """The campaign's items (every version): what batch runs elsewhere added is the change."""
    with task_context().session() as session:
        return items_of(session, ctx.campaign_id)


# After a load this large PostgreSQL's statistics still describe the small table, and the
# morning's reminder claim picks a bad plan (measured: 10.6 s against 8.1 s for 100,000 due
# reminders among 1,000,000 items); autovacuum would catch up only later.
ANALYZE_AFTER = 50_000


@task(name="refresh-statistics", cache_policy=NO_CACHE)
def refresh_statistics(inserted: int) -> bool:
    """ANALYZE the item and reminder tables after a large load (PostgreSQL only)."""
    if inserted < ANALYZE_AFTER:
        return False
    db.analyze(task_context().url, ("checklist_item", "reminder"))
    return True


@task(name="read-gate-decisions", cache_policy=NO_CACHE)
def read_gate_decisions(ctx: RolloutContext) -> tuple[set[str], dict[str, bool]]:
    """(approved gates, latest answer per gate)."""
    with task_context().session() as session:
        latest = latest_decisions(session, ctx.campaign_id)
        return approved_gates(session, ctx.campaign_id), {k: d.approved for k, d in latest.items()}


@task(
    name="record-gate-decision", cache_policy=NO_CACHE, retry_condition_fn=retry_unless_user_error
)
def record_gate_decision(
    ctx: RolloutContext,
    gate_key: str,
    reviewer: str,
    approved: bool,
    notes: str,
    flow_run_id: str | None,
) -> None:
    answer_gate(ctx.loaded.spec.key, gate_key, reviewer, approved, notes, flow_run_id)
