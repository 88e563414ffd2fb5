"""Words for what the engine names in codes: occurrences, counts, roles. Pure functions, so
that every Chinese output (CLI, reminders, ledgers, templates) says a thing the same way."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from models.domain.campaign import OrgVocabulary
from models.domain.inspections import CheckOutcome
from models.domain.org_import import ImportResult, Readdressed
from models.domain.permissions import FALLBACK_RESPONSIBLE_ROLES
from models.domain.planning import HalfGated
from models.domain.reminder_planning import Unreached
from models.domain.vocabulary import (
    CheckResult,
    EvidenceKind,
    ItemStatus,
    PhaseStatus,
    ReminderStatus,
    SubjectType,
)

UNIT_KIND_NAMES_ZH = {
    "district": "区",
    "town": "镇",
    "street": "街道",
    "village": "村",
    "community": "社区",
    "enterprise": "企业",
    "department": "部门",
}


def with_units_below_zh(name: str, units: int) -> str:
    """A progress table's head: 西滩镇及下级单位, or the unit's name where it is alone."""
    return f"{name}及下级单位" if units > 1 else name


def kinds_zh(kinds: Sequence[str]) -> str:
    """Unit kinds as a planner names them: [village, community] → 村、社区."""
    return "、".join(UNIT_KIND_NAMES_ZH.get(k, k) for k in kinds)


def half_gated_zh(found: HalfGated) -> str:
    """A gate that holds back only part of an obligation, and how to hold back all of it."""
    return (
        f"“{found.title}”落在{kinds_zh(found.kinds)}上，批次只挑选{kinds_zh(found.split)}："
        f"{kinds_zh(found.outside)}的这些事项下发时就写出，不等闸门“{found.gate_name}”"
        f"（{found.gate_key}）；要它们也等闸门，把 {'、'.join(found.outside)} 加进挑选批次的"
        " select.kinds（那个批次也就从中挑选）"
    )


HOLIDAY_ZH = {
    "spring-festival": "春节前",
    "july-first": "“七一”前",
    "national-day": "国庆节前",
}
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_PART = re.compile(r"^(\d{4})-([BQH])(\d)$")
_RECHECK = "-recheck"


# what 补录 means here (`progress.is_backfilled`), where a count of them is shown
BACKFILLED_ZH = "截止之后才录入、材料日期在截止之前"

# a late item its unit has reported: what holds it now is the signature above
AWAITING_SIGNATURE_ZH = "已报送待签字"


def occurrence_zh(label: str) -> str:
    """2013-W37 → 2013年第37周, 2013-09 → 2013年9月, 2014-Q1 → 2014年第1季度, once → ""."""
    if label == "once":
        return ""
    if label == "phase-end":
        return "环节末"
    if label.endswith(_RECHECK):
        base = occurrence_zh(label.removesuffix(_RECHECK)) or "抽查"
        return f"{base}复查"
    if found := _WEEK.match(label):
        return f"{found[1]}年第{int(found[2])}周"
    if found := _MONTH.match(label):
        return f"{found[1]}年{int(found[2])}月"
    if found := _PART.match(label):
        year, kind, n = found[1], found[2], int(found[3])
        if kind == "Q":
            return f"{year}年第{n}季度"
        if kind == "H":
            return f"{year}年{'上' if n == 1 else '下'}半年"
        return f"{year}年第{n}个双月（{2 * n - 1}—{2 * n}月）"
    if re.fullmatch(r"\d{4}", label):
        return f"{label}年"
    year, _, holiday = label.partition("-")
    if holiday in HOLIDAY_ZH and year.isdigit():
        return f"{year}年{HOLIDAY_ZH[holiday]}"
    return label


def occurrence_ref(label: str) -> str:
    """An occurrence in a message that a web page's reader and a command line's typist both
    act on: its words, and the label `--occurrence` takes (2026年第6个双月（11—12月，2026-B6）,
    2013年第7周（2013-W07）); nothing for a one-off item."""
    words = occurrence_zh(label)
    if not words or words == label:
        return f"（{label}）" if words else ""
    if words.endswith("）"):
        return f"{words[:-1]}，{label}）"
    return f"{words}（{label}）"


def counts_zh(counts: Mapping[str, object], names: Mapping[str, str]) -> str:
    """参加人数23，天数3: each count by its name in the campaign file."""
    return "，".join(f"{names.get(k, k)}{v}" for k, v in counts.items())


# what splits a list of roles in a cell: a workbook's 、, an organization sheet's ; and ,
_ROLE_LIST_SEPARATORS = re.compile(r"[、;；,，\s]")


def role_words(roles: Mapping[str, str]) -> dict[str, str]:
    """How each role is written in a sheet, by code: its Chinese name, which a planner knows
    and types, where the name says it alone (not blank, no other role's name or code, nothing
    that would split it in a list cell); its code otherwise. Either is read back."""
    names = {code: name.strip() for code, name in roles.items()}
    shared = Counter(names.values())
    return {
        code: name
        if name
        and shared[name] == 1
        and name not in roles
        and not _ROLE_LIST_SEPARATORS.search(name)
        else code
        for code, name in names.items()
    }


def role_zh(code: str, names: Mapping[str, str]) -> str:
    return names.get(code, code)


# A recurrence's cadence as a planner says it (the CLI, the workbook and its drop-down).
CADENCE_ZH = {
    "week": "每周",
    "month": "每月",
    "two-months": "每两个月",
    "quarter": "每季度",
    "half-year": "每半年",
    "year": "每年",
    "spring-festival": "每年春节前",
    "july-first": "每年“七一”前",
    "national-day": "每年国庆节前",
}


SUBJECT_ZH: dict[str, str] = {
    SubjectType.UNIT: "单位",
    SubjectType.PERSON: "人员",
    SubjectType.PAIRING: "结对",
}
SIGN_OFF_BY_ZH = {"supervisor": "上级单位", "same-unit": "本单位", "district": "区级"}
DEADLINE_ROLL_ZH = {
    "previous": "提前到上一个工作日",
    "next": "顺延到下一个工作日",
    "keep": "不调整",
}
INSPECTION_CADENCE_ZH = {
    "once": "一次",
    "monthly": "每月",
    "quarterly": "每季度",
    "phase-end": "环节结束时",
}
# "town" is the level below the district: towns and streets (镇、街道) alike
STRATIFY_ZH = {"town": "按镇或街道分层", "none": "不分层"}
WAVE_PER_ZH = {"town": "每个镇或街道", "district": "全区"}

# The words of each choice a campaign file offers, by the field that offers it: the plan
# workbook's drop-downs, and a refused value's message, say them alike.
CHOICE_ZH: dict[str, Mapping[str, str]] = {
    "every": CADENCE_ZH,
    "by": SIGN_OFF_BY_ZH,
    "deadline_roll": DEADLINE_ROLL_ZH,
    "cadence": INSPECTION_CADENCE_ZH,
    "stratify": STRATIFY_ZH,
    "per": WAVE_PER_ZH,
}


def obligation_zh(title: str, key: str) -> str:
    """An obligation as a message names it: the title its people know, the key they type
    (`--obligation visit`)."""
    return f"“{title}”（{key}）"


def count_need_zh(minimum: int | None) -> str:
    """What a count asks, beside its name: 至少3; a minimum of 0 is still a number to give
    (a survey that found none); no minimum, a number one may leave out."""
    if minimum is None:
        return "选填"
    return f"至少{minimum}" if minimum else "必填，可为0"


def sign_off_zh(sign_off: object, names: Mapping[str, str]) -> str:
    """Whose signature an item needs: 上级单位的组织委员."""
    by = getattr(sign_off, "by", "supervisor")
    role = getattr(sign_off, "role", "")
    return f"{SIGN_OFF_BY_ZH.get(by, by)}的{names.get(role, role)}"


# The statuses in the words the reports and the command line print.
PHASE_STATUS_ZH: dict[str, str] = {
    PhaseStatus.PENDING: "未开始",
    PhaseStatus.OPEN: "进行中",
    PhaseStatus.CLOSED: "已结束",
}
EVIDENCE_KIND_ZH: dict[str, str] = {
    EvidenceKind.SUBMISSION: "报送",
    EvidenceKind.SIGN_OFF: "签字通过",
    EvidenceKind.REJECTION: "退回",
}
STATUS_ZH: dict[str, str] = {
    ItemStatus.PENDING: "未开始",
    ItemStatus.OPEN: "待办",
    ItemStatus.SUBMITTED: "待签字",
    ItemStatus.ACCEPTED: "已完成",
    ItemStatus.REJECTED: "已退回",
    ItemStatus.CANCELLED: "已取消",
}


RESULT_ZH: dict[str | None, str] = {
    CheckResult.PASS: "通过",
    CheckResult.FAIL: "未通过",
    None: "待检查",
}


def check_outcome_zh(outcome: CheckOutcome) -> str:
    """What recording an inspection result led to, as the inspector reads it."""
    if outcome.result == CheckResult.PASS:
        return "复查通过，整改完成" if outcome.rectified else "通过"
    return f"未通过，限期整改至{outcome.rectify_by}"


# The audit trail's actions in the words a subject's history prints.
ACTIONS_ZH = {
    "evidence.accepted": "通过",
    "evidence.submitted": "提交待签",
    "evidence.counted": "提交（累计中）",
    "evidence.rejected": "退回",
    "inspection.pass": "抽查通过",
    "inspection.fail": "抽查未通过",
    "rectification.raised": "下达限期整改",
}


def late_rollout_zh(day: dt.date, ends: dt.date, overdue: int, *, day_given: bool) -> list[str]:
    """What a planner should know after rolling out on `day`: items already past their due
    date go out as overdue reminders at the next sweep, and a campaign that has ended by then
    was most likely meant to be entered for a day of its own (--as-of)."""
    notes = []
    if overdue:
        notes.append(
            f"截至 {day}，已有 {overdue} 项过了截止日期：下一次发提醒时作为逾期提醒发出"
            "（逾期够久的按提醒规则报上级）"
        )
    if ends < day and not day_given:
        notes.append(
            f"注意：本活动已于 {ends} 结束。补录过去的活动请写明日子：rollout、remind、status 用 "
            "--as-of，evidence 用 --date"
        )
    return notes


def roles_changed_zh(
    responsible: Sequence[str] | None, district: Sequence[str] | None, names: Mapping[str, str]
) -> str:
    """What an organization import changed of whom campaigns remind when they name nobody
    (empty when it changed neither): `；责任角色改为 村居书记、街道组织委员`."""
    said = [
        f"；{label}改为 {'、'.join(role_zh(r, names) for r in roles) or '（无）'}"
        for label, roles in (("责任角色", responsible), ("区级角色", district))
        if roles is not None
    ]
    return "".join(said)


UNREACHED_NAMED = 5  # units a line names; the rest are counted


def roles_either_zh(roles: Sequence[str], names: Mapping[str, str]) -> str:
    """Roles any one of which would do, first preferred first: 村居书记或街道组织委员."""
    return "或".join(role_zh(r, names) for r in roles)


def unreached_zh(
    gap: Unreached, unit_names: Sequence[str], role_names: Mapping[str, str]
) -> list[str]:
    """What a planner must mend when a campaign's reminders reach nobody: the roster or
    the organization's roles (at the next import), or the campaign's own roles (at the next
    rollout); either way the missing reminders are planned then."""

    def either(roles: Sequence[str]) -> str:
        return roles_either_zh(roles, role_names)

    lines = []
    if gap.items:
        named = "、".join(unit_names[:UNREACHED_NAMED])
        if len(unit_names) > UNREACHED_NAMED:
            named += f"等{len(unit_names)}个单位"
        lines.append(
            f"有 {gap.items} 项无人负责：{named}没有担任{either(gap.roles)}的人，这些事项不发提醒，"
            "也不在任何人的待办里。请给其负责人加上这个角色，或在组织的“组织”表写明负责单位的"
            "角色（责任角色；YAML 的 responsible_roles），再导入组织；活动文件自己写了 "
            "reminders.responsible_roles 的，改活动文件再运行 campaign rollout。"
            "漏掉的提醒随即补上"
        )
    if gap.district_roles is not None:
        lines.append(
            "逾期报区级的提醒无人接收："
            + (
                f"区级单位没有担任{either(gap.district_roles)}的人"
                if gap.district_roles
                else "组织没有指定区级角色（“组织”表的区级角色；YAML 的 district_roles）"
            )
            + "；补上后再导入组织"
        )
    return lines


def org_import_zh(
    result: ImportResult, after: Readdressed, source: str, role_names: Mapping[str, str]
) -> list[str]:
    """What an organization import did, for the command line and the Prefect UI alike:
    what it changed, what became of the reminders not yet sent, what still reaches nobody."""
    if not result.changed:
        return [f"{result.org}：{source} 与库中一致，没有变化"]
    lines = [
        f"{result.org}：已导入 {source}：单位新增 {result.units_new}、"
        f"更新 {result.units_updated}；人员新增 {result.people_new}、"
        f"更新 {result.people_updated}；结对新增 {result.pairings_new}、"
        f"更新 {result.pairings_updated}"
        + ("" if result.operators is None else f"；操作员名单 {result.operators} 人")
        + roles_changed_zh(result.responsible_roles, result.district_roles, role_names)
    ]
    return lines + readdressed_zh(after)


def default_roles_zh(org: OrgVocabulary, names: Mapping[str, str]) -> list[str]:
    """Whom an organization's campaigns remind when neither it nor they name anyone: said at
    its first import, so that a planner whose units' heads hold other roles (a street's
    组织委员) sees it before a campaign's items reach nobody."""

    def either(roles: Sequence[str]) -> str:
        return roles_either_zh(roles, names)

    responsible, district = org.default_roles()
    lines = []
    if not org.responsible_roles:
        lines.append(
            "组织没有写明责任角色（“组织”表的责任角色；YAML 的 responsible_roles）："
            + (
                f"活动没有写明的，单位的事项由本单位担任{either(responsible)}的人负责"
                "（有几个时取排在前的）；街道、部门等由别的角色负责的，请写明后再导入"
                if responsible
                else f"组织也没有{either(FALLBACK_RESPONSIBLE_ROLES)}这些默认角色，"
                "活动须写明 reminders.responsible_roles，否则校验不通过"
            )
        )
    if not org.district_roles:
        lines.append(
            "组织没有写明区级角色（“组织”表的区级角色；YAML 的 district_roles）："
            + (
                f"逾期报区级的提醒发给区级单位担任{either(district)}的人"
                if district
                else "逾期报区级的提醒无人接收，除非活动写明 reminders.district_roles"
            )
        )
    return lines


