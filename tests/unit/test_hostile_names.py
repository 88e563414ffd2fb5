"""Names are data, never markup or control: a phase called `环节 [/red]` prints as written,
and a name holding a newline or an ESC is refused at validation and at import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rich.console import Console

from config.campaign_files import read_campaign
from config.org_file import OrgData, UnitRow
from config.settings import get_settings
from flows.cli.console import deadline_table, phase_table
from models.domain.text_safety import written
from models.domain.working_days import WorkCalendar
from models.errors import SpecError
from models.org_rules import ExistingOrg, check_org
from tests.unit.test_campaign_files import GOOD


def test_a_name_that_looks_like_markup_prints_as_written(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.replace("name: 第一环节", "name: 环节 [/red]"), encoding="utf-8")
    loaded = read_campaign(get_settings(), str(path))
    console = Console(record=True, width=200)
    console.print(phase_table(loaded))
    console.print(deadline_table(loaded, WorkCalendar()))
    assert "环节 [/red]" in console.export_text()


@pytest.mark.parametrize("bad", ["\x1b[31m", "\n伪造的一行"])
def test_a_control_character_in_a_campaign_name_is_refused_at_its_line(
    tmp_path: Path, bad: str
) -> None:
    path = tmp_path / "c.yaml"
    escaped = bad.encode("unicode_escape").decode()
    path.write_text(
        GOOD.replace("title: 撰写心得体会", f'title: "撰写心得体会{escaped}"'), encoding="utf-8"
    )
    with pytest.raises(SpecError) as refused:
        read_campaign(get_settings(), str(path))
    text = str(refused.value)
    assert "含有控制字符" in text and "c.yaml:13: phases[0].obligations[0].title" in text


def problems_of_unit_named(name: str) -> list[str]:
    """What an organization import says of one unit with this name (org.csv row 2)."""
    data = OrgData(source=Path("org.csv"))
    unit = UnitRow("v1", name, "district", None, (), origin="import", where="org.csv:2")
    data.units.append(unit)
    return check_org(data, ExistingOrg())


def test_a_control_character_in_an_organization_name_is_refused() -> None:
    problems = problems_of_unit_named("何家泊村\n[即将到期] 伪造")
    assert any("org.csv:2" in p and "U+000A" in p for p in problems), problems


def test_a_file_channel_writes_only_inside_campaign_home(
    tmp_path: Path, campaign_home: Path
) -> None:
    from models.domain.digest import ReminderLine, build_digest
    from tasks.channels import deliver

    line = ReminderLine(1, "due", "活动", "环节", "事项", "村", "once", dt.date(2013, 9, 3))
    digest = build_digest("王明", [line], line.due, WorkCalendar(), max_lines=20, see_all="x")
    outside = tmp_path / "bashrc"
    refused = deliver(f"file://{outside}", digest)
    assert not refused.ok and "不在 CAMPAIGN_HOME" in (refused.error or "")
    assert not outside.exists()
    inside = campaign_home / "outbox" / "r.jsonl"
    assert deliver(f"file://{inside}", digest).ok and inside.read_text(encoding="utf-8")
    sneaky = deliver(f"file://{campaign_home}/../bashrc", digest)
    assert not sneaky.ok and not (tmp_path / "bashrc").exists()


def test_a_bidirectional_override_is_refused_and_never_printed() -> None:
    from flows.cli.console import unit_table
    from models.store.unit_progress import UnitRow as ProgressRow

    assert any("U+202E" in p for p in problems_of_unit_named("村委会\u202eexe.txt"))
    # a name already in the database (from before this check) prints without its tricks
    row = ProgressRow("v1", "村\x1b[2J\u202e委会", "village", 0)
    console = Console(record=True, width=200)
    console.print(unit_table([row], "2025-05-06"))
    shown = console.export_text()
    assert "村[2J委会" in shown and "\x1b" not in shown and "\u202e" not in shown


def test_a_channel_reaches_only_allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import get_settings
    from models.domain.digest import ReminderLine, build_digest
    from tasks.channels import deliver, host_refusal

    line = ReminderLine(1, "due", "活动", "环节", "事项", "村", "once", dt.date(2013, 9, 3))
    digest = build_digest("王明", [line], line.due, WorkCalendar(), max_lines=20, see_all="x")
    refused = deliver("json://collector.example.org/steal", digest)
    assert not refused.ok and "collector.example.org 不在允许之列" in (refused.error or "")
    assert host_refusal("dingrobots://oapi.dingtalk.com/robot/send?access_token=t") is None
    assert host_refusal("json://127.0.0.1:8080/hook") is None
    monkeypatch.setenv("CAMPAIGN_CHANNEL_HOSTS", "collector.example.org, smtp.example.org")
    get_settings.cache_clear()
    assert host_refusal("json://collector.example.org/steal") is None
    assert host_refusal("json://127.0.0.1:8080/hook") is not None  # the list is the list


def test_a_file_channel_naming_a_folder_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CAMPAIGN_NOTIFY_DEFAULT=file:///…/outbox/ was refused at every delivery as
    `file 拒绝投递`, which says nothing of what to mend."""
    from config.settings import get_settings
    from tasks.channels import channel_refusal

    monkeypatch.setenv("CAMPAIGN_HOME", str(tmp_path))
    get_settings.cache_clear()
    (tmp_path / "outbox").mkdir()
    for folder, url in (
        ("outbox", f"file://{tmp_path}/outbox/"),
        ("outbox", f"file://{tmp_path}/outbox"),
        ("new", f"file://{tmp_path}/new/"),
    ):
        said = f"文件渠道是文件夹，应写到一个文件，如 file://{tmp_path / folder}/提醒.jsonl"
        assert channel_refusal(url) == said, url
    assert channel_refusal(f"file://{tmp_path}/outbox/digests.jsonl") is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("开会\x00记录", "开会记录"),  # PostgreSQL cannot store a NUL in text
        ("  第一行\n第二行\t完 ", "第一行\n第二行\t完"),  # lines and tabs are a note's own
        ("\x1b\u202e\x00 ", None),  # nothing a person wrote is left
        (None, None),
    ],
)
def test_free_text_is_stored_without_the_characters_no_text_needs(
    typed: str | None, stored: str | None
) -> None:
    assert written(typed) == stored
