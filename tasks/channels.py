"""Delivery through Apprise URLs, plus the channels Apprise lacks here.

Apprise's own DingTalk and WeCom plugins post to fixed hosts and treat any HTTP 200 as
success, while those robots answer 200 with a non-zero `errcode` when they refuse a message.
So robots get a sender of ours (`dingrobot(s)://`, `wecomrobot(s)://`: the robot's webhook
URL with its scheme replaced, parsed as Apprise parses URLs) that reads the errcode, and the
demo gets a `file://` channel that appends to a file. A digest goes to each in the form it
carries: robots their markdown message type within their size limit, e-mail an HTML and a
plain part, JSON webhooks every line as a field. The rest (ntfy://, ...) is Apprise's.

A sweep's digests go several at once (deliveries wait on the network), each channel within a
deadline, and are handed back for recording a chunk at a time.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import apprise
import requests
from apprise.decorators import notify
from apprise.utils.parse import parse_url

from config.org_file import PersonRow
from models.domain.digest import Delivery, Digest, Outgoing
from models.domain.door import GROUP_CHANNELS
from models.domain.reminder_planning import DueReminder

TIMEOUT = (4.0, 10.0)  # connect, read: a hung channel must not hold the sweep
_file_lock = threading.Lock()


def _robot_url(meta: dict[str, Any]) -> str:
    secure = meta["schema"].endswith("s")
    host = meta["host"] + (f":{meta['port']}" if meta.get("port") else "")
    query = f"?{urlencode(meta['qsd'])}" if meta.get("qsd") else ""
    return f"{'https' if secure else 'http'}://{host}{meta.get('fullpath') or '/'}{query}"


def _post_robot(payload: dict[str, Any], meta: dict[str, Any]) -> bool:
    try:
        response = requests.post(
            _robot_url(meta),
            data=robot_body(payload),
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=TIMEOUT,
        )
    except requests.RequestException:
        return False
    if response.status_code != 200:
        return False
    try:
        return int(response.json().get("errcode", 0)) == 0
    except (ValueError, AttributeError, TypeError):
        return False


def _path_of(meta: dict[str, Any]) -> Path:
    """A file:// URL's path, as Apprise parsed it (file:///abs/path: no host)."""
    if meta.get("host") in ("", None, "localhost"):
        return Path(meta.get("fullpath") or "")
    return Path("/" + (meta.get("host") or "") + (meta.get("fullpath") or ""))


def _home() -> Path:
    from config.settings import get_settings

    return get_settings().home.resolve()


@notify(on="file", name="Campaign file channel")
def _file(
    body: str, title: str, notify_type: str, meta: dict[str, Any], *args: Any, **kwargs: Any
) -> bool:
    path = _path_of(meta)
    if not path.resolve().is_relative_to(_home()):  # deliver() refuses it first; this holds
        return False  # for a caller of Apprise that did not
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


# What each robot can carry, UTF-8 bytes. WeCom's group robot refuses markdown content over
# 4,096 bytes (errcode 40058, "markdown.content exceed max length 4096"); DingTalk's custom
# robot a request body over 20,000 bytes (errcode 460101, "body 大小不合法 … 请保持大小在
# 20000bytes 以内"), title and JSON included. Apprise's plugins set neither (both inherit the
# generic 32,768), so these are ours. Bodies are sent as UTF-8 JSON, not \u-escaped (which
# would double a Chinese text's size on the wire).
WECOM_MARKDOWN_MAX_BYTES = 4096
DINGTALK_BODY_MAX_BYTES = 20000
ROBOTS = GROUP_CHANNELS  # the group robots get a sender of ours


def robot_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def robot_payloads(scheme: str, digest: Digest) -> list[dict[str, Any]]:
    """A robot's markdown messages for a digest, each within its limit, cut between lines."""
    if scheme.removesuffix("s") == "wecomrobot":
        return [
            {"msgtype": "markdown", "markdown": {"content": part}}
            for part in digest.markdown_parts(WECOM_MARKDOWN_MAX_BYTES)
        ]
    # DingTalk shows markdown.title in the chat list only: the text repeats it as a heading.
    # Its limit is on the whole body: what the envelope takes (with room for escapes) is
    # left out of the text's share.
    envelope = len(robot_body({"msgtype": "markdown", "markdown": {"title": digest.title,
                                                                   "text": ""}}))  # fmt: skip
    share = (DINGTALK_BODY_MAX_BYTES - envelope) * 9 // 10
    return [
        {"msgtype": "markdown", "markdown": {"title": digest.title, "text": part}}
        for part in digest.markdown_parts(share)
    ]


