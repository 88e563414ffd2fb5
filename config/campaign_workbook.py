"""A campaign as a workbook, for planners who write in Excel or WPS, and back.

One sheet per part of a campaign file, Chinese headers, Chinese words for every choice (the
codes are accepted too), date rules in a planner's words (2025年4月中旬 beside mid 2025-04), and
drop-down lists (选项 sheet) so that a planner picks kinds, roles, cadences and sign-off levels.
Reading back yields the campaign file's data; every cell it cannot read is one line
`FILE:SHEET!CELL: 中文说明`, and the checks of `campaign validate` name cells too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from config.settings import Settings
from config.workbooks import read_sheets, save_in_place
from config.yaml_lines import LoadedYaml, Loc
from models.domain.campaign import UNIT_KINDS, CampaignSpec, LoadedCampaign
from models.domain.date_rules import (
    UnreadableDateRule,
    format_rule,
    format_rule_zh,
    parse_rule,
)
from models.domain.wording import (
    CADENCE_ZH,
    DEADLINE_ROLL_ZH,
    INSPECTION_CADENCE_ZH,
    SIGN_OFF_BY_ZH,
    STRATIFY_ZH,
    UNIT_KIND_NAMES_ZH,
    WAVE_PER_ZH,
    role_words,
)
from models.errors import DateRuleError, ImportRejected

# ---------------------------------------------------------------- the words of each choice

CADENCES = CADENCE_ZH
SUBJECTS = {"units": "单位", "persons": "人员", "pairings": "结对"}
SIGN_OFF_BY = SIGN_OFF_BY_ZH
ROLLS = DEADLINE_ROLL_ZH
INSPECTION_CADENCES = INSPECTION_CADENCE_ZH
STRATIFY = STRATIFY_ZH
WAVE_PER = WAVE_PER_ZH
# what workbooks exported before the words said 街道 too wrote, still read
EARLIER_WORDS = {"按镇分层": "town", "每镇": "town"}
YES_NO = {True: "是", False: "否"}
UNIT_KIND_WORDS = {k: UNIT_KIND_NAMES_ZH[k] for k in UNIT_KINDS}
CAMPAIGN_ROW = "（全活动）"  # the 提醒 sheet's row for the campaign's own policy

# ---------------------------------------------------------------- sheets and their columns

ABOUT = "活动"
ABOUT_FIELDS = [
    ("编号", "key"),
    ("名称", "name"),
    ("组织", "organization"),
    ("时区", "timezone"),
    ("截止日遇休息日", "deadline_roll"),
    ("来源", "source"),
    ("说明", "detail"),
]
SHEETS: dict[str, list[str]] = {
    "环节": ["编号", "名称", "开始", "结束", "与其他环节并行", "说明"],
    "事项": [
        "环节",
        "编号",
        "标题",
        "对象",
        "单位类型",
        "单位标签",
        "单位代码",
        "人员角色",
        "结对类型",
        "截止",
        "周期",
        "每期至少报送",
        "周期起",
        "周期止",
        "需文字说明",
        "附件数",
        "签字角色",
        "签字层级",
        "说明",
    ],
    "计数": ["事项", "编号", "名称", "计入目标", "最少"],
    "提醒": [
        "适用",
        "提前工作日",
        "到期日提醒",
        "逾期间隔工作日",
        "逾期提醒次数",
        "逾期几个工作日报上级",
        "逾期几个工作日报区",
        "提醒时间",
        "责任角色",
        "区级角色",
    ],
    "目标": ["编号", "名称", "单位", "数值"],
    "闸门": ["编号", "名称", "审批角色", "说明"],
    "抽查": [
        "编号",
        "名称",
        "事项",
        "频次",
        "抽取比例",
        "抽取数量",
        "分层",
        "随机种子",
        "可连续抽中",
        "抽查角色",
        "整改天数",
    ],
    "分批": ["编号", "名称", "单位类型", "每", "数量", "优先标签", "环节", "闸门通过后"],
}
REQUIRED = {
    "环节": {"编号", "名称", "开始", "结束"},
    "事项": {"环节", "编号", "标题", "对象"},
    "计数": {"事项", "编号", "名称"},
    "提醒": {"适用"},
    "目标": {"编号", "名称", "数值"},
    "闸门": {"编号", "名称", "审批角色"},
    "抽查": {"编号", "名称", "事项", "频次", "抽查角色"},
    "分批": {"编号", "名称", "环节"},
}
OPTIONS = "选项"
LIST_SEP = "、"


def _join(values: Sequence[str], words: Mapping[str, str] | None = None) -> str:
    return LIST_SEP.join(words.get(v, v) if words else v for v in values)


def _rule(rule: Any) -> str | None:
    return None if rule is None else format_rule_zh(rule)


# ---------------------------------------------------------------- writing


def role_codes_of(data: dict[str, Any], roles: Mapping[str, str]) -> None:
    """Put back the codes of roles a workbook names by their Chinese names (`role_words`),
    in place; what is neither stays as written, for the checks to name."""
    codes = {word: code for code, word in role_words(roles).items()}

    def code(value: Any) -> Any:
        return codes.get(value, value) if isinstance(value, str) else value

    def codes_in(holder: Any, field: str) -> None:
        if isinstance(holder, dict) and isinstance(holder.get(field), list):
            holder[field] = [code(v) for v in holder[field]]

    def policy(holder: Any) -> None:
        if isinstance(holder, dict):
            codes_in(holder.get("reminders"), "responsible_roles")
            codes_in(holder.get("reminders"), "district_roles")

    policy(data)
    for phase in data.get("phases", []):
        for ob in phase.get("obligations", []):
            policy(ob)
            codes_in(ob.get("subject", {}).get("persons"), "roles")
            sign_off = ob.get("evidence", {}).get("sign_off")
            if isinstance(sign_off, dict) and "role" in sign_off:
                sign_off["role"] = code(sign_off["role"])
    for gate in data.get("gates", []):
        codes_in(gate, "approvers")
    for check in data.get("inspections", []):
        codes_in(check, "inspectors")


def _policy_row(applies: str, policy: Any, roles: Mapping[str, str]) -> list[Any]:
    return [
        applies,
        policy.before,
        YES_NO[policy.on_due],
        policy.overdue_every,
        policy.overdue_repeats,
        policy.escalate_after,
        policy.district_after,
        policy.at,
        _join(policy.responsible_roles or [], roles),
        _join(policy.district_roles or [], roles),
    ]


def sheet_rows(
    spec: CampaignSpec, roles: Mapping[str, str] | None = None
) -> dict[str, list[list[Any]]]:
    """Every sheet's rows (headers first), in the words a planner reads. `roles`: how each
    role is written (`role_words`); codes where not given."""
    roles = roles or {}
    about = [["项目", "内容"]]
    for label, field in ABOUT_FIELDS:
        value = getattr(spec, field)
        about.append([label, ROLLS[value] if field == "deadline_roll" else value])
    rows: dict[str, list[list[Any]]] = {ABOUT: about}
    rows.update({name: [list(headers)] for name, headers in SHEETS.items()})
    rows["提醒"].append(_policy_row(CAMPAIGN_ROW, spec.reminders, roles))
    for target in spec.targets:
        rows["目标"].append([target.key, target.name, target.unit, target.value])
    for phase in spec.phases:
        rows["环节"].append(
            [
                phase.key,
                phase.name,
                _rule(phase.start),
                _rule(phase.end),
                YES_NO[phase.parallel],
                phase.detail,
            ]
        )
        for ob in phase.obligations:
            s, r, e = ob.subject, ob.recurrence, ob.evidence
            kind = "units" if s.units else "persons" if s.persons else "pairings"
            unit_kinds = s.units.kinds if s.units else s.persons.unit_kinds if s.persons else []
            rows["事项"].append(
                [
                    phase.key,
                    ob.key,
                    ob.title,
                    SUBJECTS[kind],
                    _join(unit_kinds, UNIT_KIND_WORDS),
                    _join(s.units.tags) if s.units else None,
                    _join(s.units.codes) if s.units else None,
                    _join(s.persons.roles, roles) if s.persons else None,
                    _join(s.pairings.kinds) if s.pairings else None,
                    _rule(ob.due),
                    CADENCES[r.every] if r else None,
                    r.at_least if r else None,
                    _rule(r.from_) if r else None,
                    _rule(r.until) if r else None,
                    YES_NO[e.note],
                    e.files,
                    roles.get(e.sign_off.role, e.sign_off.role) if e.sign_off else None,
                    SIGN_OFF_BY[e.sign_off.by] if e.sign_off else None,
                    ob.detail,
                ]
            )
            for count in e.counts:
                rows["计数"].append([ob.key, count.key, count.name, count.target, count.min])
            if ob.reminders is not None:
                rows["提醒"].append(_policy_row(ob.key, ob.reminders, roles))
    for gate in spec.gates:
        rows["闸门"].append([gate.key, gate.name, _join(gate.approvers, roles), gate.detail])
    for n in spec.inspections:
        rows["抽查"].append(
            [
                n.key,
                n.name,
                n.obligation,
                INSPECTION_CADENCES[n.cadence],
                n.sample.fraction,
                n.sample.count,
                STRATIFY[n.sample.stratify],
                n.sample.seed,
                YES_NO[n.sample.repeat],
                _join(n.inspectors, roles),
                n.rectify_within,
            ]
        )
    for w in spec.waves:
        sel = w.select
        rows["分批"].append(
            [
                w.key,
                w.name,
                _join(sel.kinds, UNIT_KIND_WORDS) if sel else None,
                WAVE_PER[sel.per] if sel else None,
                sel.count if sel else None,
                _join(sel.prefer_tags) if sel else None,
                _join(w.phases),
                w.after_gate,
            ]
        )
    return rows


# Single-choice columns get a list that refuses other values; multi-valued ones (several
# kinds or roles joined by 、) a list to pick from that lets the planner type more.
_PICK_ONE = {
    ("事项", "对象"): "对象",
    ("事项", "周期"): "周期",
    ("事项", "签字角色"): "角色",
    ("事项", "签字层级"): "签字层级",
    ("事项", "需文字说明"): "是否",
    ("环节", "与其他环节并行"): "是否",
    ("提醒", "到期日提醒"): "是否",
    ("抽查", "频次"): "抽查频次",
    ("抽查", "分层"): "分层",
    ("抽查", "可连续抽中"): "是否",
    ("分批", "每"): "分批范围",
}
_PICK_SOME = {
    ("事项", "单位类型"): "单位类型",
    ("事项", "人员角色"): "角色",
    ("提醒", "责任角色"): "角色",
    ("提醒", "区级角色"): "角色",
    ("闸门", "审批角色"): "角色",
    ("抽查", "抽查角色"): "角色",
    ("分批", "单位类型"): "单位类型",
}


def write_campaign_workbook(
    spec: CampaignSpec, path: Path, roles: Mapping[str, str] | None = None
) -> None:
    """The campaign as a workbook at `path` (written beside it, then moved in place).
    `roles`: the organization's role codes and names: roles are written by name where the
    name says it alone (`role_words`), and offered in the 角色 drop-downs."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    book.remove(book.active)
    words = role_words(roles or {})
    codes = sorted(words)
    lists = {
        "对象": list(SUBJECTS.values()),
        "周期": list(CADENCES.values()),
        "角色": [words[c] for c in codes],
        "签字层级": list(SIGN_OFF_BY.values()),
        "是否": list(YES_NO.values()),
        "抽查频次": list(INSPECTION_CADENCES.values()),
        "分层": list(STRATIFY.values()),
        "分批范围": list(WAVE_PER.values()),
        "单位类型": list(UNIT_KIND_WORDS.values()),
        "截止日遇休息日": list(ROLLS.values()),
    }
    for name, rows in sheet_rows(spec, words).items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for i in range(1, len(rows[0]) + 1):
            longest = max(len(str(r[i - 1] or "")) for r in rows) if rows else 4
            sheet.column_dimensions[get_column_letter(i)].width = min(max(longest * 2, 8), 60)
            for cell in sheet[get_column_letter(i)][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    options = book.create_sheet(OPTIONS)
    ranges: dict[str, str] = {}
    for c, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(c)
        options.cell(1, c, name).font = Font(bold=True)
        for r, value in enumerate(values, start=2):
            options.cell(r, c, value)
        if name == "角色":  # the codes beside the names: a campaign file names roles by code
            options.cell(1, len(lists) + 1, "角色编码").font = Font(bold=True)
            for r, code in enumerate(codes, start=2):
                options.cell(r, len(lists) + 1, code)
        last = max(len(values), 1) + 1
        ranges[name] = f"{quote_sheetname(OPTIONS)}!${letter}$2:${letter}${last}"
    about = book[ABOUT]
    roll = DataValidation(type="list", formula1=ranges["截止日遇休息日"], allow_blank=True)
    about.add_data_validation(roll)
    roll.add(f"B{[f for _, f in ABOUT_FIELDS].index('deadline_roll') + 2}")
    for (sheet_name, header), list_name in {**_PICK_ONE, **_PICK_SOME}.items():
        sheet = book[sheet_name]
        column = get_column_letter(SHEETS[sheet_name].index(header) + 1)
        strict = (sheet_name, header) in _PICK_ONE
        check = DataValidation(
            type="list", formula1=ranges[list_name], allow_blank=True, showErrorMessage=strict
        )
        if strict:
            check.error, check.errorTitle = "请从下拉列表中选择", "无效的值"
        sheet.add_data_validation(check)
        check.add(f"{column}2:{column}500")
    save_in_place(path, book.save)


# ---------------------------------------------------------------- reading


@dataclass
class _Reader:
    """Turns cells into campaign-file data, remembering which cell each value came from."""

    path: Path
    problems: list[str]
    cells: dict[Loc, str]

    def bad(self, cell: str, message: str) -> None:
        self.problems.append(f"{self.path}:{cell}: {message}")


def _cell_ref(sheet: str, row: int, column: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{sheet}!{get_column_letter(column + 1)}{row + 1}"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Row:
    """One row of a sheet, by header."""

    def __init__(
        self,
        reader: _Reader,
        sheet: str,
        index: int,
        values: tuple[Any, ...],
        columns: dict[str, int],
    ) -> None:
        self.reader, self.sheet, self.index = reader, sheet, index
        self.values, self.columns = values, columns

    def ref(self, header: str) -> str:
        return _cell_ref(self.sheet, self.index, self.columns.get(header, 0))

    def raw(self, header: str) -> Any:
        c = self.columns.get(header)
        if c is None or c >= len(self.values) or _blank(self.values[c]):
            return None
        value = self.values[c]
        return value.strip() if isinstance(value, str) else value

    def put(
        self, target: dict[str, Any], key: str, header: str, loc: Loc, convert: Callable[[Any], Any]
    ) -> None:
        """target[key] = convert(cell), unless the cell is blank; a ValueError is a problem."""
        value = self.raw(header)
        if value is None:
            return
        try:
            target[key] = convert(value)
        except (ValueError, DateRuleError) as exc:
            self.reader.bad(self.ref(header), f"{header}：{exc}")
            return
        self.reader.cells[loc] = self.ref(header)


def _text(value: Any) -> str:
    return str(value).strip()


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"应为整数，填的是“{value}”")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"应为整数，填的是“{value}”") from None


