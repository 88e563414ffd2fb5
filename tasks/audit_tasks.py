"""The daily anchor of the audit chain (when CAMPAIGN_AUDIT_ANCHOR names a file)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from config.settings import get_settings
from models.store.audit_anchor import write_anchor
from tasks.logs import task_logger


@task(name="anchor-audit-chain", cache_policy=NO_CACHE)
def anchor_audit_chain() -> str | None:
    """Append the chain's head to the anchor file; None when no file is set."""
    settings = get_settings()
    if settings.audit_anchor is None:
        return None
    line = write_anchor(settings, settings.audit_anchor)
    task_logger().info("audit chain anchored: %s", line)
    return line
