"""Signing in by a one-time link (a tap on its landing page spends it), signing out, and
/health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from config.settings import get_settings
from flows.web.views import (
    event,
    page,
)
from flows.web.visit import COOKIE, visit
from models.domain.door import too_many_attempts
from models.store import audit, db
from models.store import door as store
from models.store.instant import utc_now

router = APIRouter()


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
        redeemed = store.redeem_link(session, token=token, now=now) if token else None
        if redeemed is None:
            failed = True
            store.record_failure(session, client=client, now=now)
        else:
            failed = False
            cookie = store.open_session(session, person_id=redeemed.person_id, now=now)
            code = redeemed.code
            with audit.through("web"):
                audit.append(
                    session,
                    actor=code,
                    action="web.signed-in",
                    entity="person",
                    entity_key=code,
                    payload={"client": client, "org": redeemed.org},
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
        event(v, "web.signed-out", "person", v.person.code, {"org": v.me.org_key})
