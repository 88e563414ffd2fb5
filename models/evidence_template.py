"""The spreadsheet a village clerk fills in offline: the open items of their units, one row
each, and a sheet saying what each obligation asks for."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from config.evidence_sheet import SHEET, TEMPLATE_HEADERS
from models.domain.campaign import LoadedCampaign
from models.domain.org_snapshot import OrgSnapshot
from models.domain.wording import count_need_zh, sign_off_zh
from models.inert_cells import cells, inert
from models.store.tables import ChecklistItem


def write_template(
    path: Path,
    items: Sequence[ChecklistItem],
    loaded: LoadedCampaign,
    org: OrgSnapshot,
) -> int:
    """Write the template of these items; returns how many it lists."""
    spec = loaded.spec
    titles = spec.obligations_by_key()
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(list(TEMPLATE_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for item in items:
        code, name = org.subject_label(item.subject_type, item.subject_id)
        ob = titles[item.obligation_key]
        counts = ";".join(f"{c.name}=" for c in ob.evidence.counts)  # by key as well
        occurrence = "" if item.occurrence == "once" else item.occurrence
        sheet.append(
            cells([code, name, ob.key, ob.title, occurrence, item.due, None, None, None, counts])
        )
    guide = book.create_sheet("事项说明")
    guide.append(["事项", "名称", "需要说明", "计数（名称=数值，用;分隔）", "附件数", "签字"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for _, ob in spec.obligations():
        rule = ob.evidence
        guide.append(
            [
                ob.key,
                ob.title,
                "是" if rule.note else "",
                "；".join(f"{c.name}（{c.key}，{count_need_zh(c.min)}）" for c in rule.counts),
                rule.files or "",
                sign_off_zh(rule.sign_off, org.role_names) if rule.sign_off else "",
            ]
        )
    book.properties.title = spec.key  # `evidence import` reads the campaign from here
    path.parent.mkdir(parents=True, exist_ok=True)
    inert(book)  # what users typed stays text
    book.save(path)
    return len(items)
