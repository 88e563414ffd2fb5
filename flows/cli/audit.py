"""`campaign audit`: verify the hash chain, anchor it outside the database, show a subject's
history."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from flows.cli.app import RECORD, app, context, out, say, settings
from flows.cli.console import escape
from flows.cli.params import SubjectOption
from models.domain.org_snapshot import OrgSnapshot
from models.domain.wording import ACTIONS_ZH, occurrence_zh
from models.errors import CampaignError, NotFound
from models.store import audit
from models.store.audit_anchor import read_anchor_file, write_anchor
from models.store.orgs import load_snapshot, organizations

audit_app = typer.Typer(help="审计记录：核验审计链，查看对象的历史。")
app.add_typer(audit_app, name="audit", no_args_is_help=True, rich_help_panel=RECORD)

AnchorFile = Annotated[Path | None, typer.Option(help="同时核对审计链仍经过此文件中的每个锚点")]


@audit_app.command("verify")
def verify(anchor: AnchorFile = None) -> None:
    """逐条核验审计链：完好则退出码 0 并报核对条数，断开则退出码 1 并指出第一条断开的记录。"""
    run = context()
    items, differs = 0, None
    with run.session() as session:
        count, broken = audit.verify(session)
        anchors = read_anchor_file(anchor, run.settings) if anchor and not broken else []
        if anchors:
            broken = audit.check_anchors(session, anchors)
        if not broken:
            items, differs = audit.verify_data(session)
    if broken:
        say(f"审计链在 {count} 条完好的记录之后断开：{broken}")
        raise typer.Exit(1)
    reached = f"；{anchor} 的 {len(anchors)} 个锚点都在链上" if anchors else ""
    say(f"审计链完好：核对了 {count} 条记录{reached}")
    if differs:
        say(f"数据与审计记录不符：{differs}")
        raise typer.Exit(1)
    say(f"数据与审计记录一致：核对了 {items} 个事项")


@audit_app.command("anchor")
def anchor_command(
    to: Annotated[Path | None, typer.Option(help="锚点文件（默认 CAMPAIGN_AUDIT_ANCHOR）")] = None,
) -> None:
    """把审计链的链头（记录数、末条编号、哈希、时间）追加到 CAMPAIGN_HOME 之外的文件，
    设了 CAMPAIGN_AUDIT_KEY 时加签名：此后 `audit verify --anchor 文件` 能发现改动后
    重新接链的表。"""
    config = settings()
    line = write_anchor(config, to or config.audit_anchor)
    say(f"已锚定：{line}")


def _tables(org: OrgSnapshot) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("unit", org.unit_by_code),
        ("person", org.person_by_code),
        ("pairing", org.pairing_by_code),
    ]


@audit_app.command("show")
def show(
    subject: SubjectOption,
    campaign: Annotated[str | None, typer.Option(help="只看此活动的事项")] = None,
) -> None:
    """一个对象的历史：其事项的每次变化，按时间先后。"""
    run = context()
    zone = ZoneInfo(run.settings.timezone)
    with run.session() as session:
        if campaign:
            orgs = [run.campaign(campaign).spec.organization]
        else:
            orgs = [o.key for o in organizations(session)]
        found = [
            (kind, table[subject].id, key)
            for key in orgs
            for kind, table in _tables(load_snapshot(session, key))
            if subject in table
        ]
        if not found:
            raise NotFound(f"没有编码为 {subject} 的单位、人员或结对")
        if len(found) > 1:
            raise CampaignError(
                f"{subject} 在多个组织中（{'、'.join(f[2] for f in found)}），"
                "请用 --campaign 指明活动"
            )
        kind, sid, _ = found[0]
        items = audit.subject_items(session, kind, sid, campaign)
        events = audit.subject_history(session, list(items), (kind, sid))

    @functools.cache
    def count_names(key: str) -> dict[str, str]:
        """A campaign's counts by their Chinese names, as the people reported them."""
        spec = run.campaign(key).spec
        return {c.key: c.name for _, o in spec.obligations() for c in o.evidence.counts}

    table = Table(title=escape(f"{subject} 的记录（{len(events)}条）"), title_justify="left")
    table.add_column("时间", no_wrap=True)  # the whole day and minute, whatever is cut
    for column in ("操作人", "操作", "活动", "事项", "周期", "说明"):
        table.add_column(column, overflow="fold")  # codes and notes have no spaces to wrap at
    for event in events:
        payload = event.payload or {}
        if event.entity == "check":
            what = (
                payload.get("campaign", ""),
                f"抽查 {payload.get('inspection', '')}",
                occurrence_zh(payload.get("check", "")) or "一次",
            )
        else:
            item = items[int(event.entity_key)]
            what = (item.key, item.obligation_key, occurrence_zh(item.occurrence) or "一次")
        at = event.at.astimezone(zone)
        day = payload.get("dated") or payload.get("on")
        detail = "；".join(
            part
            for part in (
                f"{day}{'检查' if event.entity == 'check' else '办理'}"
                if day and day != at.date().isoformat()
                else "",
                payload.get("note") or payload.get("findings") or "",
                "，".join(
                    f"{count_names(what[0]).get(k, k)}={v}"
                    for k, v in (payload.get("counts") or {}).items()
                ),
                f"附件{len(payload['files'])}个" if payload.get("files") else "",
            )
            if part
        )
        table.add_row(
            at.strftime("%Y-%m-%d %H:%M"),
            escape(event.actor),
            ACTIONS_ZH.get(event.action, event.action),
            *(escape(str(w)) for w in what),
            escape(detail),
        )
    out.print(table)
