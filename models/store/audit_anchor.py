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
        raise NotFound(f"{path}：无法读取锚点（{exc.strerror}）") from None
    try:
        return read_anchors(text, str(path), key)
    except ValueError as exc:
        raise CampaignError(str(exc)) from None


def write_anchor(config: Settings, path: Path | None) -> str:
    """Verify the chain, then append its head to `path`; the line written."""
    if path is None:
        raise CampaignError("请指明锚点文件：--to 文件 或 CAMPAIGN_AUDIT_ANCHOR")
    target = path.resolve()
    if target.is_relative_to(config.home.resolve()):
        raise CampaignError(
            f"{path}：在 CAMPAIGN_HOME 之内，能改写数据库的人也能改写它：请锚定在别处"
        )
    with db.session_for(config.resolved_database_url) as session:
        _, broken = audit.verify(session)
        if broken:
            raise CampaignError(f"审计链已断开，未锚定：{broken}")
        events, last_id, last_hash = audit.chain_position(session)
    if last_id is None:
        raise CampaignError("审计记录为空：还没有可锚定的内容")
    key = config.audit_key.encode() if config.audit_key else None
    line = anchor_line(make_anchor(events, last_id, last_hash, utc_now(), key))
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return line
