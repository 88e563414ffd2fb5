"""The `campaign` command as a user runs it: exit codes, what is printed, what is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CAMPAIGN = Path(sys.executable).parent / "campaign"
CAMPAIGNS = sorted((REPO / "config" / "campaigns").glob("*.yaml"))


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CAMPAIGN), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_accepts_every_shipped_campaign() -> None:
    result = run("validate", *CAMPAIGNS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": ok: ") == len(CAMPAIGNS) >= 2
    assert "mass-line-2013, 5 phases, 14 obligations, 2013-08-26 to 2013-12-31" in result.stdout


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
    assert f"{broken}:5: phases[0].start: impossible date 2013-02-30: 2013-02 has 28 days" in lines
    assert f"{empty}:1: (document): empty file, expected a campaign mapping" in lines
    assert f"{tmp_path / 'missing.yaml'}:1: (document): no such file" in lines
    assert f"{CAMPAIGNS[0]}: ok:" in result.stdout
    assert_no_traceback(result)


def test_a_2027_campaign_needs_its_holiday_table(tmp_path: Path) -> None:
    campaign = tmp_path / "c2027.yaml"
    campaign.write_text(
        "key: c2027\nname: 二〇二七年活动\norganization: weihai-etdz\nphases:\n"
        "  - key: a\n    name: 甲\n    start: 2027-01-01\n    end: mid 2027-01\n",
        encoding="utf-8",
    )
    result = run("validate", campaign)
    assert result.returncode == 2
    assert f"{campaign}:7: phases[0].start: no holiday table for 2027" in result.stdout

    tables = tmp_path / "holidays"
    tables.mkdir()
    (tables / "2027.yaml").write_text(
        "year: 2027\nholidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\nworkdays: []\n",
        encoding="utf-8",
    )
    result = run("validate", campaign, env={"CAMPAIGN_HOLIDAYS_DIR": str(tables)})
    assert result.returncode == 0, result.stdout
    # Jan 1-3 off (Jan 2-3 a weekend anyway): the campaign opens Monday Jan 4; Jan 15 is a Friday.
    assert "2027-01-04 to 2027-01-15" in result.stdout
    calendar = run("calendar", "2027-01", env={"CAMPAIGN_HOLIDAYS_DIR": str(tables)})
    assert calendar.returncode == 0 and "元旦" in calendar.stdout


def test_orgs_import_twice_gives_the_same_counts() -> None:
    shipped = REPO / "config" / "orgs" / "weihai-etdz.yaml"
    first = run("orgs", "import", shipped)
    second = run("orgs", "import", shipped)
    assert first.returncode == second.returncode == 0, first.stderr
    assert "units 175 new, 0 updated" in first.stdout
    assert "units 0 new, 175 updated" in second.stdout
    summary = (
        "单位175个（区1，镇3，街道3，村100，社区35，企业16，部门17），人员185人，结对0对，角色13种"
    )
    assert first.stdout.splitlines()[-1] == second.stdout.splitlines()[-1] == summary
    shown = run("orgs", "show", "qiaotou")
    assert shown.returncode == 0
    assert "孟家庄村" in shown.stdout and "桥头镇" in shown.stdout
    assert "（村34，企业2，人员37）" in shown.stdout


def test_orgs_import_rejects_a_bad_file_whole(tmp_path: Path) -> None:
    bad = tmp_path / "units.csv"
    bad.write_text(
        "code,name,kind,parent\netdz,经区,district,\ntown1,一镇,town,nowhere\n", encoding="utf-8"
    )
    result = run("orgs", "import", bad)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {bad}:3: unknown parent unit 'nowhere'"
    shown = run("orgs", "show")
    assert "组织机构为空" in shown.stdout
    assert_no_traceback(result)


def test_orgs_show_of_an_unknown_unit() -> None:
    result = run("orgs", "show", "atlantis")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: no unit with code 'atlantis'"


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
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")


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
    assert "学习教育、听取意见" in result.stdout
    assert "新增单位175个" in result.stdout
    assert (campaign_home / "campaign.db").exists()