def _post_json(url: str, payload: dict[str, Any]) -> bool:
    """A JSON webhook (json:// or jsons://, as Apprise writes them): the digest's fields and
    lines, beside Apprise's own version/title/message/type. Apprise's JSON plugin can only
    add fixed strings to its payload, not the lines."""
    parsed = urlsplit(url)
    scheme = "https" if parsed.scheme == "jsons" else "http"
    target = urlunsplit((scheme, parsed.netloc, parsed.path or "/", parsed.query, ""))
    try:
        response = requests.post(target, json=payload, timeout=TIMEOUT)
    except requests.RequestException:
        return False
    return 200 <= response.status_code < 300


def file_channel_refusal(url: str) -> str | None:
    """Why a file:// channel may not be written, if so: only files inside CAMPAIGN_HOME (a
    person's channel, taken from an organization file, must not append to ~/.bashrc)."""
    home = _home()
    target = _path_of(parse_url(url, verify_host=False) or {}).resolve()
    if not target.is_relative_to(home):
        return f"文件渠道不在 CAMPAIGN_HOME（{home}）之内：{target}"
    if url.endswith("/") or target.is_dir():  # each digest is a line appended to one file
        return f"文件渠道是文件夹，应写到一个文件，如 file://{target}/提醒.jsonl"
    return None


def host_refusal(url: str) -> str | None:
    """Why a channel's host may not be reached, if so: a person's channel comes from an
    organization file, and must not make the sweep post digests to any host it names."""
    from config.settings import get_settings

    host = (urlsplit(url).hostname or "").lower()
    allowed = get_settings().allowed_channel_hosts
    if host not in allowed:
        return f"渠道主机 {host or '（无）'} 不在允许之列（CAMPAIGN_CHANNEL_HOSTS）"
    return None


class Vetted(NamedTuple):
    refusal: str | None  # why no digest can go there, if none can
    sender: Any = None  # Apprise's sender for a channel Apprise sends to, built once


def vet_channel(url: str) -> Vetted:
    """Whether a digest can go to a channel: not to a file outside CAMPAIGN_HOME, a host not
    allowed, an address no sender takes (`mailto://name@host` without a recipient). What
    `deliver` refuses before trying, and what an organization import warns of, so that a
    mistyped channel is mended when it is imported, not found dead at the first sweep."""
    scheme = url.split("://", 1)[0].lower()
    refusal = file_channel_refusal(url) if scheme == "file" else host_refusal(url)
    if refusal:
        return Vetted(refusal)
    sender = None
    if scheme.removesuffix("s") in ROBOTS:
        usable = bool((parse_url(url, verify_host=True) or {}).get("host"))
    elif scheme in ("json", "jsons"):
        usable = bool(urlsplit(url).hostname)
    else:
        sender = apprise.Apprise.instantiate(with_timeouts(url))
        usable = sender is not None
    return Vetted(None, sender) if usable else Vetted(f"渠道地址不可用：{scheme}://…")


def channel_refusal(url: str) -> str | None:
    """Why no digest can go to a channel, if none can (`vet_channel`)."""
    return vet_channel(url).refusal


def unusable_channels(people: Iterable[PersonRow]) -> list[str]:
    """提醒 lines for the people of an import whose channels no digest can use, each at its
    row. Said, not refused: the host allowance is a setting of the machine that sweeps."""
    lines = []
    apprise_log = logging.getLogger("apprise")
    was, apprise_log.disabled = apprise_log.disabled, True  # its own words for the same fault
    try:
        for person in people:
            for n, url in enumerate(person.channels, 1):
                if refusal := channel_refusal(url):
                    lines.append(
                        f"提醒：{person.where}: {person.name}（{person.code}）的第{n}个通知渠道"
                        f"用不了，提醒发不出去：{refusal}"
                    )
    finally:
        apprise_log.disabled = was
    return lines