def _float(value: Any) -> float:
    try:
        return float(str(value).strip().removesuffix("%")) / (100 if "%" in str(value) else 1)
    except ValueError:
        raise ValueError(f"应为小数（如0.2或20%），填的是“{value}”") from None


def _choice(words: Mapping[Any, str]) -> Callable[[Any], Any]:
    by_word = {
        **{w: code for w, code in EARLIER_WORDS.items() if code in words},
        **{w: code for code, w in words.items()},
    }

    def convert(value: Any) -> Any:
        if isinstance(value, bool) and value in words:
            return value
        text = str(value).strip()
        if text in by_word:
            return by_word[text]
        if text in words:
            return text
        raise ValueError(f"应为{'、'.join(words.values())}之一，填的是“{text}”")

    return convert


def _list(item: Callable[[Any], Any] = _text) -> Callable[[Any], list[Any]]:
    def convert(value: Any) -> list[Any]:
        parts = str(value).replace("，", LIST_SEP).replace(",", LIST_SEP).split(LIST_SEP)
        return [item(p.strip()) for p in parts if p.strip()]

    return convert


def _date_rule(value: Any) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime | dt.date):  # a cell typed as a date
        return value.strftime("%Y-%m-%d")
    try:
        return format_rule(parse_rule(str(value)))
    except UnreadableDateRule:
        raise ValueError(
            f"无法识别的日期“{value}”（可写2013年9月3日、2013年12月中旬、2013年12月底、"
            "2014年春节前、本环节开始后10个工作日、study环节结束后1个工作日）"
        ) from None
    # a DateRuleError (a shape it knows, but no such day or month) says itself at the cell