def readdressed_zh(after: Readdressed) -> list[str]:
    """What became of a campaign's reminders when whom they go to changed (an organization
    import, a campaign file naming other roles), and what still reaches nobody."""
    lines = []
    if after.retired_items:
        lines.append(
            f"已撤销的单位 {after.retired_units} 个：未完成的事项 {after.retired_items} 项已取消"
            "（已办的照旧保留）"
        )
    if after.moved or after.cancelled:
        lines.append(
            f"尚未发出的提醒：{after.moved} 条改发给现在负责的人，"
            f"{after.cancelled} 条已无人负责而取消"
        )
    if after.planned:
        lines.append(f"此前无人负责的事项：补上提醒 {after.planned} 条，下一次发提醒时发出")
    return lines + list(after.unreached)


def next_reminders_zh(at: dt.datetime, reminders: int) -> str:
    """What a sweep that sent nothing tells the planner (`at` in the campaigns' local time):
    reminders wait for their policy's hour, so a run at 07:00 sends none of 09:00's."""
    return (
        f"下一批提醒 {reminders} 条于 {at:%Y-%m-%d %H:%M} 到期，"
        "届时由每日定时任务或再次运行 campaign remind 发出"
    )


# A reminder's status as a planner reads counts of them: the status table, a sweep's summary
# in the Prefect UI and on the command line, the demo.
REMINDER_STATUS_ZH = {
    ReminderStatus.SENT: "已发送",
    ReminderStatus.PENDING: "待发送",
    ReminderStatus.SENDING: "发送中",
    ReminderStatus.SUPERSEDED: "已合并",  # said once, by another line of the same item
    ReminderStatus.CANCELLED: "已取消",
    ReminderStatus.DEAD: "停发",  # the last try failed; `campaign remind --retry-dead`
}