def deliver(url: str, digest: Digest) -> Delivery:
    """Send one digest to one channel, in the form the channel carries best; never raises."""
    scheme = url.split("://", 1)[0].lower()
    try:
        vetted = vet_channel(url)
        if vetted.refusal:
            return Delivery(False, vetted.refusal, permanent=True)
        if scheme.removesuffix("s") in ROBOTS:
            meta = parse_url(url, verify_host=True) or {}
            meta["qsd"] = meta.get("qsd") or {}
            meta["fullpath"] = meta.get("fullpath")
            for payload in robot_payloads(scheme, digest):
                if not _post_robot(payload, meta):
                    return Delivery(False, f"{scheme} 拒绝投递")
            return Delivery(True)
        if scheme in ("json", "jsons"):
            ok = _post_json(url, digest.payload())
            return Delivery(True) if ok else Delivery(False, f"{scheme} 拒绝投递")
        sender = apprise.Apprise()
        sender.add(vetted.sender)  # the one vet_channel built: not parsed twice
        if scheme in ("mailto", "mailtos"):
            # Apprise writes an HTML body as multipart/alternative: its plain part and ours
            ok = bool(
                sender.notify(
                    title=digest.title, body=digest.html(), body_format=apprise.NotifyFormat.HTML
                )
            )
        else:
            ok = bool(sender.notify(title=digest.title, body=digest.text()))
    except Exception as exc:
        return Delivery(False, f"{type(exc).__name__}: {exc}")
    return Delivery(True) if ok else Delivery(False, f"{scheme} 拒绝投递")


# Deliveries wait on the network, so several go at once; outcomes are recorded every few
# digests, so that a sweep that dies re-sends (as uncertain) only what was in flight.
DELIVERY_THREADS = 16
RECORD_EVERY = 64
LOOKAHEAD = 2
NO_CHANNEL = "没有渠道：请填写此人的通知渠道，或设置 CAMPAIGN_NOTIFY_DEFAULT"

# (channel, what delivering to it gave), for each channel a digest went to
Outcome = list[tuple[str, Delivery]]
C = TypeVar("C", bound=DueReminder)


def deliver_digest(outgoing: Outgoing[Any], deadline: float) -> Outcome:
    """One digest's outcome on each channel that has not taken it yet, each within
    `deadline` seconds."""
    if not outgoing.channels:
        return [("", Delivery(False, NO_CHANNEL, permanent=True))]
    return [
        (channel, deliver_in_time(channel, outgoing.digest_for(channel), deadline))
        for channel in outgoing.pending_channels
    ]


def deliver_in_time(channel: str, digest: Digest, deadline: float) -> Delivery:
    """`deliver`, given up after `deadline` seconds in all (`Settings.delivery_seconds`): a
    receiver that trickles its answer a byte at a time never trips a read timeout."""
    done: list[Delivery] = []
    # a daemon thread: one still reading at the deadline is abandoned, and the process
    # may still exit (a pool's threads are joined at exit)
    worker = threading.Thread(target=lambda: done.append(deliver(channel, digest)), daemon=True)
    worker.start()
    worker.join(deadline)
    if done:
        return done[0]
    scheme = channel.split("://", 1)[0]
    return Delivery(False, f"{scheme}：{deadline:g} 秒内没有完整答复")


def deliver_all(
    outgoing: Sequence[Outgoing[C]],
    record: Callable[[list[tuple[Outgoing[C], Outcome]]], None],
    deadline: float,
) -> None:
    """Deliver every digest, handing each chunk of RECORD_EVERY to `record` with its
    outcomes, in order. The next chunks are delivered while one is recorded, but never more
    than LOOKAHEAD ahead: those are what a killed sweep re-sends."""
    chunks = iter([outgoing[i : i + RECORD_EVERY] for i in range(0, len(outgoing), RECORD_EVERY)])
    with ThreadPoolExecutor(DELIVERY_THREADS) as pool:
        in_flight: deque[tuple[Sequence[Outgoing[C]], list[Future[Outcome]]]] = deque(
            (chunk, [pool.submit(deliver_digest, d, deadline) for d in chunk])
            for chunk in islice(chunks, LOOKAHEAD)
        )
        while in_flight:
            chunk, futures = in_flight.popleft()
            outcomes = [f.result() for f in futures]
            following = next(chunks, None)
            if following is not None:
                futures = [pool.submit(deliver_digest, d, deadline) for d in following]
                in_flight.append((following, futures))
            record(list(zip(chunk, outcomes, strict=True)))