def _rows(reader: _Reader, sheets: dict[str, list[tuple[Any, ...]]], name: str) -> list[_Row]:
    found = sheets.get(name)
    if found is None:
        if name in ("环节", "事项"):
            reader.bad(f"{name}!A1", f"缺少工作表“{name}”")
        return []
    if not found:
        return []
    headers = [str(h).strip() if not _blank(h) else "" for h in found[0]]
    columns = {h: i for i, h in enumerate(headers) if h}
    unknown = [h for h in headers if h and h not in SHEETS[name]]
    missing = [h for h in SHEETS[name] if h in REQUIRED[name] and h not in columns]
    for h in unknown:
        reader.bad(
            _cell_ref(name, 0, headers.index(h)),
            f"不认识的列“{h}”（应为{'、'.join(SHEETS[name])}）",
        )
    for h in missing:
        reader.bad(f"{name}!A1", f"缺少列“{h}”")
    return [
        _Row(reader, name, i, values, columns)
        for i, values in enumerate(found[1:], start=1)
        if not all(_blank(v) for v in values)
    ]


def _policy(row: _Row, loc: Loc) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for header, key, convert in [
        ("提前工作日", "before", _int),
        ("到期日提醒", "on_due", _choice(YES_NO)),
        ("逾期间隔工作日", "overdue_every", _int),
        ("逾期提醒次数", "overdue_repeats", _int),
        ("逾期几个工作日报上级", "escalate_after", _int),
        ("逾期几个工作日报区", "district_after", _int),
        ("提醒时间", "at", lambda v: v.strftime("%H:%M") if hasattr(v, "strftime") else _text(v)),
        ("责任角色", "responsible_roles", _list()),
        ("区级角色", "district_roles", _list()),
    ]:
        row.put(out, key, header, (*loc, key), convert)
    return out


