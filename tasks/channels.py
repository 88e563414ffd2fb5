"""Delivery through Apprise URLs, plus the channels Apprise lacks here.

Apprise's own DingTalk and WeCom plugins post to fixed hosts and treat any HTTP 200 as
success, while those robots answer 200 with a non-zero `errcode` when they refuse a message.
So robots get a small Apprise plugin of ours (`dingrobot(s)://`, `wecomrobot(s)://`, the
robot's webhook URL with its scheme replaced) that reads the errcode, and the demo gets a
`file://` channel that appends to a file. Everything else (mailto://, json://, ...) is Apprise's.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import apprise
import requests
from apprise.decorators import notify

TIMEOUT = (4.0, 10.0)  # connect, read: a hung channel must not hold the sweep
_file_lock = threading.Lock()


@dataclass(frozen=True)
class Delivery:
    ok: bool
    error: str | None = None


def _robot_url(meta: dict[str, Any]) -> str:
    secure = meta["schema"].endswith("s")
    host = meta["host"] + (f":{meta['port']}" if meta.get("port") else "")
    query = f"?{urlencode(meta['qsd'])}" if meta.get("qsd") else ""
    return f"{'https' if secure else 'http'}://{host}{meta.get('fullpath') or '/'}{query}"


def _post_robot(payload: dict[str, Any], meta: dict[str, Any]) -> bool:
    try:
        response = requests.post(_robot_url(meta), json=payload, timeout=TIMEOUT)
    except requests.RequestException:
        return False
    if response.status_code != 200:
        return False
    try:
        return int(response.json().get("errcode", 0)) == 0
    except (ValueError, AttributeError, TypeError):
        return False


def _robot_text(body: str, title: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": f"{title}\n{body}" if title else body}}


for _scheme in ("dingrobot", "dingrobots", "wecomrobot", "wecomrobots"):

    @notify(on=_scheme, name=f"Campaign robot ({_scheme})")
    def _robot(
        body: str, title: str, notify_type: str, meta: dict[str, Any], *args: Any, **kwargs: Any
    ) -> bool:
        return _post_robot(_robot_text(body, title), meta)


@notify(on="file", name="Campaign file channel")
def _file(
    body: str, title: str, notify_type: str, meta: dict[str, Any], *args: Any, **kwargs: Any
) -> bool:
    path = Path("/" + (meta.get("host") or "") + (meta.get("fullpath") or ""))
    if meta.get("host") in ("", None, "localhost"):
        path = Path(meta.get("fullpath") or "")
    path.parent.mkdir(parents=True, exist_ok=True)
    record = json.dumps({"title": title, "body": body}, ensure_ascii=False)
    with _file_lock, path.open("a", encoding="utf-8") as handle:
        handle.write(record + "\n")
    return True


def with_timeouts(url: str) -> str:
    """Apprise's HTTP plugins take connect/read timeouts as URL arguments."""
    if (
        url.startswith(("json://", "jsons://", "form://", "forms://", "xml://", "xmls://"))
        and "rto=" not in url
    ):
        return url + ("&" if "?" in url else "?") + f"cto={TIMEOUT[0]:g}&rto={TIMEOUT[1]:g}"
    return url


def deliver(url: str, title: str, body: str) -> Delivery:
    """Send one message to one Apprise URL; never raises."""
    sender = apprise.Apprise()
    if not sender.add(with_timeouts(url)):
        return Delivery(False, f"not a usable channel URL: {url.split('://')[0]}://…")
    try:
        ok = sender.notify(title=title, body=body)
    except Exception as exc:
        return Delivery(False, f"{type(exc).__name__}: {exc}")
    return Delivery(True) if ok else Delivery(False, f"delivery refused by {url.split('://')[0]}")