def sweep_zh(
    day: dt.date, *, overdue: int, counts: Mapping[str, int], totals: Mapping[str, int]
) -> list[str]:
    """What one sweep did (`counts`) and where all reminders stand (`totals`, by status):
    the Prefect UI's `reminders` artifact and `campaign remind` say the same."""
    lines = []
    if counts.get("day_off"):
        lines.append(f"{day} 是休息日，不发送提醒：到期的提醒在下一个工作日的提醒时间发出。")
    lines.append(
        f"新逾期事项 {overdue} 项；本次发送 {counts.get('sent', 0)} 条"
        f"（{counts.get('digests', 0)} 份汇总，其中督办 {counts.get('escalated', 0)} 条），"
        f"失败 {counts.get('failed', 0)} 条。"
    )
    shown = (
        ReminderStatus.SENT,
        ReminderStatus.PENDING,
        ReminderStatus.SUPERSEDED,
        ReminderStatus.CANCELLED,
        ReminderStatus.DEAD,
    )
    standing = "，".join(f"{REMINDER_STATUS_ZH[s]} {totals.get(s, 0)}" for s in shown)
    lines.append(f"累计：{standing}。")
    return lines


def wave_standing_zh(name: str, items: int, accepted: int, overdue: int) -> str:
    """A wave as a gate's approver reads it: 试点村：3项，已完成1项，逾期1项."""
    return f"{name}：{items}项，已完成{accepted}项，逾期{overdue}项"


