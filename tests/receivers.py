"""Real receivers on 127.0.0.1 that record what arrives: an HTTP endpoint and an SMTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class HttpReceiver:
    """mode: ok | slow | error500 | errcode | hang | trickle | flaky (the first request
    fails). Records every JSON body."""

    mode: str = "ok"
    received: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    def url(self, scheme: str = "json", path: str = "/hook") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"


@contextmanager
def http_receiver(mode: str = "ok") -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(mode)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            with lock:
                receiver.received.append(body)
            if receiver.mode == "trickle":  # an answer that never quite ends
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    for _ in range(1000):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.5)
                except OSError:
                    pass
                return
            if receiver.mode == "hang":
                time.sleep(5)
            elif receiver.mode == "slow":
                time.sleep(1.5)
            failing = receiver.mode == "error500" or (
                receiver.mode == "flaky" and len(receiver.received) == 1
            )
            status = 500 if failing else 200
            answer = (
                {"errcode": 310000, "errmsg": "keywords not in content"}
                if receiver.mode == "errcode"
                else {"errcode": 0, "errmsg": "ok"}
            )
            payload = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (the hang mode)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # a real server's backlog: 32 deliveries may come at once

    server = Server(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpReceiver:
    messages: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    def url(self, to: str = "cadre@example.org") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=noreply@example.org&to={to}&mode=insecure"


@contextmanager
def smtp_receiver() -> Iterator[SmtpReceiver]:
    from aiosmtpd.controller import Controller

    receiver = SmtpReceiver()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            message = message_from_bytes(envelope.content)
            parts = {p.get_content_type(): _text(p) for p in message.walk() if not p.is_multipart()}
            receiver.messages.append(
                {
                    "subject": str(make_header(decode_header(message["Subject"]))),
                    "to": ",".join(envelope.rcpt_tos),
                    "type": message.get_content_type(),
                    "body": parts.get("text/plain", ""),
                    "html": parts.get("text/html", ""),
                }
            )
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        receiver.port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=receiver.port)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()


def _text(part: Message) -> str:
    """A leaf part's text, its transfer encoding undone."""
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes), part.get_content_type()
    return payload.decode(part.get_content_charset() or "utf-8")
