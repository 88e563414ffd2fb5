"""The door's pages: sign-in, 我的待办, an item and its form, 待我签字, 进度. Each handler
reads or writes through the store and judges with the domain's permission rules, exactly as
the command line does; nothing the browser sends is trusted: ids of someone else's items
are refused as if they did not exist."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from config.settings import get_settings
from flows.web.visit import COOKIE, SignInNeeded, Visit, visit
from models.domain.campaign import LoadedCampaign, Obligation
from models.domain.digest import STATE_ORDER, STATE_WORDS, days_word, state_of
from models.domain.door import Scope, asks_the_same, new_token, scope_of, too_many_attempts
from models.domain.permissions import may_approve, may_inspect, may_sign, may_submit
from models.domain.progress import rag
from models.domain.vocabulary import ItemStatus, SubjectType
from models.domain.wording import STATUS_ZH, occurrence_zh, sign_off_zh
from models.errors import EvidenceError, NotFound, PermissionRefused
from models.store import audit, db
from models.store import door as store
from models.store.evidence import (
    Submission,
    check_document,
    latest_submitter,
    sign,
    store_bytes,
    submit,
)
from models.store.gates import latest_decisions, record_decision, reviewer_name
from models.store.inspections import record_result, samples_of
from models.store.instant import utc_now
from models.store.reminders import policy_of
from models.store.rollout import campaign_id
from models.store.unit_progress import unit_progress
from tasks.gate_tasks import resume_waiting_run

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
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


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("v", None)
    context["active"] = ACTIVE.get(name)
    return templates.TemplateResponse(request, name, context, status_code=status)


def _md(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- what the pages show -------------------------------------------------------------


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
    state_word: str
    status: str
    status_word: str
    window: str
    reason: str | None = None  # why it was sent back, when it was
    asks: list[str] = field(default_factory=list)


def _responsible(loaded: LoadedCampaign) -> set[str]:
    roles = set(loaded.spec.reminders.responsible_roles)
    for _, obligation in loaded.spec.obligations():
        roles |= set(policy_of(loaded.spec, obligation).responsible_roles)
    return roles


def _supervising(loaded: LoadedCampaign, obligation: Obligation) -> frozenset[str]:
    return frozenset(policy_of(loaded.spec, obligation).responsible_roles)


def _view(v: Visit, item: store.DoorItem, obligation: Obligation) -> ItemView:
    loaded = v.campaign(item.campaign_key)
    phase = next((p.name for p in loaded.spec.phases if p.key == item.phase_key), "")
    today = v.today
    state = state_of(item.due, today)
    window = (
        f"{_md(item.opens_on)}至{_md(item.closes_on)}" if item.opens_on and item.closes_on else ""
    )
    return ItemView(
        id=item.id,
        campaign=loaded.spec.name,
        phase=phase,
        title=obligation.title,
        occurrence=occurrence_zh(item.occurrence),
        subject=v.org.subject_label(item.subject_type, item.subject_id)[1],
        due=_md(item.due),
        days=days_word(item.due, today, v.calendar),
        state=state,
        state_word=STATE_WORDS[state],
        status=str(item.status),
        status_word=STATUS_ZH.get(item.status, item.status),
        window=window,
        asks=_asks(v, obligation),
    )


def _asks(v: Visit, obligation: Obligation) -> list[str]:
    rule = obligation.evidence
    asks = []
    if rule.note:
        asks.append("填写说明")
    for count in rule.counts:
        asks.append(f"{count.name}" + (f"（至少{count.min}）" if count.min is not None else ""))
    if rule.files:
        asks.append(f"附件{rule.files}份")
    if rule.sign_off:
        asks.append(f"由{sign_off_zh(rule.sign_off, v.org.role_names)}签字")
    if obligation.recurrence and obligation.recurrence.at_least > 1:
        asks.append(f"每个周期至少{obligation.recurrence.at_least}次")
    return asks


def _rejection(v: Visit, item_id: int) -> str | None:
    rows = store.item_evidence(v.session, item_id=item_id)
    last = rows[-1] if rows else None
    return last.note if last is not None and last.kind == "rejection" else None


def _scope(v: Visit, loaded: LoadedCampaign) -> Scope:
    return scope_of(v.org, v.person, _responsible(loaded))


def my_items(v: Visit) -> list[tuple[store.DoorItem, Obligation]]:
    """Every open item the person answers for, in every campaign, overdue first."""
    out = []
    for key, loaded in v.campaigns().items():
        obligations = {o.key: o for _, o in loaded.spec.obligations()}
        for item in store.items_in_scope(v.session, campaign_keys=[key], scope=_scope(v, loaded)):
            obligation = obligations.get(item.obligation_key) or v.obligation(
                key, item.obligation_key
            )
            obligations[item.obligation_key] = obligation
            out.append((item, obligation))
    today = v.today
    me = v.person

    def own(item: store.DoorItem) -> bool:
        """The person's own items (and their unit's) before those of the units below."""
        if item.subject_type == SubjectType.PAIRING:
            return v.org.pairings[item.subject_id].cadre_id == me.id
        if item.subject_type == SubjectType.PERSON:
            return item.subject_id == me.id
        return item.unit_id == me.unit_id

    out.sort(
        key=lambda p: (STATE_ORDER[state_of(p[0].due, today)], not own(p[0]), p[0].due, p[0].id)
    )
    return out


def _item_of(v: Visit, item_id: int) -> tuple[store.DoorItem, Obligation]:
    item = store.door_item(v.session, item_id=item_id, org_key=v.me.org_key)
    if item is None:
        raise NotFound("没有这个事项，或它不归您办理")
    return item, v.obligation(item.campaign_key, item.obligation_key)


def _may_see(v: Visit, item: store.DoorItem, obligation: Obligation) -> bool:
    loaded = v.campaign(item.campaign_key)
    if may_submit(v.org, v.person, item, _supervising(loaded, obligation)):
        return True
    rule = obligation.evidence.sign_off
    return rule is not None and may_sign(v.org, v.person, item, rule)


def _same_asks(
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
        if other.opens_on is not None and not other.opens_on <= v.today <= other.closes_on:  # type: ignore[operator]
            continue
        rule = v.obligation(other.campaign_key, other.obligation_key)
        loaded = v.campaign(other.campaign_key)
        if asks_the_same(rule.evidence, obligation.evidence) and may_submit(
            v.org, v.person, other, _supervising(loaded, rule)
        ):
            out.append((other, rule))
    return out


# --- signing in and out ----------------------------------------------------------------


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/health")
def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, t: str = "") -> HTMLResponse:
    """A link's landing page: it asks for a tap before the link is used, so that a chat
    app's preview fetching the link does not spend it."""
    return page(request, "login.html", token=t)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("t") or "")
    return await run_in_threadpool(_login, request, token)