def read_campaign_workbook(path: Path) -> tuple[dict[str, Any], dict[Loc, str]]:
    """The campaign-file data a workbook holds, and the cell of every location in it;
    ImportRejected lists every cell it cannot read."""
    sheets = dict(read_sheets(path))
    reader = _Reader(path, [], {})
    data: dict[str, Any] = {}
    about = sheets.get(ABOUT)
    if about is None:
        reader.bad(f"{ABOUT}!A1", f"缺少工作表“{ABOUT}”")
    else:
        labels = dict(ABOUT_FIELDS)
        columns = {"项目": 0, "内容": 1}
        for i, values in enumerate(about[1:], start=1):
            if not values or _blank(values[0]):
                continue
            label = str(values[0]).strip()
            if label not in labels:
                known = "、".join(labels)
                reader.bad(_cell_ref(ABOUT, i, 0), f"不认识的项目“{label}”（应为{known}）")
                continue
            field = labels[label]
            row = _Row(reader, ABOUT, i, values, columns)
            convert = _choice(ROLLS) if field == "deadline_roll" else _text
            row.put(data, field, "内容", (field,), convert)
    phases: dict[str, dict[str, Any]] = {}
    for row in _rows(reader, sheets, "环节"):
        phase: dict[str, Any] = {"obligations": []}
        loc: Loc = ("phases", len(phases))
        reader.cells[loc] = row.ref("编号")
        row.put(phase, "key", "编号", (*loc, "key"), _text)
        row.put(phase, "name", "名称", (*loc, "name"), _text)
        row.put(phase, "start", "开始", (*loc, "start"), _date_rule)
        row.put(phase, "end", "结束", (*loc, "end"), _date_rule)
        row.put(phase, "parallel", "与其他环节并行", (*loc, "parallel"), _choice(YES_NO))
        row.put(phase, "detail", "说明", (*loc, "detail"), _text)
        phase["obligations"] = phase.pop("obligations")  # last, as a campaign file has it
        phases[phase.get("key") or f"#{row.index}"] = phase
    data["phases"] = list(phases.values())
    obligations: dict[str, dict[str, Any]] = {}
    for row in _rows(reader, sheets, "事项"):
        owner = row.raw("环节")
        if owner is None or str(owner) not in phases:
            reader.bad(row.ref("环节"), f"没有编号为“{owner}”的环节（见“环节”表）")
            continue
        p = list(phases).index(str(owner))
        phase = phases[str(owner)]
        loc = ("phases", p, "obligations", len(phase["obligations"]))
        ob: dict[str, Any] = {}
        reader.cells[loc] = row.ref("编号")
        row.put(ob, "key", "编号", (*loc, "key"), _text)
        row.put(ob, "title", "标题", (*loc, "title"), _text)
        kind: dict[str, Any] = {}
        row.put(kind, "kind", "对象", (*loc, "subject"), _choice(SUBJECTS))
        subject: dict[str, Any] = {}
        sub_loc: Loc = (*loc, "subject", kind.get("kind", "units"))
        if kind.get("kind") == "units":
            row.put(
                subject, "kinds", "单位类型", (*sub_loc, "kinds"), _list(_choice(UNIT_KIND_WORDS))
            )
            row.put(subject, "tags", "单位标签", (*sub_loc, "tags"), _list())
            row.put(subject, "codes", "单位代码", (*sub_loc, "codes"), _list())
        elif kind.get("kind") == "persons":
            row.put(subject, "roles", "人员角色", (*sub_loc, "roles"), _list())
            row.put(
                subject,
                "unit_kinds",
                "单位类型",
                (*sub_loc, "unit_kinds"),
                _list(_choice(UNIT_KIND_WORDS)),
            )
        elif kind.get("kind") == "pairings":
            row.put(subject, "kinds", "结对类型", (*sub_loc, "kinds"), _list())
        if "kind" in kind:
            ob["subject"] = {kind["kind"]: subject}
            reader.cells[sub_loc] = row.ref("对象")
        row.put(ob, "due", "截止", (*loc, "due"), _date_rule)
        recurrence: dict[str, Any] = {}
        row.put(recurrence, "every", "周期", (*loc, "recurrence", "every"), _choice(CADENCES))
        row.put(recurrence, "at_least", "每期至少报送", (*loc, "recurrence", "at_least"), _int)
        row.put(recurrence, "from", "周期起", (*loc, "recurrence", "from"), _date_rule)
        row.put(recurrence, "until", "周期止", (*loc, "recurrence", "until"), _date_rule)
        if recurrence:
            ob["recurrence"] = recurrence
            reader.cells[(*loc, "recurrence")] = row.ref("周期")
        evidence: dict[str, Any] = {}
        row.put(evidence, "note", "需文字说明", (*loc, "evidence", "note"), _choice(YES_NO))
        row.put(evidence, "files", "附件数", (*loc, "evidence", "files"), _int)
        sign: dict[str, Any] = {}
        row.put(sign, "role", "签字角色", (*loc, "evidence", "sign_off", "role"), _text)
        row.put(sign, "by", "签字层级", (*loc, "evidence", "sign_off", "by"), _choice(SIGN_OFF_BY))
        if sign:
            evidence["sign_off"] = sign
            reader.cells[(*loc, "evidence", "sign_off")] = row.ref("签字角色")
        ob["evidence"] = evidence
        reader.cells[(*loc, "evidence")] = row.ref("需文字说明")
        row.put(ob, "detail", "说明", (*loc, "detail"), _text)
        phase["obligations"].append(ob)
        obligations[str(ob.get("key"))] = ob
        ob["_loc"] = loc
    for row in _rows(reader, sheets, "计数"):
        owner = row.raw("事项")
        if owner is None or str(owner) not in obligations:
            reader.bad(row.ref("事项"), f"没有编号为“{owner}”的事项（见“事项”表）")
            continue
        ob = obligations[str(owner)]
        counts = ob["evidence"].setdefault("counts", [])
        loc = (*ob["_loc"], "evidence", "counts", len(counts))
        count: dict[str, Any] = {}
        reader.cells[loc] = row.ref("编号")
        row.put(count, "key", "编号", (*loc, "key"), _text)
        row.put(count, "name", "名称", (*loc, "name"), _text)
        row.put(count, "target", "计入目标", (*loc, "target"), _text)
        row.put(count, "min", "最少", (*loc, "min"), _int)
        counts.append(count)
    for row in _rows(reader, sheets, "提醒"):
        applies = row.raw("适用")
        if str(applies) == CAMPAIGN_ROW:
            reader.cells[("reminders",)] = row.ref("适用")
            data["reminders"] = _policy(row, ("reminders",))
        elif str(applies) in obligations:
            ob = obligations[str(applies)]
            reader.cells[(*ob["_loc"], "reminders")] = row.ref("适用")
            ob["reminders"] = _policy(row, (*ob["_loc"], "reminders"))
        else:
            reader.bad(row.ref("适用"), f"“{applies}”既不是{CAMPAIGN_ROW}也不是事项编号")
    for ob in obligations.values():
        ob.pop("_loc")
    _simple_sheets(reader, sheets, data)
    if reader.problems:
        raise ImportRejected(reader.problems)
    return data, reader.cells


