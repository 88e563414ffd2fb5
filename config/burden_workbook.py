"""The burden table as a workbook: every unit's months, and the repeated asks."""

from __future__ import annotations

from pathlib import Path

from config.workbooks import save_in_place
from models.domain.burden import Burden
from models.domain.org_snapshot import OrgSnapshot
from models.domain.wording import UNIT_KIND_NAMES_ZH

LOAD_HEADERS = ["事项", "报送", "附件", "签字", "会议"]


def write_burden_workbook(burden: Burden, org: OrgSnapshot, path: Path) -> None:
    """逐单位逐月 and 重复索要 sheets, written beside the target and moved in place."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "逐单位逐月"
    sheet.append(["单位编码", "单位", "类型", "所属镇街", "月份", *LOAD_HEADERS])
    for (unit_id, month), load in sorted(
        burden.by_unit_month.items(), key=lambda kv: (org.units[kv[0][0]].code, kv[0][1])
    ):
        unit = org.units[unit_id]
        town = org.units[unit.town_id].name if unit.town_id else ""
        sheet.append(
            [unit.code, unit.name, UNIT_KIND_NAMES_ZH.get(unit.kind, unit.kind), town, month,
             load.items, load.submissions, load.files, load.sign_offs, load.meetings]
        )  # fmt: skip
    months = book.create_sheet("各月合计")
    months.append(["月份", *LOAD_HEADERS])
    for month, load in burden.months().items():
        months.append(
            [month, load.items, load.submissions, load.files, load.sign_offs, load.meetings]
        )
    repeats = book.create_sheet("重复索要")
    repeats.append(["活动甲", "事项甲", "活动乙", "事项乙", "单位数", "可少报次数"])
    for r in burden.repeats:
        repeats.append([r.first[0], r.first[2], r.second[0], r.second[2], r.units, r.times])
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    save_in_place(path, book.save)
