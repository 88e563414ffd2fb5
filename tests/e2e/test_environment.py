"""Faults of the environment, as a user meets them: each is one line naming the setting
and exit 2, never a traceback and never an empty database made by mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import assert_no_traceback, run


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"CAMPAIGN_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x"},
            "数据库 postgresql+psycopg://postgres@127.0.0.1:1/x 无法使用：connection failed",
        ),
        (
            {"CAMPAIGN_DATABASE_URL": "postgresql+psycopg://postgres:pw@127.0.0.1:5432/no_such_db"},
            'database "no_such_db" does not exist',
        ),
        ({"CAMPAIGN_HOME": "/proc/no-such/home"}, "CAMPAIGN_HOME /proc/no-such/home"),
        ({"CAMPAIGN_MAX_FILE_MB": "inf"}, "CAMPAIGN_MAX_FILE_MB：应为有限的数"),
        ({"CAMPAIGN_NOTIFY_DEFAULT": "notaurl"}, "CAMPAIGN_NOTIFY_DEFAULT：应为 Apprise 地址"),
        (
            {"PREFECT_API_URL": "http://127.0.0.1:1/api"},
            "Prefect 服务器 http://127.0.0.1:1/api 没有应答",
        ),
    ],
)
def test_a_bad_environment_is_one_line_and_exit_2(env: dict[str, str], says: str) -> None:
    result = run("remind", "--as-of", "2013-09-05", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert_no_traceback(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 1 and says in errors[0], result.stderr
    assert ":pw@" not in result.stderr  # a password is never printed


def test_a_mistyped_sqlite_path_outside_the_home_makes_no_database(tmp_path: Path) -> None:
    typo = tmp_path / "campaing" / "campaign.db"
    env = {"CAMPAIGN_DATABASE_URL": f"sqlite:///{typo}"}
    result = run("status", "mass-line-2013", env=env)
    assert result.returncode == 2
    assert f"{typo} 处没有数据库（路径写错了？）" in result.stderr
    assert not typo.exists() and not typo.parent.exists()
    made = run("db", "upgrade", env=env)  # said on purpose, it is made
    assert made.returncode == 0, made.stderr
    assert typo.exists()
