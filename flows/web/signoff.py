"""待我签字: submissions awaiting the signed-in person's signature; sign, or send back with a
reason. Never one's own."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from flows.web.views import (
    LIST_LIMIT,
    RowId,
    RowIdQuery,
    item_of,
    item_view,
    page,
)
from flows.web.visit import COOKIE, Visit, visit
from models.domain.campaign import Obligation
from models.domain.permissions import holds_sign_off_role, may_sign
from models.domain.vocabulary import EvidenceKind
from models.domain.wording import STATUS_ZH, date_zh
from models.errors import EvidenceError, NotFound
from models.store import door as store
from models.store.evidence import (
    latest_submitter,
    sign,
)

router = APIRouter()


def to_sign(v: Visit) -> list[tuple[store.DoorItem, Obligation]]:
    out = []
    for key, loaded in v.campaigns().items():
        rules = {
            o.key: o
            for _, o in loaded.spec.obligations()
            if holds_sign_off_role(v.person, o.evidence.sign_off)
        }
        for item in store.awaiting_sign_off(v.session, campaign_key=key, obligation_keys=rules):
            rule = rules[item.obligation_key]
            submitter = latest_submitter(v.session, item.id)
            sign_off = rule.evidence.sign_off
            if sign_off is not None and may_sign(v.org, v.person, item, sign_off, submitter):
                out.append((item, rule))
    return out


@router.get("/sign", response_class=HTMLResponse)
def sign_list(request: Request, signed: RowIdQuery = None) -> HTMLResponse:
    with visit(request.cookies.get(COOKIE)) as v:
        done = None
        if signed is not None:
            # said from the item as it stands, never from text in the address
            item, rule = item_of(v, signed)
            if rule.evidence.sign_off and may_sign(v.org, v.person, item, rule.evidence.sign_off):
                subject = v.org.subject_label(item.subject_type, item.subject_id)[1]
                done = f"{rule.title}（{subject}）：{STATUS_ZH[item.status]}"
        return _sign_response(request, v, done=done)


def _sign_response(
    request: Request, v: Visit, status: int = 200, done: str | None = None, error: str = ""
) -> HTMLResponse:
    rows = []
    for item, rule in to_sign(v)[:LIST_LIMIT]:
        latest = store.item_evidence(v.session, item_id=item.id)
        sub = next((e for e in reversed(latest) if e.kind == EvidenceKind.SUBMISSION), None)
        names = {c.key: c.name for c in rule.evidence.counts}
        rows.append(
            {
                "item": item_view(v, item, rule),
                "by": sub.person_name if sub else "",
                "note": sub.note if sub else "",
                "counts": "，".join(f"{names.get(k, k)}{n}" for k, n in sub.counts.items())
                if sub
                else "",
                "files": [f.get("name") for f in sub.files] if sub else [],
                "dated": date_zh(sub.dated) if sub else "",
            }
        )
    return page(request, "sign.html", status, v=v, rows=rows, done=done, error=error)


@router.post("/sign/{item_id}")
async def sign_item(request: Request, item_id: RowId) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    return await run_in_threadpool(_sign, request, item_id, form)


def _sign(request: Request, item_id: int, form: FormData) -> Response:
    cookie = request.cookies.get(COOKIE)
    approve = form.get("decision") == "accept"
    reason = str(form.get("reason") or "").strip() or None
    try:
        with visit(cookie, write=True, form=form) as v:
            item, obligation = item_of(v, item_id)
            rule = obligation.evidence.sign_off
            if rule is None or not may_sign(v.org, v.person, item, rule):
                raise NotFound("没有这个事项，或它不归您签字")
            sign(
                v.session,
                org=v.org,
                item=store.checklist_item(v.session, item_id=item.id),
                obligation=obligation,
                signer=v.person,
                approve=approve,
                reason=reason,
                dated=v.today,
                now=v.now,
            )
    except EvidenceError as exc:
        with visit(cookie) as v:
            return _sign_response(request, v, 400, error=str(exc))
    return RedirectResponse(f"/sign?signed={item_id}", status_code=303)