def _login(request: Request, token: str) -> Response:
    client = _client(request)
    now = utc_now()
    url = get_settings().resolved_database_url
    with db.session_for(url) as session:
        if too_many_attempts(store.recent_failures(session, client=client, now=now)):
            return page(request, "login.html", 429, token="", error="尝试次数过多，请15分钟后再试")
        person_id = store.redeem_link(session, token=token, now=now) if token else None
        store.record_attempt(session, client=client, ok=person_id is not None, now=now)
        if person_id is None:
            failed = True
        else:
            failed = False
            cookie = store.open_session(session, person_id=person_id, now=now)
            code = store.person_code(session, person_id=person_id)
            with audit.through("web"):
                audit.append(
                    session,
                    actor=code,
                    action="web.signed-in",
                    entity="person",
                    entity_key=code,
                    payload={"client": client},
                    now=now,
                )
    if failed:
        return page(
            request,
            "login.html",
            403,
            token="",
            error="链接无效、已用过或已过期，请向组织部索取新的登录链接",
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=get_settings().door_url.startswith("https://"),
        max_age=14 * 24 * 3600,
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    await run_in_threadpool(_logout, request.cookies.get(COOKIE), form)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _logout(cookie: str | None, form: FormData) -> None:
    with visit(cookie, write=True, form=form) as v:
        store.end_session(v.session, session_id=v.me.session_id, now=v.now)
        _event(v, "web.signed-out", "person", v.person.code, {})


def _event(v: Visit, action: str, entity: str, key: str, payload: dict[str, Any]) -> None:
    audit.append(
        v.session,
        actor=v.person.code,
        action=action,
        entity=entity,
        entity_key=key,
        payload=payload,
        now=v.now,
    )


# --- 我的待办 ----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def todo(request: Request) -> HTMLResponse:
    with visit(request.cookies.get(COOKIE)) as v:
        items = my_items(v)
        views = []
        for item, obligation in items[:LIST_LIMIT]:
            view = _view(v, item, obligation)
            if item.status == ItemStatus.REJECTED:
                view.reason = _rejection(v, item.id)
            views.append(view)
        signs = len(_to_sign(v))
        return page(
            request,
            "todo.html",
            v=v,
            items=views,
            more=max(0, len(items) - LIST_LIMIT),
            overdue=sum(1 for i in views if i.state == "overdue"),
            signs=signs,
        )


# --- an item -----------------------------------------------------------------------------


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: int) -> HTMLResponse:
    with visit(request.cookies.get(COOKIE)) as v:
        return _item_response(request, v, item_id)


