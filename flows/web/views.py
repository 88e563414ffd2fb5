"""What the door's pages share: the page renderer, an item as a page shows it, the items a
person answers for, forms with files. Every judgement is the domain's permission rules'."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NamedTuple

from fastapi import Path as InPath
from fastapi import Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, UploadFile

from config.settings import get_settings
from flows.web.visit import COOKIE, Visit, visit
from models.domain.campaign import LoadedCampaign, Obligation
from models.domain.digest import STATE_ORDER, list_state, standing
from models.domain.door import Scope, asks_the_same, scope_of
from models.domain.permissions import may_sign, may_submit
from models.domain.planning import begun, in_window
from models.domain.vocabulary import ItemStatus, SubjectType
from models.domain.wording import STATUS_ZH, count_need_zh, date_zh, occurrence_zh, sign_off_zh
from models.errors import NotFound
from models.store import audit
from models.store import door as store
from models.store.evidence import (
    check_document,
)

# A row's id in an address: what the id columns hold (64-bit). A guessed id beyond that names
# nothing, refused as "not found" like any other (the database cannot even compare it).
ROW_ID_MAX = 2**63 - 1
RowId = Annotated[int, InPath(ge=1, le=ROW_ID_MAX)]
RowIdQuery = Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)]

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
# the templates are the installed program's: a worker does not look at their files again on
# every page (a change to them is a new release, which restarts the workers)
templates.env.auto_reload = False
templates.env.globals["count_need"] = count_need_zh
LIST_LIMIT = 100  # rows a list shows; the rest are counted (a district head answers for all)
SUBMITTABLE = (ItemStatus.OPEN, ItemStatus.REJECTED, ItemStatus.SUBMITTED)


ACTIVE = {
    "todo.html": "todo",
    "item.html": "todo",
    "sign.html": "sign",
    "checks.html": "checks",
    "gates.html": "gates",
    "progress.html": "progress",
}


def compile_templates() -> None:
    """Compile every page's template now (a worker's start) rather than at its first use:
    Jinja holds the compiled ones."""
    for name in templates.env.list_templates():
        templates.env.get_template(name)


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("v", None)
    context["active"] = ACTIVE.get(name)
    return templates.TemplateResponse(request, name, context, status_code=status)


@dataclass
class ItemView:
    id: int
    campaign: str
    phase: str
    title: str
    occurrence: str
    subject: str
    due: str
    days: str
    state: str
    status: str
    status_word: str
    window: str
    reason: str | None = None  # why it was sent back, when it was
    asks: list[str] = field(default_factory=list)


def item_view(v: Visit, item: store.DoorItem, obligation: Obligation) -> ItemView:
    loaded = v.campaign(item.campaign_key)
    phase = next((p.name for p in loaded.spec.phases if p.key == item.phase_key), "")
    today = v.today
    state, days = standing(item.due, today, v.calendar, item.status, item.completed_on)
    window = (
        f"{date_zh(item.opens_on)}至{date_zh(item.closes_on)}"
        if item.opens_on and item.closes_on
        else ""
    )
    return ItemView(
        id=item.id,
        campaign=loaded.spec.name,
        phase=phase,
        title=obligation.title,
        occurrence=occurrence_zh(item.occurrence),
        subject=v.org.subject_label(item.subject_type, item.subject_id)[1],
        due=date_zh(item.due),
        days=days,
        state=state,
        status=str(item.status),
        status_word=STATUS_ZH.get(item.status, item.status),
        window=window,
        asks=asks(v, obligation),
    )


def asks(v: Visit, obligation: Obligation) -> list[str]:
    rule = obligation.evidence
    asks = []
    if rule.note:
        asks.append("填写说明")
    for count in rule.counts:
        asks.append(f"{count.name}（{count_need_zh(count.min)}）")
    if rule.files:
        asks.append(f"附件{rule.files}份")
    if rule.sign_off:
        asks.append(f"由{sign_off_zh(rule.sign_off, v.org.role_names)}签字")
    if obligation.recurrence and obligation.recurrence.at_least > 1:
        asks.append(f"每个周期至少{obligation.recurrence.at_least}次")
    return asks


def scope(v: Visit, loaded: LoadedCampaign) -> Scope:
    return scope_of(v.org, v.person, loaded.spec.responsible_roles())


class MyItems(NamedTuple):
    now: list[tuple[store.DoorItem, Obligation]]  # what they may act on today, overdue first
    # the days the windows of the rest open: a weekly meeting's next 40 weeks would bury
    # this week's under what nobody can report yet
    ahead: list[dt.date]


def my_items(v: Visit) -> MyItems:
    """Every open item the person answers for, in every campaign, overdue first; a recurring
    item whose window has not begun is only counted."""
    today = v.today
    out = []
    ahead = []
    for key, loaded in v.campaigns().items():
        obligations = loaded.spec.obligations_by_key()
        listed = begun(
            store.items_in_scope(v.session, campaign_keys=[key], scope=scope(v, loaded)), today
        )
        ahead += listed.ahead
        for item in listed.now:
            obligation = obligations.get(item.obligation_key) or v.obligation(
                key, item.obligation_key
            )
            obligations[item.obligation_key] = obligation
            out.append((item, obligation))
    me = v.person

    def own(item: store.DoorItem) -> bool:
        """The person's own items (and their unit's) before those of the units below."""
        if item.subject_type == SubjectType.PAIRING:
            return v.org.pairings[item.subject_id].cadre_id == me.id
        if item.subject_type == SubjectType.PERSON:
            return item.subject_id == me.id
        return item.unit_id == me.unit_id

    def order(item: store.DoorItem) -> tuple[int, bool, dt.date, int]:
        # the state alone: counting every item's working days would be wasted on a sort
        state = list_state(item.due, today, item.status)
        return (STATE_ORDER[state], not own(item), item.due, item.id)

    out.sort(key=lambda p: order(p[0]))
    return MyItems(out, ahead)


def phases_ahead(v: Visit) -> list[dt.date]:
    """The days the person's items of phases not yet open can first be reported (a recurring
    one's window, else its phase's planned start). Read only for an empty list, so that
    没有待办事项 does not read as nothing to come (a village of the wave after a gate)."""
    days = []
    for key, loaded in v.campaigns().items():
        pending = store.items_in_scope(
            v.session, campaign_keys=[key], scope=scope(v, loaded), statuses=[ItemStatus.PENDING]
        )
        for item in pending:
            planned = loaded.phase_dates.get(item.phase_key)
            days.append(item.opens_on or (planned.starts if planned else item.due))
    return days


def item_of(v: Visit, item_id: int) -> tuple[store.DoorItem, Obligation]:
    item = store.door_item(v.session, item_id=item_id, org_key=v.me.org_key)
    if item is None:
        raise NotFound("没有这个事项，或它不归您办理")
    return item, v.obligation(item.campaign_key, item.obligation_key)


def may_see(v: Visit, item: store.DoorItem, obligation: Obligation) -> bool:
    loaded = v.campaign(item.campaign_key)
    if may_submit(v.org, v.person, item, loaded.spec.supervising(obligation)):
        return True
    rule = obligation.evidence.sign_off
    return rule is not None and may_sign(v.org, v.person, item, rule)


def same_asks(
    v: Visit, item: store.DoorItem, obligation: Obligation
) -> list[tuple[store.DoorItem, Obligation]]:
    """Other open items of the same subject that this one submission would answer, and
    that the person may report."""
    out = []
    for other in store.items_of_subject(
        v.session,
        campaign_keys=list(v.campaigns()),
        subject_type=item.subject_type,
        subject_id=item.subject_id,
        statuses=(ItemStatus.OPEN, ItemStatus.REJECTED),
    ):
        if other.id == item.id:
            continue
        if not in_window(v.today, other.opens_on, other.closes_on):
            continue
        rule = v.obligation(other.campaign_key, other.obligation_key)
        loaded = v.campaign(other.campaign_key)
        if asks_the_same(rule.evidence, obligation.evidence) and may_submit(
            v.org, v.person, other, loaded.spec.supervising(rule)
        ):
            out.append((other, rule))
    return out


@dataclass(frozen=True)
class Posted:
    """A form posted with files: its fields, and each file's bytes and name as sent."""

    form: FormData
    uploads: list[tuple[bytes, str]]


