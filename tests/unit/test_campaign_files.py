"""`campaign validate` semantics: shipped files pass; broken ones fail with FILE:LINE: path."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pendulum
import pytest

from config.campaign_files import read_campaign, shipped_campaigns, shipped_org_files
from config.org_file import read_org_files
from config.orgs.synthesize import expected_files
from config.settings import get_settings
from models.errors import SpecError

D = pendulum.Date

GOOD = """\
key: test-campaign
name: 测试活动
organization: weihai-etdz
targets:
  - {key: lectures, name: 组织集中宣讲, unit: 场次, value: 10}
phases:
  - key: one
    name: 第一环节
    start: 2013-09-03
    end: 2013-09-30
    obligations:
      - key: notes
        title: 撰写心得体会
        subject: {persons: {roles: [org-cadre]}}
        evidence:
          counts: [{key: lectures, name: 宣讲场次, target: lectures}]
  - key: two
    name: 第二环节
    start: 1 working day after one.end
    end: 2013-10-31
waves:
  - key: pilot
    name: 试点
    select: {kinds: [village], per: town, count: 1}
    phases: [one]
  - key: rest
    name: 其余
    phases: [two]
    after_gate: review
gates:
  - key: review
    name: 评审
    approvers: [leading-group]
"""


def problems_of(tmp_path: Path, text: str | bytes) -> list[str]:
    path = tmp_path / "broken.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        read_campaign(get_settings(), str(path))
    return [p.removeprefix(f"{path}:") for p in caught.value.problems]


def test_the_base_file_of_these_tests_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    loaded = read_campaign(get_settings(), str(path))
    assert loaded.phase_dates["two"].starts == D(2013, 10, 8)


@pytest.mark.parametrize("path", shipped_campaigns(get_settings()), ids=lambda p: p.stem)
def test_every_shipped_campaign_is_valid(path: Path) -> None:
    loaded = read_campaign(get_settings(), str(path))
    assert loaded.spec.key == path.stem


def test_mass_line_phases_land_on_the_yearbook_dates() -> None:
    dates = read_campaign(get_settings(), "mass-line-2013").phase_dates
    assert (dates["study"].starts, dates["study"].ends) == (D(2013, 9, 3), D(2013, 9, 30))
    # Oct 1-7 were the National Day holidays: phase two opens on the 8th.
    assert (dates["criticism"].starts, dates["criticism"].ends) == (D(2013, 10, 8), D(2013, 10, 31))
    # "to mid-December": the 15th was a Sunday, the deadline rolls back to Friday the 13th.
    assert (dates["rectification"].starts, dates["rectification"].ends) == (
        D(2013, 11, 1),
        D(2013, 12, 13),
    )


def test_village_rectification_spans_november_2012_to_may_2013() -> None:
    loaded = read_campaign(get_settings(), "village-rectification-2013")
    dates = loaded.phase_dates
    assert dates["mobilization"].starts == D(2012, 11, 1)
    assert dates["village-by-village"].starts == D(2013, 1, 4)  # Jan 1-3 were holidays
    assert dates["village-by-village"].ends == D(2013, 5, 31)
    assert {t.key: t.value for t in loaded.spec.targets}["households"] == 31270
    assert (loaded.first_day, loaded.last_day) == (D(2012, 11, 1), D(2013, 5, 31))


def swap(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


BROKEN = [
    ("empty", "", "1: （整个文件）: 文件是空的，应为一个活动的映射"),
    ("only-comments", "# nothing here\n", "1: （整个文件）: 文件是空的"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00", "1: （整个文件）: 这是二进制文件"),
    ("latin-1", "key: caf\xe9\n".encode("latin-1"), "1: （整个文件）: 不是 UTF-8 编码的文本"),
    (
        "a-list",
        "- one\n- two\n",
        "1: （整个文件）: 顶层应为映射（名称: 值），而不是列表",
    ),
    ("a-string", "just words\n", "而不是文字"),
    ("bad-yaml", "key: x\nphases: [\n  {key: a\n", "YAML 格式不对"),
    ("deep-nesting", "a: " + "[" * 5000, "1: （整个文件）: 嵌套超过 64 层"),
    ("number-key", GOOD + "1: 2\n", "34: 1: 不认识的字段 1"),
    (
        "duplicate-key",
        swap("name: 测试活动\n", "name: 测试活动\nname: 再来\n"),
        '3: （整个文件）: YAML 格式不对：同一层有重复的字段（found duplicate key "name"',
    ),
    (
        "unknown-top-field",
        swap("organization:", "colour: red\norganization:"),
        "3: colour: 不认识的字段 colour（可用的有：key、name、organization",
    ),
    (
        "unknown-nested-field",
        swap("        title: 撰写心得体会", "        title: 撰写心得体会\n        owner: x"),
        "14: phases[0].obligations[0].owner: 不认识的字段 owner",
    ),
    ("missing-name", swap("name: 测试活动\n", ""), "1: name: 缺少此项（必填）"),
    (
        "wrong-type",
        swap("value: 10", "value: ten"),
        "5: targets[0].value: 应为整数，而不是 'ten'",
    ),
    (
        "sign-off-not-a-mapping",  # the role alone, where the file wants who signs and how
        swap("        evidence:\n", "        evidence:\n          sign_off: org-committee\n"),
        "16: phases[0].obligations[0].evidence.sign_off: 应为映射（可用的有：role、by），"
        "而不是 'org-committee'",
    ),
    (
        "phases-not-a-list",
        GOOD.split("phases:")[0] + "phases: soon\n",
        "6: phases: 应为列表，而不是 'soon'",
    ),
    (
        "impossible-date",
        swap("start: 2013-09-03", "start: 2013-02-30"),
        "9: phases[0].start: 不存在的日期 2013-02-30：2013-02 只有 28 天",
    ),
    (
        "unreadable-rule",
        swap("end: 2013-10-31", "end: some day in october"),
        "20: phases[1].end: 看不懂日期规则 some day in october；可写 YYYY-MM-DD",
    ),
    (
        "end-before-start",
        swap("end: 2013-09-30", "end: 2013-08-30"),
        "10: phases[0].end: 环节结束于 2013-08-30，早于开始的 2013-09-03",
    ),
    # Sept 19-21 were the Mid-Autumn holidays: a start on the 20th rolls to Sunday the 22nd,
    # a make-up working day.
    (
        "overlap",
        swap("start: 1 working day after one.end", "start: 2013-09-20"),
        "19: phases[1].start: 环节开始于 2013-09-22，不在环节 one 结束的 2013-09-30 之后",
    ),
    (
        "out-of-order",
        swap(
            "start: 1 working day after one.end\n    end: 2013-10-31",
            "start: 2013-08-01\n    end: 2013-08-20",
        ),
        "不在环节 one 结束的 2013-09-30 之后",
    ),
    (
        "unknown-phase-in-rule",
        swap("1 working day after one.end", "1 working day after three.end"),
        "19: phases[1].start: 环节 three 还没有结束日期",
    ),
    (
        "unknown-role",
        swap("roles: [org-cadre]", "roles: [astronaut]"),
        "14: phases[0].obligations[0].subject.persons.roles[0]: "
        "组织 weihai-etdz 中没有角色 astronaut",
    ),
    (
        "unknown-unit-kind",
        swap("kinds: [village]", "kinds: [villages]"),
        "24: waves[0].select.kinds[0]: 应为 district（区）、town（镇）、street（街道）、"
        "village（村）",
    ),
    (
        "per-street",  # an urban district's planner: each choice said in words
        swap("per: town", "per: street"),
        "24: waves[0].select.per: 应为 town（每个镇或街道）、district（全区） 之一，"
        "而不是 'street'",
    ),
    (
        "bad-timezone",
        swap("organization:", "timezone: Mars/Olympus\norganization:"),
        "3: timezone: 没有时区 Mars/Olympus（应如 Asia/Shanghai）",
    ),
    (
        "no-holiday-table",
        swap("end: 2013-10-31", "end: 2027-01-29"),
        "20: phases[1].end: 没有 2027 年的节假日安排",
    ),
    (
        "unknown-target",
        swap("target: lectures}", "target: speeches}"),
        "16: phases[0].obligations[0].evidence.counts[0].target: "
        "没有目标 speeches（已有：lectures）",
    ),
    (
        "unknown-gate",
        swap("after_gate: review", "after_gate: approval"),
        "29: waves[1].after_gate: 没有闸门 approval（已有：review）",
    ),
    (
        "unknown-wave-phase",
        swap("phases: [two]", "phases: [three]"),
        "28: waves[1].phases[0]: 没有环节 three",
    ),
    (
        "duplicate-phase",
        swap("  - key: two", "  - key: one"),
        "17: phases[1].key: 环节的 key one 重复",
    ),
    (
        "two-subjects",
        swap(
            "subject: {persons: {roles: [org-cadre]}}",
            "subject: {persons: {roles: [org-cadre]}, units: {kinds: [town]}}",
        ),
        "14: phases[0].obligations[0].subject: "
        "units、persons、pairings 须且只须写一个（写了 2 个）",
    ),
    (
        "due-outside-phase",
        swap("        title: 撰写心得体会", "        title: 撰写心得体会\n        due: 2013-10-15"),
        "14: phases[0].obligations[0].due: "
        "2013-10-15 不在环节 one 之内（2013-09-03 至 2013-09-30）",
    ),
    (
        "unknown-organization",
        swap("organization: weihai-etdz", "organization: atlantis"),
        "3: organization: 没有组织 atlantis：数据库中没有导入",
    ),
    (
        "unknown-approver-role",
        swap("approvers: [leading-group]", "approvers: [king]"),
        "33: gates[0].approvers[0]: 组织 weihai-etdz 中没有角色 king",
    ),
    (
        "bad-key",
        swap("key: test-campaign", "key: Test Campaign"),
        "1: key: 应为编码：小写英文字母、数字和 -，如 org-committee（中文名称写在 name、title 里）",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_files_are_rejected_with_line_and_field(
    tmp_path: Path, text: str | bytes, expected: str
) -> None:
    problems = problems_of(tmp_path, text)
    assert any(p.startswith(expected) or expected in p for p in problems), problems


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = swap("roles: [org-cadre]", "roles: [astronaut]").replace(
        "approvers: [leading-group]", "approvers: [king]"
    )
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2
    assert [p.split(":")[0] for p in problems] == ["14", "33"]


def test_the_synthetic_org_files_are_what_the_script_writes() -> None:
    for path, text in expected_files().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} differs: run python -m config.orgs.synthesize"
        )


def test_the_pairings_are_1184_cadres_with_1066_people_in_all_three_shapes() -> None:
    data = read_org_files(shipped_org_files(get_settings(), "weihai-etdz"))
    pairs = [p for p in data.pairings if p.kind == "cadre-needy"]
    per_cadre = Counter(p.cadre for p in pairs)
    per_person = Counter(p.contact for p in pairs)
    assert (len(per_cadre), len(per_person), len(pairs)) == (1184, 1066, 1224)
    assert sum(1 for n in per_person.values() if n == 2) == 158  # many-to-one
    assert sum(1 for n in per_cadre.values() if n == 2) == 40  # one-to-many
    roles = {p.code: set(p.roles) for p in data.people}
    assert all("cadre" in roles[c] for c in per_cadre)
    assert all("needy" in roles[c] for c in per_person)
    assert all(p.origin == "filled" for p in data.pairings)


def test_an_items_obligation_is_found_by_key_rectifications_included() -> None:
    # a failed check's item names a rectification, which no phase lists: `campaign todo`
    # showed its key (rectification-spot) where its title belongs
    spec = read_campaign(get_settings(), "community-and-two-new-2013").spec
    by_key = spec.obligations_by_key()
    assert by_key["party-funds"].title.startswith("按上年度职工工资总额")
    assert by_key["rectification-funds-site-check"].title == (
        "限期整改：党组织工作经费落实情况抽查（实地查看、电话回访）"
    )
    assert len(by_key) == sum(len(p.obligations) for p in spec.phases) + len(spec.inspections)


def test_two_versions_remind_alike_unless_a_policy_changed(tmp_path: Path) -> None:
    # a re-rollout looks again at whom reminders go to only when the file reminds otherwise
    def spec_of(text: str, name: str) -> object:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return read_campaign(get_settings(), str(path)).spec.policies_by_key()

    first = spec_of(GOOD, "a.yaml")
    assert spec_of(GOOD.replace("测试活动", "测试活动（改名）"), "b.yaml") == first
    roles = GOOD.replace("phases:\n", "reminders: {responsible_roles: [secretary]}\nphases:\n")
    assert spec_of(roles, "c.yaml") != first


def test_a_recurrence_from_the_holiday_a_phase_is_written_to_start_on(tmp_path: Path) -> None:
    """Written to start on National Day, the phase starts on 10-08; the monthly item counted
    from the same 10-01 is inside it, its first window October."""
    text = (
        GOOD.replace("start: 2013-09-03", "start: 2013-10-01")
        .replace("end: 2013-09-30", "end: 2013-10-31")
        .replace("start: 1 working day after one.end", "start: 2013-11-01")
        .replace("end: 2013-10-31\nwaves", "end: 2013-11-29\nwaves")
        .replace(
            "        subject: {persons: {roles: [org-cadre]}}\n",
            "        subject: {persons: {roles: [org-cadre]}}\n"
            "        recurrence: {every: month, from: 2013-10-01}\n",
        )
    )
    path = tmp_path / "national-day.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = read_campaign(get_settings(), str(path))
    assert loaded.phase_dates["one"].starts == pendulum.date(2013, 10, 8)
    with pytest.raises(SpecError) as caught:  # a day before the written start is still outside
        path.write_text(text.replace("from: 2013-10-01", "from: 2013-09-30"), encoding="utf-8")
        read_campaign(get_settings(), str(path))
    assert "2013-09-30 不在环节 one 之内" in str(caught.value.problems)