def _item_response(
    request: Request,
    v: Visit,
    item_id: int,
    status: int = 200,
    errors: Iterable[str] = (),
    done: str | None = None,
) -> HTMLResponse:
    item, obligation = _item_of(v, item_id)
    if not _may_see(v, item, obligation):
        raise NotFound("没有这个事项，或它不归您办理")
    loaded = v.campaign(item.campaign_key)
    can_submit = item.status in SUBMITTABLE and may_submit(
        v.org, v.person, item, _supervising(loaded, obligation)
    )
    history = store.item_evidence(v.session, item_id=item.id)
    names = {c.key: c.name for c in obligation.evidence.counts}
    return page(
        request,
        "item.html",
        status,
        v=v,
        item=_view(v, item, obligation),
        obligation=obligation,
        detail=obligation.detail,
        can_submit=can_submit,
        also=[_view(v, o, r) for o, r in _same_asks(v, item, obligation)] if can_submit else [],
        history=[
            {
                "kind": {"submission": "报送", "sign-off": "签字通过", "rejection": "退回"}.get(
                    e.kind, e.kind
                ),
                "who": e.person_name,
                "dated": _md(e.dated),
                "note": e.note,
                "counts": "，".join(f"{names.get(k, k)}{n}" for k, n in e.counts.items()),
                "files": [f.get("name") for f in e.files],
            }
            for e in history
        ],
        errors=list(errors),
        done=done,
        nonce=new_token(),
        max_mb=f"{v.settings.max_file_mb:g}",
        today=v.today.isoformat(),
    )


@router.post("/items/{item_id}", response_class=HTMLResponse)
async def item_submit(request: Request, item_id: int) -> HTMLResponse:
    form, uploads = await _form_with_files(request, max_fields=200)
    return await run_in_threadpool(_submit, request, item_id, form, uploads)


def _max_bytes() -> int:
    return int(get_settings().max_file_mb * 1_000_000)


async def _form_with_files(
    request: Request, max_fields: int
) -> tuple[FormData, list[tuple[bytes, str]]]:
    """The form, and each file's bytes read to one past the limit (the check refuses it)."""
    form = await request.form(max_files=10, max_fields=max_fields)
    uploads = [
        (await u.read(_max_bytes() + 1), u.filename)
        for u in form.getlist("files")
        if isinstance(u, UploadFile) and u.filename
    ]
    return form, uploads


def _checked(uploads: list[tuple[bytes, str]]) -> list[tuple[bytes, dict[str, Any]]]:
    """Every file checked as the command line checks it, before anything is written."""
    return [check_document(data, name, _max_bytes()) for data, name in uploads]


def _counts(form: FormData, obligation: Obligation) -> dict[str, int]:
    counts = {}
    for count in obligation.evidence.counts:
        raw = str(form.get(f"count-{count.key}") or "").strip()
        if not raw:
            continue
        if not raw.isdigit():
            raise EvidenceError(f"{count.name}：请填写不小于0的整数")
        counts[count.key] = int(raw)
    return counts


