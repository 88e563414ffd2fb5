"""The `campaign` command as a user runs it: exit codes, what is printed, what is written."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from config.settings import os_login
from tests.conftest import REPO
from tests.scaled.campaign_now import today_in_shanghai, write_holidays

CAMPAIGN = Path(sys.executable).parent / "campaign"
CAMPAIGNS = sorted((REPO / "config" / "campaigns").glob("*.yaml"))


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI run: Prefect's home inside this test's CAMPAIGN_HOME, so that
    CLI runs of tests running side by side never share (and race on) one Prefect database."""
    extra = extra or {}
    home = Path(extra.get("CAMPAIGN_HOME") or os.environ["CAMPAIGN_HOME"])
    return {**os.environ, "COLUMNS": "200", "PREFECT_HOME": str(home / "prefect"), **extra}


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CAMPAIGN), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=cli_env(env),
        timeout=240,
    )


def operators_csv(folder: Path, person: str = "p-org-01", proxy: bool = True) -> Path:
    """This machine's login as an operator of weihai-etdz: the department's staff member
    who types in records for others (so that the tests' --by are honoured)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "operators.csv"
    path.write_text(
        f"登录名,人员编码,代录\n{os_login()},{person},{'是' if proxy else '否'}\n",
        encoding="utf-8",
    )
    return path


def import_shipped_org(folder: Path) -> subprocess.CompletedProcess[str]:
    """The shipped organization, with this machine's login as a proxy operator."""
    return run("orgs", "import", REPO / "config" / "orgs" / "weihai-etdz.yaml",
               operators_csv(folder))  # fmt: skip


