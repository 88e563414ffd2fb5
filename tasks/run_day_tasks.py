"""The day a run acts for, checked where the run starts. The command line checks it before
it starts a run; the Prefect UI's form takes any date, and a run for a day still to come
would open phases, draw samples and send reminders now, as if that day had come, and put
that day's progress where the UI shows today's."""

from __future__ import annotations

import datetime as dt

from prefect import task
from prefect.cache_policies import NO_CACHE

from models.domain.date_rules import run_day
from models.store.instant import today_in
from models.store.rehearsal import is_rehearsal
from tasks.context import task_context


@task(name="check-run-day", cache_policy=NO_CACHE)
def check_run_day(day: dt.date, what: str, campaign: str | None = None) -> dt.date:
    """`day`, if it has come in the campaign's timezone (the settings' one for a run of no
    campaign), or if a rehearsal brought the campaign; else a DateRuleError that fails the
    run before it does anything."""
    ctx = task_context()
    if campaign is None:
        return run_day(day, today_in(ctx.settings.timezone), what)
    spec = ctx.campaign(campaign).spec
    with ctx.read_session() as session:
        rehearsal = is_rehearsal(session, spec.key)
    return run_day(day, today_in(spec.timezone), what, rehearsal=rehearsal)