def _submit(
    request: Request, item_id: int, form: FormData, uploads: list[tuple[bytes, str]]
) -> HTMLResponse:
    cookie = request.cookies.get(COOKIE)
    try:
        documents = _checked(uploads)
        with visit(cookie, write=True, form=form) as v:
            nonce = str(form.get("nonce") or "")
            again = store.claim_form(v.session, nonce=nonce, person_id=v.person.id, now=v.now)
            if again is not None:
                outcome = again
            else:
                outcome = _record_submission(v, item_id, form, documents)
                store.set_form_outcome(v.session, nonce=nonce, outcome=outcome)
    except EvidenceError as exc:
        with visit(cookie) as v:
            return _item_response(request, v, item_id, 400, errors=str(exc).split("；"))
    with visit(cookie) as v:
        return _item_response(request, v, item_id, done=outcome)


def _record_submission(
    v: Visit, item_id: int, form: FormData, documents: list[tuple[bytes, dict[str, Any]]]
) -> str:
    item, obligation = _item_of(v, item_id)
    targets = [(item, obligation)]
    wanted = {int(x) for x in form.getlist("also") if str(x).isdigit()}
    if wanted:
        offered = {o.id: (o, r) for o, r in _same_asks(v, item, obligation)}
        if not wanted <= set(offered):
            raise PermissionRefused("所选事项中有不归您办理或不能合并报送的")
        targets += [offered[i] for i in sorted(wanted)]
    try:
        dated = dt.date.fromisoformat(str(form.get("dated") or v.today.isoformat()))
    except ValueError:
        raise EvidenceError("日期格式应为 年-月-日") from None
    if dated > v.today:
        raise EvidenceError("日期不能晚于今天")
    note = str(form.get("note") or "").strip() or None
    results = []
    for target, rule in targets:
        loaded = v.campaign(target.campaign_key)
        if not may_submit(v.org, v.person, target, _supervising(loaded, rule)):
            raise NotFound("没有这个事项，或它不归您办理")
        status = submit(
            v.session,
            org=v.org,
            item=store.checklist_item(v.session, item_id=target.id),
            obligation=rule,
            person=v.person,
            submission=Submission(_counts(form, rule), note, [m for _, m in documents], dated),
            now=v.now,
            supervising=_supervising(loaded, rule),
        )
        results.append(f"{rule.title}：{STATUS_ZH[status]}")
    for data, meta in documents:
        store_bytes(v.settings.home.resolve(), data, meta["name"])
    return "已报送。" + "；".join(results)


# --- 待我签字 ----------------------------------------------------------------------------


def _to_sign(v: Visit) -> list[tuple[store.DoorItem, Obligation]]:
    out = []
    for key, loaded in v.campaigns().items():
        rules = {
            o.key: o
            for _, o in loaded.spec.obligations()
            if o.evidence.sign_off and o.evidence.sign_off.role in v.person.roles
        }
        for item in store.awaiting_sign_off(v.session, campaign_key=key, obligation_keys=rules):
            rule = rules[item.obligation_key]
            submitter = latest_submitter(v.session, item.id)
            if may_sign(v.org, v.person, item, rule.evidence.sign_off, submitter):  # type: ignore[arg-type]
                out.append((item, rule))
    return out


@router.get("/sign", response_class=HTMLResponse)
def sign_list(request: Request, signed: int | None = None) -> HTMLResponse:
    with visit(request.cookies.get(COOKIE)) as v:
        done = None
        if signed is not None:
            # said from the item as it stands, never from text in the address
            item, rule = _item_of(v, signed)
            if rule.evidence.sign_off and may_sign(v.org, v.person, item, rule.evidence.sign_off):
                subject = v.org.subject_label(item.subject_type, item.subject_id)[1]
                done = f"{rule.title}（{subject}）：{STATUS_ZH[item.status]}"
        return _sign_response(request, v, done=done)


def _sign_response(
    request: Request, v: Visit, status: int = 200, done: str | None = None, error: str = ""
) -> HTMLResponse:
    rows = []
    for item, rule in _to_sign(v)[:LIST_LIMIT]:
        latest = store.item_evidence(v.session, item_id=item.id)
        sub = next((e for e in reversed(latest) if e.kind == "submission"), None)
        names = {c.key: c.name for c in rule.evidence.counts}
        rows.append(
            {
                "item": _view(v, item, rule),
                "by": sub.person_name if sub else "",
                "note": sub.note if sub else "",
                "counts": "，".join(f"{names.get(k, k)}{n}" for k, n in sub.counts.items())
                if sub
                else "",
                "files": [f.get("name") for f in sub.files] if sub else [],
                "dated": _md(sub.dated) if sub else "",
            }
        )
    return page(request, "sign.html", status, v=v, rows=rows, done=done, error=error)


