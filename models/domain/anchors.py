"""Anchors of the audit chain: its head (events, last id, hash) at a moment, written where
the database's writer cannot rewrite it. A table re-chained after an edit holds together,
but no longer reaches an anchored hash. Optionally signed (HMAC-SHA256) with a key kept
outside the database, so that the anchor file cannot be re-forged by whoever re-chained.
Pure: lines in, lines out."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Anchor:
    events: int
    last_id: int
    last_hash: str
    at: str  # ISO 8601, UTC
    signature: str | None = None

    def body(self) -> bytes:
        return json.dumps(
            [self.events, self.last_id, self.last_hash, self.at], separators=(",", ":")
        ).encode()


def make_anchor(events: int, last_id: int, last_hash: str, now: dt.datetime,
                key: bytes | None) -> Anchor:  # fmt: skip
    plain = Anchor(events, last_id, last_hash, now.astimezone(dt.UTC).isoformat())
    if key is None:
        return plain
    return Anchor(**{**asdict(plain), "signature": _sign(plain, key)})


def _sign(anchor: Anchor, key: bytes) -> str:
    return hmac.new(key, anchor.body(), hashlib.sha256).hexdigest()


def anchor_line(anchor: Anchor) -> str:
    return json.dumps(asdict(anchor), sort_keys=True)


def read_anchors(text: str, source: str, key: bytes | None) -> list[Anchor]:
    """The anchors of a file, oldest first; ValueError naming the line that is unreadable
    or, with a key, whose signature does not match (a forged or edited anchor)."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            anchor = Anchor(**json.loads(line))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{source}:{n}: 不是锚点行（{exc}）") from None
        if key is not None:
            if anchor.signature is None:
                raise ValueError(f"{source}:{n}: 锚点没有签名")
            if not hmac.compare_digest(anchor.signature, _sign(anchor, key)):
                raise ValueError(f"{source}:{n}: 锚点的签名不符")
        out.append(anchor)
    return out
