"""What one cadre's morning at the web door costs the database, counted rather than timed:
the statements each step sends and the pooled connections it takes. The same on any
machine, so the bench prints it beside its timings and a test holds it."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import NamedTuple, Protocol

import httpx
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from sqlmodel import col

from flows.web.server import create_app
from models.domain.vocabulary import ItemStatus
from models.store import db
from models.store.door import create_links
from models.store.instant import utc_now
from models.store.tables import ChecklistItem

STEPS = ("sign in", "list", "item", "submit")


class Answer(NamedTuple):
    status: int
    text: str


class Browser(Protocol):
    """What a cadre's morning needs of an HTTP client with a cookie jar of its own, which
    follows no redirect: the counted morning's is httpx on the application, the bench's a
    lighter client on the loopback."""

    async def get(self, path: str) -> Answer: ...
    async def post(self, path: str, data: dict[str, str]) -> Answer: ...


class HttpxBrowser:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str) -> Answer:
        response = await self.client.get(path)
        return Answer(response.status_code, response.text)

    async def post(self, path: str, data: dict[str, str]) -> Answer:
        response = await self.client.post(path, data=data)
        return Answer(response.status_code, response.text)


# How a morning's caller sends each step: named, so that it can time it or count it.
Step = Callable[[str, Awaitable[Answer]], Awaitable[Answer]]


class MorningFailed(Exception):
    """A step of a cadre's morning was not answered as a cadre would be."""


async def a_morning(browser: Browser, token: str, item: int, dated: str, step: Step) -> None:
    """One cadre signs in with the link's token, opens their list and the item, and reports
    it dated `dated`; each request goes through `step`."""
    signed = await step("sign in", browser.post("/login", {"t": token}))
    listing = await step("list", browser.get("/"))
    if signed.status != 303 or f'href="/items/{item}"' not in listing.text:
        raise MorningFailed(f"sign-in answered {signed.status}; list {listing.status}")
    page = await step("item", browser.get(f"/items/{item}"))
    fields = dict(re.findall(r'name="(csrf|nonce)" value="([^"]*)"', page.text))
    sent = await step(
        "submit",
        browser.post(
            f"/items/{item}",
            {**fields, "note": "入户走访，了解生活困难并登记", "dated": dated},
        ),
    )
    if sent.status != 200 or "已报送" not in sent.text:
        raise MorningFailed(f"submit answered {sent.status}: {sent.text[-300:]}")


def statements_of_a_morning(
    url: str, cadres: list[tuple[int, int]], dated: str
) -> dict[str, tuple[int, int]]:
    """(statements, pooled connections taken) of each step of a cadre's morning (sign in,
    list, item, a report dated `dated`), in this process, for the last of `cadres` (person,
    item); those before it warm the caches (the organization's snapshot, the parsed
    campaign). Their items are opened first (the bench runs this on cadres who have
    reported)."""
    with db.session_for(url) as session:
        session.execute(
            update(ChecklistItem)
            .where(col(ChecklistItem.id).in_([item for _, item in cadres]))
            .values(status=ItemStatus.OPEN, completed_on=None)
        )
        links = create_links(
            session, person_ids=[p for p, _ in cadres], purpose="printed", now=utc_now(),
            lifetime=dt.timedelta(days=1),
        )  # fmt: skip
    step = ["warm-up"]
    statements: Counter[str] = Counter()
    checkouts: Counter[str] = Counter()

    def statement(*_: object) -> None:
        statements[step[0]] += 1

    def checkout(*_: object) -> None:
        checkouts[step[0]] += 1

    async def mornings() -> None:
        app = httpx.ASGITransport(app=create_app())
        for n, (person, item) in enumerate(cadres):
            counted = n == len(cadres) - 1

            async def at(kind: str, call: Awaitable[Answer], counted: bool = counted) -> Answer:
                step[0] = kind if counted else "warm-up"
                return await call

            async with httpx.AsyncClient(transport=app, base_url="http://127.0.0.1") as client:
                await a_morning(HttpxBrowser(client), links[person], item, dated, at)

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Pool, "checkout", checkout)
    try:
        asyncio.run(mornings())
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
        event.remove(Pool, "checkout", checkout)
    return {kind: (statements[kind], checkouts[kind]) for kind in STEPS}
