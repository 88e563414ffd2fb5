"""The planner's year as a planner runs it: next year's holidays from the State Council's
notice, a campaign as a workbook and back, and the burden the campaigns put on each unit."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import assert_no_traceback, run

NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2027年元旦、春节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月6日（农历除夕、周六）至2月12日（农历正月初六、周五）放假调休，共7天。2月14日（周日）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作。
"""


def _campaign_2027(folder: Path) -> Path:
    path = folder / "c2027.yaml"
    path.write_text(
        "key: c2027\nname: 二〇二七年活动\norganization: weihai-etdz\nphases:\n"
        "  - key: a\n    name: 甲\n    start: 2027-02-05\n    end: 2027-02-20\n",
        encoding="utf-8",
    )
    return path


def test_next_years_holidays_come_from_the_notice(tmp_path: Path) -> None:
    tables = tmp_path / "holidays"
    env = {"CAMPAIGN_HOLIDAYS_DIR": str(tables)}
    campaign = _campaign_2027(tmp_path)
    assert run("validate", campaign, env=env).returncode == 2  # no 2027 yet

    notice = tmp_path / "通知.txt"
    notice.write_text(NOTICE_2027, encoding="gb18030")  # as Notepad saves it on Windows
    result = run("calendar", "import-notice", notice, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{tables / '2027.yaml'}: 2027年放假10天（2个假期），调休上班1天" in result.stdout
    assert "2027年共" in result.stdout
    assert (tables / "2027.yaml").is_file()

    # Feb 5 is a Friday before the break; the phase ends Feb 20, a Saturday: rolled to Feb 19
    checked = run("validate", campaign, env=env)
    assert checked.returncode == 0, checked.stdout
    assert "2027-02-05 to 2027-02-19" in checked.stdout
    month = run("calendar", "2027-02", env=env)
    assert month.returncode == 0 and "春节" in month.stdout
    assert "工作日16天，休息日12天" in month.stdout  # 20 weekdays, 5 off, one Sunday worked

    again = run("calendar", "import-notice", notice, env=env)
    assert again.returncode == 2 and "已存在；确认要替换时加 --replace" in again.stderr
    assert run("calendar", "import-notice", notice, "--replace", env=env).returncode == 0


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
