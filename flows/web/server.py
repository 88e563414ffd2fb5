"""The web door as an ASGI application: `campaign web` serves it with uvicorn, as one or
several workers (`create_app` is the factory each worker calls)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from config.settings import get_settings
from flows.web import checks, gates, progress, signin, signoff, todo, views
from flows.web.visit import SignInNeeded, read_ahead
from models.errors import CampaignError, NotFound, PermissionRefused
from models.store import db

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

HEADERS = {
    # inline styles only; no script at all; never framed
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class BodyLimit:
    """Refuse a request body over the limit while it arrives (a chunked upload has no
    Content-Length to check first): nothing larger is spooled to disk."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send)
            return
        seen = 0

        async def counted() -> MutableMapping[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send)


_HEADER_PAIRS = [(k.encode(), v.encode()) for k, v in HEADERS.items()]


class SecurityHeaders:
    """HEADERS on every response, unless the page set its own: added to the response's
    start message as it passes (a plain ASGI wrapper: Starlette's BaseHTTPMiddleware would
    run each request through a task group and a stream)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                given = list(message.get("headers") or [])
                names = {k.lower() for k, _ in given}
                given += [(k, v) for k, v in _HEADER_PAIRS if k not in names]
                message["headers"] = given
            await send(message)

        await self.app(scope, receive, with_headers)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = "提交的内容太大：附件总量超过限制".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def _start(app: FastAPI) -> AsyncIterator[None]:
    """Request handlers run in worker threads; a few are enough on CPython (one runs at a
    time) and keep SQLite's single writer from waiting on the interpreter while it holds
    the lock, and the database pools (models/store/db.py POOL) from running dry. Before the
    worker takes a request it reads ahead what every first request would wait for; if the
    database cannot be read now, it serves anyway and the first requests read it."""
    settings = get_settings()
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = settings.web_threads
    db.queue_writers_across_processes(settings.resolved_database_url)
    views.compile_templates()
    try:
        held = await anyio.to_thread.run_sync(read_ahead)
        log.info("web worker read ahead %d organization(s)", held)
    except Exception as exc:  # whatever it is, the first request meets it again and shows it
        log.warning("web worker could not read ahead (%s); first requests will", exc)
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=_start)
    for pages in (signin, todo, signoff, checks, gates, progress):
        app.include_router(pages.router)

    @app.exception_handler(RequestValidationError)
    async def unreadable(request: Request, exc: RequestValidationError) -> Response:
        # only an address's path and query are validated here (forms are read by the pages):
        # an id that is no id, or out of range, names nothing
        return views.page(request, "error.html", 404, message="没有这个页面")

    @app.exception_handler(CampaignError)
    async def refused(request: Request, exc: CampaignError) -> Response:
        if isinstance(exc, SignInNeeded):
            if request.method == "GET":
                return RedirectResponse("/login", status_code=303)
            return views.page(request, "error.html", 401, message=str(exc))
        status = (
            404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionRefused) else 400
        )
        return views.page(request, "error.html", status, message=str(exc))

    # ten files at the size limit and the form around them
    app.add_middleware(BodyLimit, limit=settings.max_file_bytes * 10 + 1_000_000)
    app.add_middleware(SecurityHeaders)
    return app


__all__ = ["HTMLResponse", "create_app"]