@router.post("/sign/{item_id}")
async def sign_item(request: Request, item_id: int) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    return await run_in_threadpool(_sign, request, item_id, form)


def _sign(request: Request, item_id: int, form: FormData) -> Response:
    cookie = request.cookies.get(COOKIE)
    approve = form.get("decision") == "accept"
    reason = str(form.get("reason") or "").strip() or None
    try:
        with visit(cookie, write=True, form=form) as v:
            item, obligation = _item_of(v, item_id)
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


# --- 进度 ------------------------------------------------------------------------------


@router.get("/progress", response_class=HTMLResponse)
def progress(request: Request) -> HTMLResponse:
    """The person's own part of the tree, unit by unit, with each unit's late items: for
    those whose role answers for units (supervisors and the department)."""
    with visit(request.cookies.get(COOKIE)) as v:
        unit = v.org.units[v.person.unit_id]
        tables = []
        for loaded in v.campaigns().values():
            if not v.person.roles & _responsible(loaded):
                continue
            rows = unit_progress(v.session, loaded, v.org, unit.code, v.today)
            tables.append(
                {
                    "campaign": loaded.spec.name,
                    "rows": [{"row": r, "rag": rag(r.items, r.overdue)} for r in rows if r.items],
                }
            )
        if not tables:
            raise PermissionRefused("进度只对负责单位工作的角色开放")
        return page(request, "progress.html", v=v, tables=tables, unit=unit.name)


__all__ = ["SignInNeeded", "router"]


# --- 抽查 -------------------------------------------------------------------------------

RESULT_ZH = {"pass": "通过", "fail": "未通过", None: "待检查"}


def _inspector_campaigns(v: Visit) -> dict[str, LoadedCampaign]:
    return {
        key: loaded
        for key, loaded in v.campaigns().items()
        if any(may_inspect(v.person, i.inspectors) for i in loaded.spec.inspections)
    }


@router.get("/checks", response_class=HTMLResponse)
def checks(request: Request, recorded: int | None = None) -> HTMLResponse:
    with visit(request.cookies.get(COOKIE)) as v:
        done = None
        if recorded is not None:
            # said from the sample as it stands, never from text in the address
            found = samples_of(
                v.session, campaign_keys=sorted(_inspector_campaigns(v)), sample_id=recorded
            )
            if found and found[0].result is not None:
                subject = v.org.subject_label(found[0].subject_type, found[0].subject_id)[1]
                done = f"{subject}：{RESULT_ZH[found[0].result]}" + (
                    "，已下达限期整改" if found[0].result == "fail" else ""
                )
        return _checks_response(request, v, done=done)


def _checks_response(
    request: Request, v: Visit, status: int = 200, done: str | None = None, error: str = ""
) -> HTMLResponse:
    mine = _inspector_campaigns(v)
    rows = []
    for sample in samples_of(v.session, campaign_keys=sorted(mine)):
        loaded = mine[sample.campaign_key]
        inspection = next(i for i in loaded.spec.inspections if i.key == sample.inspection_key)
        if not may_inspect(v.person, inspection.inspectors):
            continue
        rows.append(
            {
                "id": sample.id,
                "campaign": loaded.spec.name,
                "inspection": inspection.name,
                "check": occurrence_zh(sample.label),
                "subject": v.org.subject_label(sample.subject_type, sample.subject_id)[1],
                "result": sample.result,
                "result_word": RESULT_ZH[sample.result],
                "findings": sample.findings,
            }
        )
    rows.sort(key=lambda r: (r["result"] is not None, r["campaign"], r["check"], r["subject"]))
    return page(
        request, "checks.html", status, v=v, rows=rows[:LIST_LIMIT], done=done, error=error,
        inspector=bool(mine),
    )  # fmt: skip


@router.post("/checks/{sample_id}")
async def record_check(request: Request, sample_id: int) -> Response:
    form, uploads = await _form_with_files(request, max_fields=20)
    return await run_in_threadpool(_record_check, request, sample_id, form, uploads)


