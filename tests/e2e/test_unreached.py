"""An urban district brought as three CSV sheets, with no 组织 sheet naming who answers for a
unit: its campaign's street items reach nobody, and neither does an escalation to the
district. The rollout says so and what to mend; the roster that mends it plans the reminders
that were missed, and the people they belong to see them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import assert_no_traceback, run

SHEETS = {
    "角色.csv": """编码,名称
secretary,村居书记
street-org,街道组织委员
dept-head,区委组织部部长
""",
    "单位.csv": """编码,名称,类型,上级,标签
hx,河西区,区,,
jx,江心街道,街道,河西区,
bt,北塘街道,街道,河西区,
jx-c1,江心一社区,社区,江心街道,
bt-c1,北塘一社区,社区,北塘街道,
""",
    "人员.csv": """编码,姓名,单位,角色,通知渠道
h01,周平,河西区,区委组织部部长,
s01,王芳,江心街道,街道组织委员,
s02,李娜,北塘街道,街道组织委员,
c01,赵一,江心一社区,村居书记,
c02,李四,北塘一社区,村居书记,
""",
}

CAMPAIGN = """\
key: grid-2025
name: 社区网格化党建整治
organization: hexi
phases:
  - key: build
    name: 网格建设
    start: 2025-03-03
    end: 2025-04-30
    obligations:
      - {key: plan, title: 制定整治方案, due: 2025-03-14, evidence: {note: true},
         subject: {units: {kinds: [street]}}}
      - {key: grid-map, title: 划分网格并报送网格图, due: 2025-03-31, evidence: {note: true},
         subject: {units: {kinds: [community]}}}
"""

MEND = """\
key: hexi
name: 河西区
responsible_roles: [secretary, street-org]
district_roles: [dept-head]
"""


def _their_district(tmp_path: Path, campaign_text: str) -> Path:
    """The sheets imported; the campaign file beside them, returned."""
    theirs = tmp_path / "河西区"
    theirs.mkdir()
    for name, text in SHEETS.items():
        (theirs / name).write_text(text, encoding="utf-8")
    campaign = theirs / "grid-2025.yaml"
    campaign.write_text(campaign_text, encoding="utf-8")
    imported = run("orgs", "import", *sorted(theirs.glob("*.csv")), "--org", "hexi")
    assert imported.returncode == 0, imported.stderr
    # no 组织 sheet: the first import says whom campaigns will remind
    assert "单位的事项由本单位担任村居书记的人负责" in imported.stdout, imported.stdout
    return campaign


def test_what_reaches_nobody_is_said_at_rollout_and_planned_once_the_roster_says_who(
    tmp_path: Path,
) -> None:
    campaign = _their_district(tmp_path, CAMPAIGN)
    theirs = campaign.parent

    rolled = run("rollout", campaign, "--as-of", "2025-03-03")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert_no_traceback(rolled)
    lines = rolled.stdout.splitlines()
    assert "grid-2025 第 1 版：新增 4 项，共 4 项" in lines
    assert any(
        line.startswith("有 2 项无人负责：江心街道、北塘街道没有担任村居书记的人") for line in lines
    ), rolled.stdout
    assert "逾期报区级的提醒无人接收：组织没有指定区级角色" in rolled.stdout
    assert rolled.stdout.count("无人") == 2  # said once each: no log line repeats them

    # the first sweep after the street plans fell due: the communities' secretaries are
    # reminded, nobody of the streets' plans
    swept = run("remind", "--as-of", "2025-03-18")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert "新逾期事项 2 项" in swept.stdout
    assert json.loads(run("todo", "s01", "--as-of", "2025-03-18", "--json").stdout)["items"] == []

    # the department names who answers for a unit and for the district, and imports it
    mend = theirs / "hexi.yaml"
    mend.write_text(MEND, encoding="utf-8")
    mended = run("orgs", "import", mend)
    assert mended.returncode == 0, mended.stdout + mended.stderr
    assert mended.stdout.startswith(  # what changed is said, though no row did
        "hexi：已导入 " + str(mend) + "：单位新增 0、更新 0；人员新增 0、更新 0；结对新增 0、更新 0"
        "；责任角色改为 村居书记、街道组织委员；区级角色改为 区委组织部部长\n"
    ), mended.stdout
    assert "此前无人负责的事项：补上提醒" in mended.stdout
    assert "无人负责：" not in mended.stdout and "无人接收" not in mended.stdout
    todo = json.loads(run("todo", "s01", "--as-of", "2025-03-18", "--json").stdout)
    assert [(i["obligation"], i["due"], i["state"]) for i in todo["items"]] == [
        ("制定整治方案", "2025-03-14", "overdue")
    ]
    # nothing more to plan: importing the same again changes nothing
    again = run("orgs", "import", mend)
    assert "没有变化" in again.stdout and "补上提醒" not in again.stdout


def test_a_campaign_that_names_its_own_roles_is_mended_by_its_file(tmp_path: Path) -> None:
    # the campaign names whom it reminds itself: the organization's roles do not count
    campaign = _their_district(
        tmp_path,
        CAMPAIGN.replace("phases:\n", "reminders:\n  responsible_roles: [secretary]\nphases:\n"),
    )
    rolled = run("rollout", campaign, "--as-of", "2025-03-03")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert "改活动文件再运行 campaign rollout" in rolled.stdout
    swept = run("remind", "--as-of", "2025-03-18")
    assert "新逾期事项 2 项" in swept.stdout, swept.stdout + swept.stderr

    # the planner names the streets' role in the file and rolls it out again, weeks late
    campaign.write_text(
        campaign.read_text(encoding="utf-8").replace("[secretary]", "[secretary, street-org]"),
        encoding="utf-8",
    )
    again = run("rollout", campaign, "--as-of", "2025-03-18")
    assert again.returncode == 0, again.stdout + again.stderr
    assert_no_traceback(again)
    assert "grid-2025 第 2 版：新增 0 项，共 4 项" in again.stdout
    # the streets' plans, overdue since 03-14: their before, due and overdue reminders
    assert "此前无人负责的事项：补上提醒 6 条，下一次发提醒时发出" in again.stdout, again.stdout
    assert "无人负责：" not in again.stdout
    todo = json.loads(run("todo", "s01", "--as-of", "2025-03-18", "--json").stdout)
    assert [(i["obligation"], i["due"], i["state"]) for i in todo["items"]] == [
        ("制定整治方案", "2025-03-14", "overdue")
    ]
    # the next sweep tries the two streets' officials (the sheets give nobody a channel; the
    # communities' secretaries were tried the day before)
    sent = run("remind", "--as-of", "2025-03-19")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "失败 2 条" in sent.stdout and "没有渠道" in sent.stdout, sent.stdout