def date_zh(day: dt.date) -> str:
    """A day in full: 2025年4月30日."""
    return f"{day.year}年{day.month}月{day.day}日"


def day_zh(day: dt.date, today: dt.date) -> str:
    """A day as a digest or a list says it: 4月30日 within the year of `today`, 2025年4月30日
    in another (last year's deadline, read this December, is not this April's)."""
    if day.year == today.year:
        return f"{day.month}月{day.day}日"
    return date_zh(day)


def windows_ahead_zh(items: int, first: dt.date, today: dt.date) -> str:
    """The recurring items a person's list leaves out because their windows have not begun."""
    return f"另有{items}项的周期尚未开始（最早{day_zh(first, today)}开始），到时列出。"


def phases_ahead_zh(items: int, first: dt.date, today: dt.date) -> str:
    """A person's items of phases not yet open, counted on an empty list."""
    return f"另有{items}项所在环节尚未开始（最早{day_zh(first, today)}开始），到时列出。"


def unread_campaign_zh(problem: str) -> str:
    """A campaign the sweep could not read: its overdue items were not marked (the other
    campaigns' reminders went out)."""
    return f"活动未能读取，其逾期事项未处理（其余活动照常发送）：{problem}"


def undelivered_zh(error: str, reminders: int) -> str:
    """One reason reminders did not go out, with how many: what a planner can act on."""
    return f"未送达：{error}（{reminders} 条）"