def _record_check(
    request: Request, sample_id: int, form: FormData, uploads: list[tuple[bytes, str]]
) -> Response:
    cookie = request.cookies.get(COOKIE)
    try:
        documents = _checked(uploads)
        with visit(cookie, write=True, form=form) as v:
            mine = _inspector_campaigns(v)
            found = samples_of(v.session, campaign_keys=sorted(mine), sample_id=sample_id)
            if not found:
                raise NotFound("没有这个抽查对象，或它不归您检查")
            sample = found[0]
            loaded = mine[sample.campaign_key]
            record_result(
                v.session,
                loaded=loaded,
                campaign=campaign_id(v.session, sample.campaign_key),
                org=v.org,
                calendar=v.calendar,
                inspection_key=sample.inspection_key,
                label=sample.label,
                subject_type=sample.subject_type,
                subject_id=sample.subject_id,
                passed=form.get("result") == "pass",
                findings=str(form.get("findings") or "").strip() or None,
                inspector=v.person,
                dated=v.today,
                now=v.now,
                files=[meta for _, meta in documents],
            )
            for data, meta in documents:
                store_bytes(v.settings.home.resolve(), data, meta["name"])
    except EvidenceError as exc:
        with visit(cookie) as v:
            return _checks_response(request, v, 400, error=str(exc))
    return RedirectResponse(f"/checks?recorded={sample_id}", status_code=303)


# --- 闸门 -------------------------------------------------------------------------------


def _gates(v: Visit) -> list[dict[str, Any]]:
    rows = []
    for key, loaded in v.campaigns().items():
        decisions = latest_decisions(v.session, campaign_id(v.session, key))
        for gate in loaded.spec.gates:
            if not may_approve(v.person, gate):
                continue
            decision = decisions.get(gate.key)
            rows.append(
                {
                    "campaign": loaded.spec.name,
                    "key": key,
                    "gate": gate,
                    "state": "待审批"
                    if decision is None
                    else "已批准"
                    if decision.approved
                    else "已退回",
                    "open": decision is None or not decision.approved,
                    "notes": decision.notes if decision else "",
                    "by": reviewer_name(v.session, decision) if decision else "",
                }
            )
    return rows


@router.get("/gates", response_class=HTMLResponse)
def gates(request: Request, answered: str | None = None) -> HTMLResponse:
    with visit(request.cookies.get(COOKIE)) as v:
        done = None
        if answered is not None:
            done = next(
                (f"{r['gate'].name}：{r['state']}" for r in _gates(v) if r["gate"].key == answered),
                None,
            )
        return page(request, "gates.html", v=v, rows=_gates(v), done=done)


@router.post("/gates/{campaign}/{gate_key}")
async def answer_gate_page(request: Request, campaign: str, gate_key: str) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    return await run_in_threadpool(_answer_gate, request, campaign, gate_key, form)


def _answer_gate(request: Request, campaign: str, gate_key: str, form: FormData) -> Response:
    cookie = request.cookies.get(COOKIE)
    approved = form.get("decision") == "approve"
    notes = str(form.get("notes") or "").strip()
    with visit(cookie, write=True, form=form) as v:
        loaded = v.campaign(campaign)
        gate = next((g for g in loaded.spec.gates if g.key == gate_key), None)
        if gate is None or not may_approve(v.person, gate):
            raise NotFound("没有这个闸门，或它不归您审批")
        if not approved and not notes:
            return page(request, "gates.html", 400, v=v, rows=_gates(v), error="退回需要写明理由")
        reviewer = v.person.code
    # a rollout paused at the gate in Prefect takes the answer itself; else it is recorded
    # here and, when approved, the waves after the gate are rolled out in the background
    if not resume_waiting_run(campaign, gate_key, approved, reviewer, notes):
        with visit(cookie, write=True, form=form) as v:
            record_decision(
                v.session,
                campaign=campaign_id(v.session, campaign),
                gate=gate,
                person=v.person,
                approved=approved,
                notes=notes,
                now=v.now,
            )
        if approved:
            roll_out_in_background(campaign)
    return RedirectResponse(f"/gates?answered={quote(gate_key)}", status_code=303)


def roll_out_in_background(campaign: str) -> None:
    """`campaign rollout KEY` in a process of its own (it may start a temporary Prefect
    server, which a web worker must not wait for); its output goes to the log folder."""
    logs = get_settings().home.resolve() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "web-rollouts.log").open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-c", "from flows.cli.main import main; main()", "rollout", campaign],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
