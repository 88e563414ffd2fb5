"""Writing and reading the audit chain's anchors (models/domain/anchors.py): the chain's head
appended to a file outside CAMPAIGN_HOME, checked against the chain by `audit verify`."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings
from models.domain.anchors import Anchor, anchor_line, make_anchor, read_anchors
from models.errors import CampaignError, NotFound
from models.store import audit, db
from models.store.instant import utc_now


def read_anchor_file(path: Path, config: Settings) -> list[Anchor]:
    key = config.audit_key.encode() if config.audit_key else None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotFound(f"{path}: cannot read the anchors ({exc.strerror})") from None
    try:
        return read_anchors(text, str(path), key)
    except ValueError as exc:
        raise CampaignError(str(exc)) from None


def write_anchor(config: Settings, path: Path | None) -> str:
    """Verify the chain, then append its head to `path`; the line written."""
    if path is None:
        raise CampaignError("say where to anchor: --to FILE or CAMPAIGN_AUDIT_ANCHOR")
    target = path.resolve()
    if target.is_relative_to(config.home.resolve()):
        raise CampaignError(
            f"{path}: inside CAMPAIGN_HOME, where whoever can rewrite the database can rewrite "
            "it too: anchor somewhere else"
        )
    with db.session_for(config.resolved_database_url) as session:
        _, broken = audit.verify(session)
        if broken:
            raise CampaignError(f"the chain is broken, nothing anchored: {broken}")
        events, last_id, last_hash = audit.chain_position(session)
    if last_id is None:
        raise CampaignError("the audit trail is empty: nothing to anchor yet")
    key = config.audit_key.encode() if config.audit_key else None
    line = anchor_line(make_anchor(events, last_id, last_hash, utc_now(), key))
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return line
