"""我的待办 and an item: what it asks, what was recorded, and the form that reports it (one
record for several items that ask the same; a second tap of a form records nothing more)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from flows.web.signoff import to_sign
from flows.web.views import (
    LIST_LIMIT,
    SUBMITTABLE,
    Posted,
    RowId,
    form_with_files,
    item_of,
    item_view,
    may_see,
    my_items,
    page,
    phases_ahead,
    same_asks,
    writing_with_files,
)
from flows.web.visit import COOKIE, Visit, revisit, visit
from models.domain.campaign import Obligation
from models.domain.counts import whole_number
from models.domain.date_rules import not_after_today, read_day
from models.domain.digest import list_state
from models.domain.door import new_token, sees_units_below
from models.domain.permissions import may_submit
from models.domain.vocabulary import ItemStatus
from models.domain.wording import (
    EVIDENCE_KIND_ZH,
    STATUS_ZH,
    date_zh,
    phases_ahead_zh,
    windows_ahead_zh,
)
from models.errors import EvidenceError, NotFound, PermissionRefused
from models.store import door as store
from models.store.evidence import (
    Submission,
    store_bytes,
    submit,
)

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def todo(request: Request) -> HTMLResponse:
    with visit(request.cookies.get(COOKIE)) as v:
        mine = my_items(v)
        items = mine.now
        shown = items[:LIST_LIMIT]
        # why each sent-back item was sent back, read for the whole list at once
        reasons = store.rejection_notes(
            v.session, item_ids=[i.id for i, _ in shown if i.status == ItemStatus.REJECTED]
        )
        views = []
        for item, obligation in shown:
            view = item_view(v, item, obligation)
            view.reason = reasons.get(item.id)
            views.append(view)
        signs = len(to_sign(v))
        waiting = sum(1 for i, _ in items if i.status == ItemStatus.SUBMITTED)
        coming = [] if views else phases_ahead(v)
        return page(
            request,
            "todo.html",
            v=v,
            items=views,
            more=max(0, len(items) - LIST_LIMIT),
            # counted over the whole list, not only what is shown: a report awaiting its
            # signature is no longer the doer's to do, and the head says so apart
            waiting=waiting,
            overdue=sum(1 for i, _ in items if list_state(i.due, v.today, i.status) == "overdue"),
            ahead=windows_ahead_zh(len(mine.ahead), min(mine.ahead), v.today) if mine.ahead else "",
            signs=signs,
            below=not views
            and sees_units_below(v.org, v.person, (c.spec for c in v.campaigns().values())),
            coming=phases_ahead_zh(len(coming), min(coming), v.today) if coming else "",
        )


# --- an item -----------------------------------------------------------------------------


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: RowId) -> HTMLResponse:
    with visit(request.cookies.get(COOKIE)) as v:
        return _item_response(request, v, item_id)


def _item_response(
    request: Request,
    v: Visit,
    item_id: int,
    status: int = 200,
    errors: Iterable[str] = (),
    done: str | None = None,
    typed: FormData | None = None,
) -> HTMLResponse:
    """The item's page; `typed`: the refused form, shown again as it was filled in (on a
    phone nobody should type it all twice; files must be chosen again, browsers say so)."""
    item, obligation = item_of(v, item_id)
    if not may_see(v, item, obligation):
        raise NotFound("没有这个事项，或它不归您办理")
    loaded = v.campaign(item.campaign_key)
    can_submit = item.status in SUBMITTABLE and may_submit(
        v.org, v.person, item, loaded.spec.supervising(obligation)
    )
    history = store.item_evidence(v.session, item_id=item.id)
    replaced = {e.supersedes_id for e in history}
    names = {c.key: c.name for c in obligation.evidence.counts}
    return page(
        request,
        "item.html",
        status,
        v=v,
        item=item_view(v, item, obligation),
        obligation=obligation,
        detail=obligation.detail,
        can_submit=can_submit,
        # a new submission replaces the one awaiting its signature
        replaces=item.status == ItemStatus.SUBMITTED and obligation.submissions_needed == 1,
        also=[item_view(v, o, r) for o, r in same_asks(v, item, obligation)] if can_submit else [],
        history=[
            {
                "kind": EVIDENCE_KIND_ZH.get(e.kind, e.kind),
                "who": e.person_name,
                "dated": date_zh(e.dated),
                "note": e.note,
                "counts": "，".join(f"{names.get(k, k)}{n}" for k, n in e.counts.items()),
                "files": [f.get("name") for f in e.files],
                "replaced": e.id in replaced,
            }
            for e in history
        ],
        errors=list(errors),
        done=done,
        nonce=new_token(),
        max_mb=f"{v.settings.max_file_mb:g}",
        today=v.today.isoformat(),
        typed={k: x for k, x in (typed or {}).items() if isinstance(x, str)},
        typed_also=set(typed.getlist("also")) if typed else set(),
    )


@router.post("/items/{item_id}", response_class=HTMLResponse)
async def item_submit(request: Request, item_id: RowId) -> HTMLResponse:
    posted = await form_with_files(request, max_fields=200)
    return await run_in_threadpool(_submit, request, item_id, posted)


def _counts(form: FormData, obligation: Obligation) -> dict[str, int]:
    counts = {}
    for count in obligation.evidence.counts:
        raw = str(form.get(f"count-{count.key}") or "").strip()
        if not raw:
            continue
        try:
            counts[count.key] = whole_number(raw)
        except ValueError as wrong:
            raise EvidenceError(f"{count.name}：{wrong}") from None
    return counts


def _submit(request: Request, item_id: int, posted: Posted) -> HTMLResponse:
    form = posted.form
    try:
        with writing_with_files(request, posted) as (v, documents):
            nonce = str(form.get("nonce") or "")
            again = store.claim_form(v.session, nonce=nonce, person_id=v.person.id, now=v.now)
            if again is not None:
                outcome = again
            else:
                outcome = _record_submission(v, item_id, form, documents)
                store.set_form_outcome(v.session, nonce=nonce, outcome=outcome)
    except EvidenceError as exc:
        with visit(request.cookies.get(COOKIE)) as v:
            return _item_response(request, v, item_id, 400, errors=str(exc).split("；"), typed=form)
    with revisit(v) as fresh:
        return _item_response(request, fresh, item_id, done=outcome)


def _record_submission(
    v: Visit, item_id: int, form: FormData, documents: list[tuple[bytes, dict[str, Any]]]
) -> str:
    item, obligation = item_of(v, item_id)
    targets = [(item, obligation)]
    # ids as the page wrote them; anything else (a ², 5,000 digits) matches no offered item
    wanted = {x for x in form.getlist("also") if isinstance(x, str)}
    if wanted:
        offered = {str(o.id): (o, r) for o, r in same_asks(v, item, obligation)}
        if not wanted <= set(offered):
            raise PermissionRefused("所选事项中有不归您办理或不能合并报送的")
        targets += [offered[i] for i in sorted(wanted, key=int)]
    typed = str(form.get("dated") or "").strip()
    dated = not_after_today(read_day(typed, "办理日期") if typed else v.today, v.today, "办理日期")
    note = str(form.get("note") or "").strip() or None
    results = []
    for target, rule in targets:
        loaded = v.campaign(target.campaign_key)
        if not may_submit(v.org, v.person, target, loaded.spec.supervising(rule)):
            raise NotFound("没有这个事项，或它不归您办理")
        status = submit(
            v.session,
            org=v.org,
            item=store.checklist_item(v.session, item_id=target.id),
            obligation=rule,
            person=v.person,
            submission=Submission(_counts(form, rule), note, [m for _, m in documents], dated),
            calendar=v.calendar,
            now=v.now,
            supervising=loaded.spec.supervising(rule),
        )
        results.append(f"{rule.title}：{STATUS_ZH[status]}")
    for data, meta in documents:
        store_bytes(v.settings.home.resolve(), data, meta["name"])
    return "已报送。" + "；".join(results)