# A column's place in an entry: a field, or a field of a group (抽查's sample, 分批's select).
_Path = str | tuple[str, str]


@dataclass(frozen=True)
class _Group:
    anchor: str  # the header a problem with the group as a whole points at
    always: bool  # written even when all its cells are blank, so the schema says what is missing


_SIMPLE_SHEETS: list[tuple[str, str, list[tuple[str, _Path, Callable[[Any], Any]]]]] = [
    (
        "目标",
        "targets",
        [
            ("编号", "key", _text),
            ("名称", "name", _text),
            ("单位", "unit", _text),
            ("数值", "value", _int),
        ],
    ),
    (
        "闸门",
        "gates",
        [
            ("编号", "key", _text),
            ("名称", "name", _text),
            ("审批角色", "approvers", _list()),
            ("说明", "detail", _text),
        ],
    ),
    (
        "抽查",
        "inspections",
        [
            ("编号", "key", _text),
            ("名称", "name", _text),
            ("事项", "obligation", _text),
            ("频次", "cadence", _choice(INSPECTION_CADENCES)),
            ("抽取比例", ("sample", "fraction"), _float),
            ("抽取数量", ("sample", "count"), _int),
            ("分层", ("sample", "stratify"), _choice(STRATIFY)),
            ("随机种子", ("sample", "seed"), _int),
            ("可连续抽中", ("sample", "repeat"), _choice(YES_NO)),
            ("抽查角色", "inspectors", _list()),
            ("整改天数", "rectify_within", _int),
        ],
    ),
    (
        "分批",
        "waves",
        [
            ("编号", "key", _text),
            ("名称", "name", _text),
            ("单位类型", ("select", "kinds"), _list(_choice(UNIT_KIND_WORDS))),
            ("每", ("select", "per"), _choice(WAVE_PER)),
            ("数量", ("select", "count"), _int),
            ("优先标签", ("select", "prefer_tags"), _list()),
            ("环节", "phases", _list()),
            ("闸门通过后", "after_gate", _text),
        ],
    ),
]
_GROUPS = {"sample": _Group("抽取比例", always=True), "select": _Group("单位类型", always=False)}
assert all([h for h, _, _ in columns] == SHEETS[name] for name, _, columns in _SIMPLE_SHEETS), (
    "a simple sheet is read by the headers it is written with"
)


