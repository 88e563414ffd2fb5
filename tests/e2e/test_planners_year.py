"""The planner's year as a planner runs it: next year's holidays from the State Council's
notice, a campaign as a workbook and back, and the burden the campaigns put on each unit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.e2e.test_cli import REPO, assert_no_traceback, campaign_2027, run

NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2027年元旦、春节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月6日（农历正月初一、周六）至2月12日（农历正月初七、周五）放假调休，共7天。2月14日（周日）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作。
"""


def test_next_years_holidays_come_from_the_notice(tmp_path: Path) -> None:
    # the department's data folder holds its holiday tables, not the program's config/
    tables = Path(os.environ["CAMPAIGN_HOME"]) / "holidays"
    env: dict[str, str] = {}
    campaign = campaign_2027(tmp_path, start="2027-02-05", end="2027-02-20")
    assert run("validate", campaign, env=env).returncode == 2  # no 2027 yet

    notice = tmp_path / "通知.txt"
    notice.write_text(NOTICE_2027, encoding="gb18030")  # as Notepad saves it on Windows
    result = run("calendar", "import-notice", notice, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{tables / '2027.yaml'}: 2027年放假10天（2个假期），调休上班1天" in result.stdout
    assert "2027年共" in result.stdout and "已替换" not in result.stdout
    assert (tables / "2027.yaml").is_file()

    # Feb 5 is a Friday before the break; the phase ends Feb 20, a Saturday: rolled to Feb 19
    checked = run("validate", campaign, env=env)
    assert checked.returncode == 0, checked.stdout
    assert "2027-02-05 至 2027-02-19" in checked.stdout
    month = run("calendar", "2027-02", env=env)
    assert month.returncode == 0 and "春节" in month.stdout
    assert "工作日16天，休息日12天" in month.stdout  # 20 weekdays, 5 off, one Sunday worked

    again = run("calendar", "import-notice", notice, env=env)
    assert again.returncode == 2 and "已存在；确认要替换时加 --replace" in again.stderr
    replaced = run("calendar", "import-notice", notice, "--replace", env=env)
    assert replaced.returncode == 0, replaced.stderr
    assert "已替换原有的2027年表：已下发的活动再运行一次 campaign rollout" in replaced.stdout
    assert not (REPO / "config" / "holidays").exists()


def test_a_notice_with_a_wrong_weekday_or_count_writes_nothing(tmp_path: Path) -> None:
    tables = tmp_path / "holidays"
    env = {"CAMPAIGN_HOLIDAYS_DIR": str(tables)}
    notice = tmp_path / "notice.txt"
    notice.write_text(
        NOTICE_2027.replace("共7天", "共8天").replace("2月14日（周日）", "2月14日（周六）"),
        encoding="utf-8",
    )
    result = run("calendar", "import-notice", notice, env=env)
    assert result.returncode == 2
    assert f"{notice}:5: 写的是共8天，2月6日至2月12日是7天：「共8天」" in result.stdout
    assert f"{notice}:5: 2月14日是周日，通知写的是周六" in result.stdout
    assert "未导入，什么也没有写" in result.stdout
    assert not (tables / "2027.yaml").exists()
    assert_no_traceback(result)


def test_a_campaign_goes_to_a_workbook_and_comes_back_as_a_file(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    book = tmp_path / "计划.xlsx"
    exported = run("plan", "export", "village-meetings-2013", "--xlsx", book)
    assert exported.returncode == 0, exported.stderr
    assert f"{book}: village-meetings-2013（基层组织会议机制）：环节2个，事项3项" in exported.stdout

    # the planner renames the campaign and moves the committee meetings to fortnightly: no
    # such cadence, refused at its cell with nothing written
    wb = load_workbook(book)
    wb["活动"]["B2"] = "village-meetings-2014"
    wb["事项"]["K2"] = "每两周"
    wb.save(book)
    target = tmp_path / "out" / "vm-2014.yaml"
    refused = run("plan", "import", book, "--out", target)
    assert refused.returncode == 2
    assert f"{book}:事项!K2: 周期：应为每周、每月" in refused.stdout
    assert "未导入，什么也没有写" in refused.stdout
    assert not target.exists()
    assert_no_traceback(refused)

    wb["事项"]["K2"] = "每月"
    wb["环节"]["C2"] = "2014年1月1日"
    wb["环节"]["D2"] = "2014年12月底"
    wb["环节"]["C3"] = "2014年7月上旬"
    wb["环节"]["D3"] = "2014年12月底"
    wb.save(book)
    imported = run("plan", "import", book, "--out", target)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert f"{target}：通过：village-meetings-2014" in imported.stdout
    assert "2014-01-02 至 2014-12-31" in imported.stdout  # Jan 1 a holiday
    checked = run("validate", target)
    assert checked.returncode == 0, checked.stdout
    assert "every: month" in target.read_text(encoding="utf-8")
    assert "start: early 2014-07" in target.read_text(encoding="utf-8")
    # the file named no roles: it goes on taking its organization's, not a copy of them
    assert "responsible_roles" not in target.read_text(encoding="utf-8")

    again = run("plan", "import", book, "--out", target)
    assert again.returncode == 2 and "已存在；确认要替换时加 --replace" in again.stderr


RECORDS_2013 = """\
key: village-records-2013
name: 村级组织生活记录
organization: weihai-etdz
phases:
  - key: all-year
    name: 全年
    start: 2013-01-01
    end: 2013-12-31
    obligations:
      - key: monthly-record
        title: 每月报送党员和村民代表会记录
        subject: {units: {kinds: [village]}}
        recurrence: {every: month}
        evidence:
          note: true
          files: 1
          counts: [{key: attendees, name: 参会人数, min: 1}]
      - key: weekly-photo
        title: 每周上传工作照片并签到
        subject: {units: {kinds: [village]}}
        recurrence: {every: week}
        evidence: {files: 1}
targets:
  - {key: ranking, name: 党员积分排名前十, value: 10}
"""


def _sheet(path: Path, name: str) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook

    return list(load_workbook(path, read_only=True)[name].iter_rows(values_only=True))


def test_the_burden_of_the_meeting_campaign_on_the_shipped_district(tmp_path: Path) -> None:
    from tests.e2e.test_cli import import_shipped_org

    assert import_shipped_org(tmp_path / "ops").returncode == 0
    book = tmp_path / "负担.xlsx"
    result = run("burden", "village-meetings-2013", "--xlsx", book)
    assert result.returncode == 0, result.stdout + result.stderr
    # Counted from the file: each of the 100 villages holds a committee meeting every week of
    # 2013 (53 windows: Jan 4–6 to Dec 30–31) and a representatives' meeting every month (12),
    # each with one signed record; each of the 3 towns one area exchange a month, July to
    # December (6), no file, no sign-off.
    months = {row[0]: row[1:] for row in _sheet(book, "各月合计")[1:]}
    assert sum(r[0] for r in months.values()) == 100 * (53 + 12) + 3 * 6  # items
    assert sum(r[2] for r in months.values()) == 100 * (53 + 12)  # files
    assert sum(r[3] for r in months.values()) == 100 * (53 + 12)  # sign-offs
    assert sum(r[4] for r in months.values()) == 100 * (53 + 12) + 3 * 6  # meetings
    # January: committee weeks due Jan 6, 11, 18, 25 (Feb 1 is February's) and one month
    assert months["2013-01"][0] == 100 * (4 + 1)
    assert months["2013-07"][0] == 100 * (4 + 1) + 3
    assert "2013-12" in result.stdout and "负担最重的10个单位" in result.stdout
    assert "重复索要" in result.stdout

    one = run("burden", "village-meetings-2013", "--unit", "boyu", "--from", "2013-07-01",
              "--to", "2013-12-31", "--xlsx", tmp_path / "泊于.xlsx")  # fmt: skip
    assert one.returncode == 0, one.stdout + one.stderr
    rows = _sheet(tmp_path / "泊于.xlsx", "逐单位逐月")[1:]
    assert {r[3] or r[1] for r in rows} == {"泊于镇"}  # the town and its 30 villages only
    assert len({r[0] for r in rows}) == 1 + 30
    assert all("2013-07" <= str(r[4]) <= "2013-12" for r in rows)

    unknown = run("burden", "--unit", "nowhere")
    assert unknown.returncode == 2 and "组织 weihai-etdz 中没有单位 nowhere" in unknown.stderr


def test_two_campaigns_asking_a_village_for_one_record_are_found(tmp_path: Path) -> None:
    from tests.e2e.test_cli import import_shipped_org

    assert import_shipped_org(tmp_path / "ops").returncode == 0
    elsewhere = tmp_path / "规划" / "village-records-2013.yaml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(RECORDS_2013, encoding="utf-8")
    checked = run("validate", elsewhere)
    assert checked.returncode == 0, checked.stdout  # warnings never fail
    assert f"{elsewhere}:22: phases[0].obligations[1].evidence.files: 提醒：每次都要1个附件" in (
        checked.stdout
    )
    assert "要求签到：规定禁止打卡、签到类要求" in checked.stdout
    assert "目标“党员积分排名前十”含排名、积分：规定禁止对人员积分排名" in checked.stdout
    # said wherever the campaign comes in: from a planner's workbook (at its cell), and when
    # it is rolled out
    plan = tmp_path / "计划.xlsx"
    assert run("plan", "export", elsewhere, "--xlsx", plan).returncode == 0
    back = run("plan", "import", plan, "--out", tmp_path / "back.yaml")
    assert back.returncode == 0, back.stdout + back.stderr
    assert f"{plan}:事项!P3: 提醒：每次都要1个附件" in back.stdout, back.stdout
    rolled = run("rollout", elsewhere, "--as-of", "2013-01-04")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert f"{elsewhere}:22: phases[0].obligations[1].evidence.files: 提醒：每次都要1个附件" in (
        rolled.stdout
    )

    book = tmp_path / "b.xlsx"
    result = run("burden", "village-meetings-2013", elsewhere, "--xlsx", book)
    assert result.returncode == 0, result.stdout + result.stderr
    repeats = _sheet(book, "重复索要")[1:]
    # the representatives' meeting record (note, one file, attendees) asked again monthly:
    # 100 villages, 12 months each
    assert (
        "village-meetings-2013",
        "每月召开一次党员和村民代表会，镇机关干部现场指导把关并在会议记录上签字确认",
        "village-records-2013",
        "每月报送党员和村民代表会记录",
        100,
        1200,
    ) in repeats
    assert len(repeats) == 1  # the weekly photo asks no note nor count: not the same record


def test_burden_of_a_district_of_ones_own_weighs_its_own_campaigns(tmp_path: Path) -> None:
    # only their own organization imported; their campaigns folder beside the shipped one's
    # examples, which belong to a district they never imported
    from tests.e2e.test_own_district import CAMPAIGN, lingang_workbook

    folder = tmp_path / "活动"
    folder.mkdir()
    (folder / "eight-rules-study-2025.yaml").write_text(CAMPAIGN, encoding="utf-8")
    shipped = Path(__file__).parents[2] / "config" / "campaigns" / "village-meetings-2013.yaml"
    (folder / "village-meetings-2013.yaml").write_bytes(shipped.read_bytes())
    env = {"CAMPAIGN_CAMPAIGNS_DIR": str(folder)}
    assert run("orgs", "import", lingang_workbook(tmp_path / "临港区.xlsx")).returncode == 0
    result = run("burden", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "中属于未导入组织（weihai-etdz）的活动未计入" in result.stdout
    assert "临港区 · 1项活动 · 各月基层负担" in result.stdout
    assert "东滩1村" in result.stdout
    assert_no_traceback(result)
    # their list is theirs too: the examples of a district never imported are counted, not shown
    listed = run("list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "（eight-rules-study-2025）" in listed.stdout
    assert "（village-meetings-2013）" not in listed.stdout
    assert f"{folder} 中另有 1 项属于未导入组织（weihai-etdz）的活动，未列出" in listed.stdout