def pilot_evidence(
    verb: str, *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`campaign evidence VERB` on qiaotou-v01's pilot rectification."""
    return run(
        "evidence",
        verb,
        "village-rectification-2013",
        "--subject",
        "qiaotou-v01",
        "--obligation",
        "pilot-rectification",
        *args,
        env=env,
    )


def campaign_2027(folder: Path, *, start: str, end: str) -> Path:
    """A one-phase campaign of the shipped district in 2027, kept outside the repository."""
    path = folder / "c2027.yaml"
    path.write_text(
        "key: c2027\nname: 二〇二七年活动\norganization: weihai-etdz\nphases:\n"
        f"  - key: a\n    name: 甲\n    start: {start}\n    end: {end}\n",
        encoding="utf-8",
    )
    return path


def rolled_out(folder: Path, key: str, as_of: str) -> str:
    """The shipped district imported and `key` rolled out as of a day; returns the key."""
    assert import_shipped_org(folder).returncode == 0
    rolled = run("rollout", key, "--as-of", as_of)
    assert rolled.returncode == 0, rolled.stderr
    return key


def stored_files(campaign_home: Path) -> list[Path]:
    """The evidence files kept under CAMPAIGN_HOME."""
    return [p for p in (campaign_home / "files").rglob("*") if p.is_file()]


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_accepts_every_shipped_campaign() -> None:
    result = run("validate", *CAMPAIGNS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("：通过：") == len(CAMPAIGNS) >= 2
    assert (
        "mass-line-2013（党的群众路线教育实践活动（工委组织部）），5 个环节，14 个事项，"
        "2013-08-26 至 2013-12-31"
    ) in result.stdout


def test_validate_reports_each_problem_as_file_line_field(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "key: broken\nname: 坏方案\norganization: weihai-etdz\nphases:\n"
        "  - {key: a, name: 甲, start: 2013-02-30, end: 2013-03-31}\n",
        encoding="utf-8",
    )
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    result = run("validate", CAMPAIGNS[0], broken, empty, tmp_path / "missing.yaml")
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert f"{broken}:5: phases[0].start: 不存在的日期 2013-02-30：2013-02 只有 28 天" in lines
    assert f"{empty}:1: （整个文件）: 文件是空的，应为一个活动的映射" in lines
    assert f"{tmp_path / 'missing.yaml'}:1: （整个文件）: 没有这个文件" in lines
    assert f"{CAMPAIGNS[0]}：通过：" in result.stdout
    assert_no_traceback(result)


def test_a_2027_campaign_needs_its_holiday_table(tmp_path: Path) -> None:
    campaign = campaign_2027(tmp_path, start="2027-01-01", end="mid 2027-01")
    result = run("validate", campaign)
    assert result.returncode == 2
    assert f"{campaign}:7: phases[0].start: 没有 2027 年的节假日安排" in result.stdout

    tables = tmp_path / "holidays"
    tables.mkdir()
    (tables / "2027.yaml").write_text(
        "year: 2027\nholidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\nworkdays: []\n",
        encoding="utf-8",
    )
    result = run("validate", campaign, env={"CAMPAIGN_HOLIDAYS_DIR": str(tables)})
    assert result.returncode == 0, result.stdout
    # Jan 1-3 off (Jan 2-3 a weekend anyway): the campaign opens Monday Jan 4; Jan 15 is a Friday.
    assert "2027-01-04 至 2027-01-15" in result.stdout
    calendar = run("calendar", "2027-01", env={"CAMPAIGN_HOLIDAYS_DIR": str(tables)})
    assert calendar.returncode == 0 and "元旦" in calendar.stdout


def test_orgs_import_twice_gives_the_same_counts() -> None:
    shipped = REPO / "config" / "orgs" / "weihai-etdz.yaml"
    first = run("orgs", "import", shipped)
    second = run("orgs", "import", shipped)
    assert first.returncode == second.returncode == 0, first.stderr
    assert "weihai-etdz：已导入" in first.stdout and "单位新增 175、更新 0" in first.stdout
    assert "与库中一致，没有变化" in second.stdout  # an unchanged import says so
    summary = (
        "weihai-etdz：单位175个（区1，镇3，街道3，村100，社区35，企业16，部门17），"
        "人员185人，结对0对，角色13种"
    )
    assert first.stdout.splitlines()[-1] == second.stdout.splitlines()[-1] == summary
    shown = run("orgs", "show", "qiaotou")
    assert shown.returncode == 0
    assert "孟家庄村" in shown.stdout and "桥头镇" in shown.stdout
    assert "（村34，企业2，人员37）" in shown.stdout


def test_orgs_import_of_the_tree_with_its_people_and_pairings_sheets() -> None:
    orgs = REPO / "config" / "orgs"
    result = run(
        "orgs", "import", orgs / "weihai-etdz.yaml", *sorted((orgs / "weihai-etdz").glob("*.csv"))
    )
    assert result.returncode == 0, result.stderr
    assert "已导入 5 个文件：单位新增 175" in result.stdout
    assert result.stdout.splitlines()[-1].endswith("人员2790人，结对1244对，角色13种")


def test_orgs_import_of_several_files_names_every_bad_row(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("编码,姓名,单位,角色\np1,张三,nowhere,cadre\n", encoding="utf-8")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("编码,结对类型,干部,联系对象\nx1,cadre-needy,p1,ghost\n", encoding="utf-8")
    shipped = REPO / "config" / "orgs" / "weihai-etdz.yaml"
    result = run("orgs", "import", shipped, people, pairs)
    assert result.returncode == 2
    assert f"{people}:2: 没有单位 nowhere" in result.stderr
    assert f"{pairs}:2: 没有联系对象 ghost" in result.stderr
    assert "组织机构为空" in run("orgs", "show").stdout  # nothing of the three written
    assert_no_traceback(result)


def test_orgs_import_says_which_channels_no_reminder_can_use(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "编码,姓名,单位,角色,通知渠道\n"
        "p1,张三,qiaotou,org-committee,mailto://zhang@127.0.0.1\n"  # no recipient: unusable
        "p2,李四,qiaotou,org-committee,json://127.0.0.1:9/hook\n"
        "p3,王五,qiaotou,org-committee,json://127.0.0.1:9/hook;jsons://hooks.example.com/x\n",
        encoding="utf-8",
    )
    result = run("orgs", "import", REPO / "config" / "orgs" / "weihai-etdz.yaml", people)
    assert result.returncode == 0, result.stderr  # said, not refused: the import is written
    said = [line for line in result.stdout.splitlines() if "通知渠道用不了" in line]
    assert said == [
        f"提醒：{people}:2: 张三（p1）的第1个通知渠道用不了，提醒发不出去：渠道地址不可用：mailto://…",
        f"提醒：{people}:4: 王五（p3）的第2个通知渠道用不了，提醒发不出去："
        "渠道主机 hooks.example.com 不在允许之列（CAMPAIGN_CHANNEL_HOSTS）",
    ]
    assert "apprise" not in result.stderr  # one saying of it, ours


def test_list_shows_every_shipped_campaign_with_subjects_and_cadence() -> None:
    result = run("list", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    for path in (REPO / "config" / "campaigns").glob("*.yaml"):
        assert f"（{path.stem}）" in result.stdout
    assert "结对：党员干部联系基层困难群众·每两个月" in result.stdout
    assert "结对：党员干部联系基层困难群众·每年至少2次" in result.stdout
    assert "人员：活动领导小组成员·每年春节前" in result.stdout
    assert "村·每周" in result.stdout and "经区大讲堂（每月一期）（并行）" in result.stdout


def test_orgs_import_rejects_a_bad_file_whole(tmp_path: Path) -> None:
    bad = tmp_path / "units.csv"
    bad.write_text(
        "code,name,kind,parent\netdz,经区,district,\ntown1,一镇,town,nowhere\n", encoding="utf-8"
    )
    result = run("orgs", "import", bad, "--org", "somewhere")
    assert result.returncode == 2
    assert result.stderr.strip() == f"错误：{bad}:3: 没有上级单位 nowhere"
    # a sheet that does not say whose it is, into an empty database, must be told
    keyless = run("orgs", "import", bad)
    assert f"{bad}:1: 这是哪个组织的？请用 --org 组织编码 指明" in keyless.stderr
    shown = run("orgs", "show")
    assert "组织机构为空" in shown.stdout
    assert_no_traceback(result)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("evidence", "add", "mass-line-2013"), "错误：缺少选项 '--subject'"),
        (("status", "mass-line-2013", "--nope"), "错误：没有选项 --nope"),
        (("status", "mass-line-2013", "--as"), "错误：没有选项 --as（是不是：--as-of、--json？）"),
        (("nosuch",), "错误：没有命令 nosuch"),
        (("list", "extra"), "错误：多出了参数：extra"),
        (("orgs", "show", "--depth", "0"), "错误：'--depth' 的值不对：应不小于 1"),
    ],
)
def test_a_usage_error_is_the_usage_line_and_exit_2(args: tuple[str, ...], says: str) -> None:
    # Typer vendors its own click, whose messages are English f-strings: said again in Chinese
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr.splitlines(), result.stderr
    usage = result.stderr.splitlines()[0]
    assert usage.startswith("用法：campaign ") and "[选项]" in usage, result.stderr
    assert "--help' 查看帮助" in result.stderr
    assert "Usage" not in result.stderr and "意外" not in result.stderr
    assert_no_traceback(result)


def test_help_is_in_chinese() -> None:
    result = run("evidence", "add", "--help")
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    for words in (
        "用法：campaign evidence add [选项] {活动}",
        "为一个清单事项登记佐证：直接通过，或等待签字。",
        "参数",
        "选项",
        "活动编码或活动文件",
        "[必填]",
        "数量，名称=数字，可多次给出",
        "显示本帮助并退出。",
    ):
        assert words in shown, (words, shown)
    assert re.search(r"--date +日期 +办理日期", shown), shown
    for english in ("Usage", "Options", "Arguments", "Show this message", "required", "<str>"):
        assert english not in shown, (english, shown)
    # the commands in the order of a planner's year
    root = run("--help").stdout
    panels = [root.index(p) for p in ("准备：组织、日历、活动文件", "下发与运行", "登记与查看")]
    assert panels == sorted(panels), root
    assert root.index("validate") < panels[1] < root.index("rollout") < panels[2]
    assert panels[2] < root.index("evidence")
    group = run("orgs")  # a group named alone shows its commands
    assert "用法：campaign orgs [选项] 命令 [参数]..." in group.stdout, group.stdout
    assert "导入单位、人员和结对" in group.stdout


def test_every_command_and_option_is_described_in_chinese() -> None:
    # a new command or option without Chinese help fails here, not in a planner's terminal
    from flows.cli.main import app
    from flows.cli.typer_zh import command_tree

    han = re.compile(r"[\u4e00-\u9fff]")
    missing = []

    def walk(command: Any, path: str) -> None:
        if not han.search(command.help or ""):
            missing.append(path)
        for param in command.params:
            if not han.search(getattr(param, "help", None) or ""):
                missing.append(f"{path} {param.name}")
            shown = param.display_type_rich(ctx=None) or ""
            if param.param_type_name == "option" and not param.is_flag and not han.search(shown):
                missing.append(f"{path} {param.name}: {shown}")  # Typer's `<str>`
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(command_tree(app), "campaign")
    assert missing == []


def test_orgs_show_of_an_unknown_unit() -> None:
    result = run("orgs", "show", "atlantis")
    assert result.returncode == 2
    assert result.stderr.strip() == "错误：没有单位 atlantis（还没有导入组织）"


def test_calendar_marks_national_day_and_the_make_up_saturday() -> None:
    result = run("calendar", "2013-10")
    assert result.returncode == 0
    assert "1休" in result.stdout and "国庆节" in result.stdout
    assert "12班" in result.stdout  # Saturday Oct 12 was a working day
    assert "工作日19天，休息日12天" in result.stdout


@pytest.mark.parametrize("arg", ["2013-13", "October", "2027-01"])
def test_calendar_refuses_bad_months_with_one_line(arg: str) -> None:
    result = run("calendar", arg)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("错误：")


def test_phases_prints_the_resolved_dates() -> None:
    result = run("phases", "mass-line-2013")
    assert result.returncode == 0
    assert "2013-10-08" in result.stdout and "2013-12-13" in result.stdout


def test_a_bad_database_url_is_one_line() -> None:
    result = run("orgs", "show", env={"CAMPAIGN_DATABASE_URL": "mysql://x"})
    assert result.returncode != 0
    assert "CAMPAIGN_DATABASE_URL" in result.stderr or "sqlite" in result.stderr
    assert_no_traceback(result)


def test_demo_runs_on_a_fresh_data_folder(campaign_home: Path) -> None:
    result = run("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "单位175个" in out
    assert "2013-10-31 党的群众路线教育实践活动（工委组织部） · 查摆问题、开展批评结束" in out
    assert "全面总结试点经验，批准逐村居推进：" in out and "批准" in out
    assert "组织集中宣讲" in out and "截至2013年5月31日" in out
    assert "make ui" in out
    for key in ("mass-line-2013", "village-rectification-2013"):
        assert (campaign_home / "reports" / f"{key}.xlsx").stat().st_size > 5000


def test_rollout_evidence_status_and_ledger_from_the_terminal(
    campaign_home: Path, tmp_path: Path
) -> None:
    assert import_shipped_org(tmp_path).returncode == 0
    rolled = run("rollout", "village-rectification-2013", "--as-of", "2012-12-03")
    assert rolled.returncode == 0, rolled.stderr
    assert "新增 39 项，共 39 项" in rolled.stdout
    assert "等待闸门 pilot-review 审批" in rolled.stdout
    minutes = tmp_path / "会议记录.txt"
    minutes.write_text("十二月民主评议会议记录", encoding="utf-8")
    added = pilot_evidence(
        "add",
        "--by",
        "p-qiaotou-v01-sec",
        "--note",
        "民主评议完成",
        "--count",
        "lectures=3",
        "--file",
        minutes,
        "--date",
        "2012-12-20",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip().endswith("整改落实：待签字"), added.stdout
    stored = list((campaign_home / "files").rglob("*"))
    assert any(
        p.is_file() and p.read_text(encoding="utf-8") == "十二月民主评议会议记录" for p in stored
    )
    assert not any(p.name == "会议记录.txt" for p in stored)
    bad = pilot_evidence(
        "add",
        "--by",
        "p-qiaotou-v01-sec",
        "--count",
        "lectures=three",
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "错误：数量 lectures=three：three 不是整数"
    signed = pilot_evidence(
        "sign",
        "--by",
        "p-qiaotou-oc",
        "--date",
        "2012-12-21",
    )
    assert signed.stdout.strip().endswith("整改落实：已完成"), signed.stderr
    refused = run(
        "gate", "approve", "village-rectification-2013", "pilot-review", "--by", "p-qiaotou-oc"
    )
    assert refused.returncode == 3
    assert "不能审批闸门 pilot-review：须担任以下角色之一：活动领导小组成员" in refused.stderr
    # approved on the rehearsal's day: the villages' wave is written, its phase (from
    # 2013-01-04) not opened, as it would be by an approval rolling out as of today
    approved = run(
        "gate", "approve", "village-rectification-2013", "pilot-review",
        "--by", "p-org-head-1", "--as-of", "2012-12-21",
    )  # fmt: skip
    assert approved.returncode == 0, approved.stderr
    assert "闸门 pilot-review 已通过（p-org-head-1 黄卫东）" in approved.stdout
    assert "新增 129 项，共 168 项" in approved.stdout
    with sqlite3.connect(campaign_home / "campaign.db") as conn:
        states = dict(conn.execute("SELECT phase_key, status FROM phase_state").fetchall())
    assert states == {"mobilization": "closed", "pilot": "open", "village-by-village": "pending"}

    status = run("status", "village-rectification-2013", "--as-of", "2012-12-21", "--json")
    data = json.loads(status.stdout)
    pilot = next(p for p in data["phases"] if p["key"] == "pilot")
    assert (pilot["items"], pilot["accepted"]) == (12, 1)
    assert {"name": "组织集中宣讲", "target": 307, "actual": 3} in data["targets"]
    qiaotou = next(t for t in data["towns"] if t["code"] == "qiaotou")
    assert qiaotou["accepted"] == 1
    assert data["backfilled"] == 1  # dated 2012-12-20, entered today: accepted, and flagged

    ledger = tmp_path / "台账.xlsx"
    report = run("report", "village-rectification-2013", "--as-of", "2012-12-21", "--xlsx", ledger)
    assert report.returncode == 0, report.stderr
    assert "组织集中宣讲3场次" in report.stdout
    assert "其中1项为补录（截止之后才录入、材料日期在截止之前）" in report.stdout
    book = load_workbook(ledger)
    assert book.sheetnames[0] == "汇总" and book.sheetnames[2] == "2.试点先行"
    rows = list(book["2.试点先行"].iter_rows(values_only=True))
    done = [r for r in rows if r[1] == "qiaotou-v01" and r[5] == "已完成"]
    assert len(done) == 1 and done[0][8] == 2 and done[0][9] == "集中宣讲场次3"

    history = run("audit", "show", "--subject", "qiaotou-v01", env={"COLUMNS": "200"})
    assert history.returncode == 0, history.stderr
    lines = [line for line in history.stdout.splitlines() if "pilot-rectification" in line]
    assert len(lines) == 2
    assert "p-qiaotou-v01-sec" in lines[0] and "提交待签" in lines[0] and "民主评议完成" in lines[0]
    # the day it was done beside the day it was typed in, and a count by its name
    assert "2012-12-20办理" in lines[0] and "集中宣讲场次=3" in lines[0], lines[0]
    assert "p-qiaotou-oc" in lines[1] and "通过" in lines[1]
    verified = run("audit", "verify")
    assert verified.returncode == 0
    assert verified.stdout.startswith("审计链完好：")
    assert "数据与审计记录一致：" in verified.stdout
    with sqlite3.connect(campaign_home / "campaign.db") as conn:
        conn.execute(
            "UPDATE evidence SET counts = '{\"talks\": 9}' WHERE id = "
            "(SELECT max(id) FROM evidence WHERE kind = 'submission')"
        )
    counted = run("audit", "verify")
    assert counted.returncode == 1
    assert "数据与审计记录不符：事项 " in counted.stdout
    assert "在系统之外被改过" in counted.stdout
    with sqlite3.connect(campaign_home / "campaign.db") as conn:
        last = conn.execute("SELECT max(id) FROM audit_event WHERE entity = 'item'").fetchone()[0]
        conn.execute("UPDATE audit_event SET actor = 'p-qiaotou-v02-sec' WHERE id = ?", (last,))
    tampered = run("audit", "verify")
    assert tampered.returncode == 1
    assert f"第 {last} 条记录：内容被改过" in tampered.stdout


def test_phase_commands_name_the_phases_there_are() -> None:
    result = run("phase", "open", "mass-line-2013", "nowhere")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "错误：没有环节 nowhere（环节：preparation、study、criticism、rectification、summary）"
    )


def test_catch_up_and_deploy_refuse_bad_options_with_one_line() -> None:
    naive = run("catch-up", "mass-line-2013", "--now", "2013-09-03T10:00")
    assert naive.returncode == 2
    assert "--now：请写明时区偏移，如 2013-09-03T10:00+08:00" in naive.stderr
    garbled = run("catch-up", "mass-line-2013", "--now", "tomorrow")
    assert garbled.returncode == 2 and "应写成如 2026-11-28T10:00+08:00 的时刻" in garbled.stderr
    alone = run("deploy", "mass-line-2013", "--fan-out")
    assert alone.returncode == 2 and "--fan-out 须与 --pool 同用" in alone.stderr
    for result in (naive, garbled, alone):
        assert_no_traceback(result)


def test_a_run_for_a_day_still_to_come_is_refused_before_it_reaches_anyone(
    campaign_home: Path,
) -> None:
    """Reminders sent today dated two days ahead (已逾期3个工作日 on the first), phases opened
    and samples drawn early: a run acts now, so its day may not lie ahead; reading may."""
    ahead = (dt.date.today() + dt.timedelta(days=40)).isoformat()
    why = "晚于"  # 今天, or 此刻 for an instant
    for args in (
        ("remind", "--as-of", ahead),
        ("rollout", "mass-line-2013", "--as-of", ahead),
        ("inspect", "mass-line-2013", "--as-of", ahead),
        ("phase", "open", "mass-line-2013", "study", "--as-of", ahead),
        ("gate", "approve", "village-rectification-2013", "pilot-review", "--as-of", ahead),
        ("catch-up", "mass-line-2013", "--now", f"{ahead}T10:00+08:00"),
    ):
        result = run(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert why in result.stderr and "提醒、环节和抽查只能按已经到来的日子运行" in result.stderr
        assert_no_traceback(result)
    status = run("status", "mass-line-2013", "--as-of", ahead, "--json")
    assert "晚于今天" not in status.stderr  # looking ahead is allowed


def test_a_late_rollout_and_deploy_say_what_the_day_means(
    campaign_home: Path, tmp_path: Path
) -> None:
    # the yearbook's campaign rolled out and deployed today, years after it ended
    key = "village-meetings-2013"
    assert import_shipped_org(tmp_path).returncode == 0
    rolled = run("rollout", key)
    assert rolled.returncode == 0, rolled.stderr
    overdue = sum(p["overdue"] for p in json.loads(run("status", key, "--json").stdout)["phases"])
    assert overdue > 0
    assert f"已有 {overdue} 项过了截止日期" in rolled.stdout
    assert "本活动已于 2013-12-31 结束" in rolled.stdout
    deployed = run("deploy", key)
    assert deployed.returncode == 0, deployed.stderr
    assert "注意：本活动已于 2013-12-31 结束，定时的下发" in deployed.stdout
    # a catch-up to a morning of that year sweeps what was due then: nobody has a channel,
    # and it says so, as remind does
    caught = run("catch-up", key, "--now", "2013-03-06T10:00+08:00")
    assert caught.returncode == 0, caught.stderr
    assert re.search(r"失败 [1-9]\d*", caught.stdout), caught.stdout
    assert "未送达：没有渠道：请填写此人的通知渠道" in caught.stdout, caught.stdout
    # before the next morning's 09:00 nothing is due: it says when the next ones leave
    early = run("catch-up", key, "--now", "2013-03-07T07:00+08:00")
    assert early.returncode == 0, early.stderr
    assert "发送提醒 0 条" in early.stdout, early.stdout
    assert re.search(r"下一批提醒 \d+ 条于 2013-03-07 09:00 到期", early.stdout), early.stdout


def test_two_rollouts_at_once_on_a_new_home_converge(campaign_home: Path) -> None:
    assert import_shipped_org(campaign_home).returncode == 0
    command = [str(CAMPAIGN), "rollout", "mass-line-2013", "--as-of", "2013-09-03"]
    runs = [
        subprocess.Popen(
            command,
            cwd=REPO,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    news = sorted(int(out.split("新增 ")[1].split(" 项")[0]) for out, _ in outputs)
    assert news[0] + news[1] == 60  # the rows of one run, however they were shared
    status = json.loads(run("status", "mass-line-2013", "--as-of", "2013-09-03", "--json").stdout)
    assert sum(p["items"] for p in status["phases"]) == 60


def test_a_refused_submission_stores_no_file_and_writes_no_row(
    campaign_home: Path, tmp_path: Path
) -> None:
    rolled_out(tmp_path, "village-rectification-2013", "2012-12-03")
    args = ["--note", "民主评议完成", "--date", "2012-12-20"]
    program = tmp_path / "会议记录.pdf"
    program.write_bytes(b"MZ\x90\x00" + b"\x00" * 64)
    wrong_type = pilot_evidence("add", *args, "--by", "p-qiaotou-v01-sec", "--file", program)
    assert wrong_type.returncode == 2
    assert "按内容看不是可接受的文件" in wrong_type.stderr
    big = tmp_path / "照片.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\x00" * 3000)
    oversize = pilot_evidence(
        "add",
        *args,
        "--by",
        "p-qiaotou-v01-sec",
        "--file",
        big,
        env={"CAMPAIGN_MAX_FILE_MB": "0.002"},
    )
    assert oversize.returncode == 2
    assert "超过0.002 MB的大小限制（CAMPAIGN_MAX_FILE_MB）" in oversize.stderr
    minutes = tmp_path / "记录.txt"
    minutes.write_text("会议记录", encoding="utf-8")
    # a secretary of another village may not record for this one
    refused = pilot_evidence("add", *args, "--by", "p-qiaotou-v02-sec", "--file", minutes)
    assert refused.returncode == 3, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert stored_files(campaign_home) == []
    with sqlite3.connect(campaign_home / "campaign.db") as conn:
        assert conn.execute("SELECT count(*) FROM evidence").fetchone() == (0,)
    accepted = pilot_evidence("add", *args, "--by", "p-qiaotou-v01-sec", "--file", minutes)
    assert accepted.returncode == 0, accepted.stderr
    assert len(stored_files(campaign_home)) == 1


def test_evidence_from_a_filled_in_template_all_or_nothing(
    campaign_home: Path, tmp_path: Path
) -> None:
    key = rolled_out(tmp_path, "community-and-two-new-2013", "2013-07-01")
    sheet = tmp_path / "崮山镇" / "证据.xlsx"
    made = run("evidence", "template", key, "--xlsx", sheet, "--unit", "gushan")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"已写出 {sheet}：4 个待办事项"
    book = load_workbook(sheet)
    rows = book["证据"]
    demo = next(r for r in rows.iter_rows(min_row=2) if r[2].value == "demo-points")
    (sheet.parent / "示范点.pdf").write_bytes(b"%PDF-1.4 " + "示范点名单".encode())
    demo[6].value, demo[7].value, demo[8].value = "2013-07-15", "p-gushan-oc", "建成3个示范点"
    assert demo[9].value == "示范点个数="  # a count by the name the clerk reads (its key works too)
    guide = {r[0].value: r for r in book["事项说明"].iter_rows(min_row=2)}
    assert guide["demo-points"][3].value == "示范点个数（points，至少2）"
    demo[9].value, demo[10].value = "示范点个数=3", "示范点.pdf"
    funds = next(r for r in rows.iter_rows(min_row=2) if r[0].value == "gushan-e1")
    # a town official of another town may not record for 崮山's enterprises, and the file
    # it names lies outside the sheet's folder
    funds[6].value, funds[7].value, funds[8].value = "2013-07-16", "p-boyu-oc", "已设立科目"
    funds[9].value, funds[10].value = "yuan=50000", "../../etc/passwd"
    book.save(sheet)
    refused = run("evidence", "import", sheet)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"错误：{sheet}:证据!第"), lines
    assert "文件 ../../etc/passwd 不在表格所在的文件夹中" in lines[0]
    with sqlite3.connect(campaign_home / "campaign.db") as conn:
        assert conn.execute("SELECT count(*) FROM evidence").fetchone() == (0,)
    assert not (campaign_home / "files").exists()

    funds[10].value = None
    book.save(sheet)
    refused = run("evidence", "import", sheet)
    assert refused.returncode == 2
    assert "不能为这个对象报送" in refused.stderr
    funds[7].value = "p-gushan-oc"
    book.save(sheet)
    imported = run("evidence", "import", sheet)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == f"已导入 {sheet}：2 行（已完成2项）"
    status = json.loads(run("status", key, "--as-of", "2013-07-20", "--json").stdout)
    # the demonstration points dated 2013-07-15 (due end of September) and entered today:
    # in time only by the day they claim, 补录; the enterprise funds dated 07-16 were due at
    # the end of June: late, and counted late, not 补录
    assert status["backfilled"] == 1
    with sqlite3.connect(campaign_home / "campaign.db") as conn:
        stored_counts = [json.loads(r[0]) for r in conn.execute("SELECT counts FROM evidence")]
    assert {"points": 3} in stored_counts and {"yuan": 50000} in stored_counts  # kept by key
    assert len(stored_files(campaign_home)) == 1


def test_inspection_fail_rectify_recheck_from_the_terminal(
    campaign_home: Path, tmp_path: Path
) -> None:
    key = rolled_out(tmp_path, "community-and-two-new-2013", "2013-07-01")
    made = run("inspect", key, "--as-of", "2013-07-01")
    assert made.stdout.strip() == "funds-site-check 2013-Q2：抽取 8 个（2013-06-28 检查）"
    waiting = run("inspect", key, "--as-of", "2013-07-01").stdout.strip()
    assert waiting.startswith("截至 2013-07-01 没有尚未生成的抽查；下一次：")
    assert "（funds-site-check）2013年第3季度，2013-09-30 生成" in waiting, waiting
    shown = run("inspection", "show", key)
    sampled = [c for c in ("hongyu", "melody", "disha") if f"（{c}）" in shown.stdout]
    subject = sampled[0]
    args = ["inspection", "record", key, "--inspection", "funds-site-check", "--subject", subject]
    refused = run(*args, "--check", "2013-Q2", "--result", "pass", "--by", "p-org-01")
    assert refused.returncode == 3
    assert "不能记录'funds-site-check'的抽查结果" in refused.stderr
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 site")
    failed = run(
        *args,
        "--check",
        "2013-Q2",
        "--result",
        "fail",
        "--findings",
        "未设立专门科目",
        "--by",
        "p-info-1",
        "--date",
        "2013-07-02",
        "--file",
        photo,
    )
    assert failed.returncode == 0, failed.stderr
    assert failed.stdout.strip().endswith("未通过，限期整改至2013-08-01")
    again = run(*args, "--check", "2013-Q2", "--result", "pass", "--by", "p-info-1")
    assert again.returncode == 2 and "已记录过：2013-07-02 未通过" in again.stderr
    status = json.loads(run("status", key, "--as-of", "2013-07-10", "--json").stdout)
    assert status["rectifications"] == {"open": 1, "closed": 0}
    recheck = run("inspect", key, "--as-of", "2013-08-01")
    assert "funds-site-check 2013-Q2-recheck：抽取 1 个" in recheck.stdout
    passed = run(
        *args,
        "--check",
        "2013-Q2-recheck",
        "--result",
        "pass",
        "--findings",
        "已整改",
        "--by",
        "p-info-2",
        "--date",
        "2013-08-02",
    )
    assert passed.stdout.strip().endswith("复查通过，整改完成"), passed.stderr
    status = json.loads(run("status", key, "--as-of", "2013-08-02", "--json").stdout)
    assert status["rectifications"] == {"open": 0, "closed": 1}
    history = run("audit", "show", "--subject", subject)
    for word in ("抽查未通过", "下达限期整改", "抽查通过", "rectification-funds-site-check"):
        assert word in history.stdout
    assert run("audit", "verify").returncode == 0
    stored = stored_files(campaign_home)
    assert [p.read_bytes() for p in stored] == [b"\xff\xd8\xff\xe0 site"]


def _first_lines_of_the_door(env: dict[str, str] | None = None) -> list[str]:
    """What `campaign web` says when it starts, on a free port; then it is stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    door = subprocess.Popen(
        [str(CAMPAIGN), "web", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        env=cli_env(env),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # serving: all it says at the start is said
            with socket.socket() as knock:
                if knock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
    finally:
        door.terminate()
        said, _ = door.communicate(timeout=30)
    return [line.replace(str(port), "PORT") for line in said.splitlines() if line.strip()]


def test_the_door_warns_when_its_links_lead_elsewhere() -> None:
    # a newcomer starts it on another port: the links it hands out would lead nowhere
    assert _first_lines_of_the_door() == [
        "网页服务在 http://127.0.0.1:PORT（大家打开的地址：http://127.0.0.1:8000）",
        "注意：没有设置 CAMPAIGN_WEB_URL，登录链接指向 http://127.0.0.1:8000，"
        "而不是本服务 http://127.0.0.1:PORT；请把 CAMPAIGN_WEB_URL 设为大家实际打开的地址",
    ]
    public = {"CAMPAIGN_WEB_URL": "https://dangjian.example.cn"}
    assert _first_lines_of_the_door(public) == [
        "网页服务在 http://127.0.0.1:PORT（大家打开的地址：https://dangjian.example.cn）"
    ]


def test_remind_says_why_reminders_did_not_go_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the shipped district's people have no channel of their own, and none is set by default
    monkeypatch.delenv("CAMPAIGN_NOTIFY_DEFAULT", raising=False)
    rolled_out(tmp_path, "village-rectification-2013", "2012-11-01")
    swept = run("remind", "--as-of", "2012-11-26")
    assert swept.returncode == 0, swept.stderr
    summary, standing, *why = swept.stdout.strip().splitlines()
    assert summary.startswith("新逾期事项 ") and "本次发送 0 条" in summary, summary
    dead = int(standing.split("停发 ")[1].removesuffix("。"))
    assert standing.startswith("累计：已发送 0，") and dead > 0, standing
    assert why == [
        f"未送达：没有渠道：请填写此人的通知渠道，或设置 CAMPAIGN_NOTIFY_DEFAULT（{dead} 条）"
    ]


def test_a_rehearsal_is_refused_where_campaigns_are_real(
    campaign_home: Path, tmp_path: Path
) -> None:
    # a department's data folder with a campaign rolled out for real: a rehearsal would put
    # made-up evidence beside the real and sweep its reminders on days long past
    key = rolled_out(tmp_path, "village-meetings-2013", "2013-01-04")
    refused = run("simulate", "mass-line-2013", "--from", "2013-09-02", "--to", "2013-09-10")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"这里的数据库已有正式下发的活动（{key}）" in refused.stderr
    assert "CAMPAIGN_HOME=演练目录" in refused.stderr
    assert "节假日表" not in refused.stderr  # none imported here: nothing to carry over
    # next year's holidays imported here: the other folder needs them too, and is told so
    notice = tmp_path / "通知.txt"
    notice.write_text(
        "国务院办公厅关于2027年部分节假日安排的通知\n"
        "一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n",
        encoding="utf-8",
    )
    assert run("calendar", "import-notice", notice).returncode == 0
    refused = run("simulate", "mass-line-2013", "--from", "2013-09-02", "--to", "2013-09-10")
    tables = campaign_home / "holidays"
    assert f"这里导入的节假日表（{tables}）演练目录也要有" in refused.stderr, refused.stderr
    assert f"CAMPAIGN_HOLIDAYS_DIR={tables}" in refused.stderr
    with sqlite3.connect(campaign_home / "campaign.db") as conn:
        assert conn.execute("SELECT count(*) FROM campaign").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM evidence").fetchone() == (0,)
    assert_no_traceback(refused)


def test_a_rehearsal_of_days_ahead_is_no_estimate(campaign_home: Path, tmp_path: Path) -> None:
    """A department's next campaign, rehearsed from its file before it begins: the
    simulated clock acts for those days, so the closing table is the rehearsal's, not an
    estimate from today."""
    today = today_in_shanghai()
    env = {"CAMPAIGN_HOLIDAYS_DIR": str(write_holidays(tmp_path / "holidays", today))}
    start, end = today + dt.timedelta(days=3), today + dt.timedelta(days=16)
    path = tmp_path / "plans" / "next.yaml"
    path.parent.mkdir()
    path.write_text(
        f"""key: next-month
name: 下月专项
organization: weihai-etdz
phases:
  - key: only
    name: 专项
    start: {start}
    end: {end}
    obligations:
      - {{key: report, title: 报送材料, subject: {{units: {{kinds: [town]}}}}}}
""",
        encoding="utf-8",
    )
    assert import_shipped_org(tmp_path).returncode == 0
    rehearsed = run("simulate", path, "--from", str(start), "--to", str(end), env=env)
    assert rehearsed.returncode == 0, rehearsed.stderr
    assert "环节 only 结束" in rehearsed.stdout
    assert "尚未到来" not in rehearsed.stdout, rehearsed.stdout
    assert_no_traceback(rehearsed)


def test_looking_ahead_opens_and_closes_nothing(campaign_home: Path, tmp_path: Path) -> None:
    """`status --as-of` next month shows the campaign then; it must not open next phase's
    items early nor close the running one (as bringing the campaign to that day did)."""
    today = today_in_shanghai()
    env = {"CAMPAIGN_HOLIDAYS_DIR": str(write_holidays(tmp_path / "holidays", today))}
    path = tmp_path / "ahead.yaml"
    path.write_text(
        f"""key: ahead
name: 向前看
organization: weihai-etdz
phases:
  - key: now
    name: 进行中
    start: {today - dt.timedelta(days=10)}
    end: {today + dt.timedelta(days=12)}
    obligations:
      - {{key: report, title: 报送材料, subject: {{units: {{kinds: [town]}}}},
          due: {today + dt.timedelta(days=5)}}}
  - key: later
    name: 以后
    start: {today + dt.timedelta(days=20)}
    end: {today + dt.timedelta(days=40)}
    obligations:
      - {{key: sum-up, title: 报送总结, subject: {{units: {{kinds: [town]}}}},
          due: {today + dt.timedelta(days=30)}}}
""",
        encoding="utf-8",
    )
    assert import_shipped_org(tmp_path).returncode == 0
    rolled = run("rollout", path, env=env)
    assert rolled.returncode == 0, rolled.stderr
    ahead = (today + dt.timedelta(days=60)).isoformat()
    looked = run("status", "ahead", "--as-of", ahead, env=env)
    assert looked.returncode == 0, looked.stderr
    assert f"{ahead} 尚未到来：以上按今天的情况估算" in looked.stdout
    data = json.loads(run("status", "ahead", "--as-of", ahead, "--json", env=env).stdout)
    assert [p["status"] for p in data["phases"]] == ["open", "pending"]
    assert data["phases"][0]["overdue"] == data["phases"][0]["items"] > 0  # late by then
    today_view = json.loads(run("status", "ahead", "--json", env=env).stdout)
    assert [p["status"] for p in today_view["phases"]] == ["open", "pending"]
    assert today_view["phases"][0]["overdue"] == 0


def test_an_unknown_campaign_in_an_empty_data_folder_says_which_folder(tmp_path: Path) -> None:
    """Run from another folder than the usual one, the default ./.campaign is a new, empty
    one: the campaign rolled out elsewhere is 'not there', and it says where it looked."""
    elsewhere = tmp_path / "另一个目录"
    elsewhere.mkdir()
    env = {k: v for k, v in cli_env().items() if k not in ("CAMPAIGN_HOME", "PREFECT_HOME")}
    result = subprocess.run(
        [str(CAMPAIGN), "status", "winter-visits-2026"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        timeout=240,
    )
    assert result.returncode == 2
    assert "错误：没有活动 winter-visits-2026（已下发：无（查的是数据文件夹 " in result.stderr
    assert f"{elsewhere / '.campaign'}；在别处下发过的" in result.stderr, result.stderr
    assert_no_traceback(result)