def _simple_sheets(
    reader: _Reader, sheets: dict[str, list[tuple[Any, ...]]], data: dict[str, Any]
) -> None:
    """目标, 闸门, 抽查, 分批: one entry per row, no references between rows."""
    for name, field, columns in _SIMPLE_SHEETS:
        rows = _rows(reader, sheets, name)
        if rows:
            data[field] = []
        for row in rows:
            loc: Loc = (field, len(data[field]))
            reader.cells[loc] = row.ref("编号")
            entry: dict[str, Any] = {}
            for header, path, convert in columns:
                if isinstance(path, str):
                    row.put(entry, path, header, (*loc, path), convert)
                    continue
                group, key = path
                if group not in entry:
                    entry[group] = {}
                    reader.cells[(*loc, group)] = row.ref(_GROUPS[group].anchor)
                row.put(entry[group], key, header, (*loc, group, key), convert)
            for group, rule in _GROUPS.items():
                if group in entry and not entry[group] and not rule.always:
                    del entry[group]
                    reader.cells.pop((*loc, group))
            data[field].append(entry)


class CellLocatedYaml(LoadedYaml):
    """The workbook's data as a loaded campaign file whose problems name cells, so that the
    checks of `campaign validate` point at the cell to correct."""

    def __init__(self, path: Path, data: Any, cells: dict[Loc, str]) -> None:
        super().__init__(path, data, {})
        self.cells = cells

    def cell_of(self, loc: Sequence[str | int]) -> str:
        """FILE:SHEET!CELL of a field, or of the nearest field around it that has a cell."""
        here = tuple(loc)
        while here and here not in self.cells:
            here = here[:-1]
        return f"{self.path}:{self.cells.get(here, f'{ABOUT}!A1')}"

    def problem(self, loc: Sequence[str | int], message: str) -> str:
        return f"{self.cell_of(loc)}: 校验未通过：{message}"