async def form_with_files(request: Request, max_fields: int) -> Posted:
    """The form, and each file's bytes read to one past the limit (the check refuses it)."""
    form = await request.form(max_files=10, max_fields=max_fields)
    uploads = [
        (await u.read(get_settings().max_file_bytes + 1), u.filename)
        for u in form.getlist("files")
        if isinstance(u, UploadFile) and u.filename
    ]
    return Posted(form, uploads)


def checked(uploads: list[tuple[bytes, str]]) -> list[tuple[bytes, dict[str, Any]]]:
    """Every file checked as the command line checks it, before anything is written."""
    return [check_document(data, name, get_settings().max_file_bytes) for data, name in uploads]


@contextmanager
def writing_with_files(
    request: Request, posted: Posted
) -> Iterator[tuple[Visit, list[tuple[bytes, dict[str, Any]]]]]:
    """A POST that carries files: each checked first (a refused file writes nothing), then
    the signed-in person's write visit, with the checked files and their metadata."""
    documents = checked(posted.uploads)
    with visit(request.cookies.get(COOKIE), write=True, form=posted.form) as v:
        yield v, documents


def event(v: Visit, action: str, entity: str, key: str, payload: dict[str, Any]) -> None:
    audit.append(
        v.session,
        actor=v.person.code,
        action=action,
        entity=entity,
        entity_key=key,
        payload=payload,
        now=v.now,
    )