def campaign_yaml(data: dict[str, Any]) -> str:
    """The data as a campaign file, fields in the schema's order."""
    import io

    from ruamel.yaml import YAML

    order = list(CampaignSpec.model_fields)
    ordered = {k: data[k] for k in order if k in data}
    ordered |= {k: v for k, v in data.items() if k not in ordered}
    yaml = YAML()  # round-trip: keeps the order given (the safe dumper sorts keys)
    yaml.allow_unicode = True
    yaml.width = 4096  # a title stays on its line
    buffer = io.StringIO()
    yaml.dump(ordered, buffer)
    return buffer.getvalue()


class FromWorkbook(NamedTuple):
    loaded: LoadedCampaign
    text: str  # as a campaign file
    cell_of: Callable[[Sequence[str | int]], str]  # where a field is: FILE:SHEET!CELL


def campaign_from_workbook(settings: Settings, path: Path) -> FromWorkbook:
    """The workbook read and checked as `campaign validate` checks a file: the campaign, its
    text as a campaign file, and where each field is. ImportRejected or SpecError name the
    cells."""
    from config.campaign_files import calendar_for, org_role_names, org_vocabulary
    from config.spec import parse_campaign

    data, cells = read_campaign_workbook(path)
    if isinstance(data.get("organization"), str):
        role_codes_of(data, org_role_names(settings, data["organization"]))
    text = campaign_yaml(data)
    located = CellLocatedYaml(path, data, cells)
    loaded = parse_campaign(
        located,
        calendar=calendar_for(settings),
        org_lookup=lambda key: org_vocabulary(settings, key),
        text=text,
    )
    return FromWorkbook(loaded, text, located.cell_of)
