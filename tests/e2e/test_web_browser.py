"""The web door on a phone, in Debian's Chromium driven by Playwright at a 360-pixel
viewport: a village secretary opens the sign-in link of a reminder caught at the local
HTTP receiver, reports counts and a photo, the town official signs, an inspector's fail
gives the village a rectification, and an approver's approval rolls out the waves after the
gate. Screenshots land in the test's folder, or in CAMPAIGN_SCREENSHOT_DIR (how docs/web-*.png
were made)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.receivers import HttpReceiver, http_receiver
from tests.scaled.test_ui import ARGS, CHROMIUM
from tests.web_door import SECRETARY, TOWN_COMMITTEE, Door, door_server, png_bytes

pytestmark = pytest.mark.xdist_group("web-browser")
expect.set_options(timeout=30_000)  # a loaded 2-core machine renders slowly
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
    "device_scale_factor": 2, "locale": "zh-CN",
}  # fmt: skip


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as found:
        yield found


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory, receiver: HttpReceiver) -> Iterator[Door]:
    robot = receiver.url("wecomrobot", "/cgi-bin/webhook/send?key=group")
    with door_server(tmp_path_factory.mktemp("browser"), receiver.url(), robot) as found:
        yield found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (make browser)")
    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield found
        found.close()


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CAMPAIGN_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def phone(browser: Browser) -> Page:
    return browser.new_context(**PHONE).new_page()


def fits_the_screen(page: Page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def sign_in(page: Page, link: str) -> None:
    page.goto(link)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("link", name="我的待办", exact=True)).to_be_visible()


def test_a_village_reports_from_its_reminder_and_the_town_signs(
    door: Door, receiver: HttpReceiver, browser: Browser, tmp_path: Path
) -> None:
    folder = shots(tmp_path)
    swept = door.campaign("remind", "--as-of", door.today.isoformat())
    assert swept.returncode == 0, swept.stderr
    digests = [m for m in receiver.received if "胡伟" in m.get("title", "")]
    assert digests, receiver.received
    link = digests[-1]["door"]
    assert link.startswith(f"{door.url}/login?t=") and f"网上办理：{link}" in digests[-1]["message"]
    # the group robot's digest carries the door's plain address, never a sign-in
    robot = [m for m in receiver.received if m.get("msgtype") == "markdown"]
    assert robot and all(f"网上办理：{door.url}" in m["markdown"]["content"] for m in robot)
    assert not any("login?t=" in m["markdown"]["content"] for m in robot)

    page = phone(browser)
    sign_in(page, link)
    expect(page.get_by_text("召开党员大会", exact=True)).to_be_visible()
    expect(page.get_by_text("报送党员名册", exact=True)).to_be_visible()
    # only the tabs his roles can use: his village's 进度, no 待我签字, 抽查 or 闸门
    expect(page.get_by_role("link", name="进度", exact=True)).to_be_visible()
    for absent in ("待我签字", "抽查", "闸门"):
        expect(page.get_by_role("link", name=absent, exact=True)).to_have_count(0)
    fits_the_screen(page)
    page.screenshot(path=str(folder / "web-todo.png"), full_page=True)

    page.get_by_text("召开党员大会", exact=True).click()
    expect(page.get_by_text("参会人数（至少1）").first).to_be_visible()
    fits_the_screen(page)
    page.get_by_label("参会人数（至少1）").fill("23")
    page.get_by_label("说明").fill("12月3日召开党员大会，学习规范化建设要求，应到25人实到23人")
    photo = tmp_path / "会议照片.png"
    photo.write_bytes(png_bytes())
    page.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_label("主题教育（演练） · 召开专题党员大会", exact=False).check()
    page.screenshot(path=str(folder / "web-item.png"), full_page=True)
    page.get_by_role("button", name="报送").click()
    expect(
        page.get_by_text("已报送。召开党员大会：待签字；召开专题党员大会：已完成")
    ).to_be_visible()
    assert door.status("village-build", "meeting", "qiaotou-v01") == "submitted"

    official = phone(browser)
    sign_in(official, door.link(TOWN_COMMITTEE))
    official.get_by_role("link", name="待我签字", exact=True).click()
    expect(official.get_by_text("胡伟 报送：参会人数23")).to_be_visible()
    fits_the_screen(official)
    official.screenshot(path=str(folder / "web-sign.png"), full_page=True)
    official.get_by_role("button", name="签字通过").first.click()
    expect(official.get_by_text("召开党员大会（何家泊村）：已完成")).to_be_visible()
    status = json.loads(door.campaign("status", "village-build", "--json").stdout)
    assert next(t for t in status["towns"] if t["code"] == "qiaotou")["accepted"] == 1

    official.get_by_role("link", name="进度", exact=True).click()
    expect(official.get_by_text("桥头镇及下级单位").first).to_be_visible()
    fits_the_screen(official)
    official.screenshot(path=str(folder / "web-progress.png"), full_page=True)


def test_an_inspectors_fail_reaches_the_village_and_an_approval_rolls_on(
    door: Door, browser: Browser, tmp_path: Path
) -> None:
    folder = shots(tmp_path)
    made = door.campaign("inspect", "pilot", "--as-of", door.today.isoformat())
    assert made.returncode == 0 and "抽取 3 个" in made.stdout, made.stdout + made.stderr
    inspector = phone(browser)
    sign_in(inspector, door.link("p-info-1"))
    inspector.get_by_role("link", name="抽查", exact=True).click()
    card = inspector.locator(".card", has_text="何家泊村")
    card.get_by_label("发现的问题（未通过时必填）").fill("摸底情况与实际不符，党员名册缺3人")
    fits_the_screen(inspector)
    inspector.screenshot(path=str(folder / "web-checks.png"), full_page=True)
    card.get_by_role("button", name="未通过，限期整改").click()
    expect(inspector.get_by_text("何家泊村：未通过，已下达限期整改")).to_be_visible()

    village = phone(browser)
    sign_in(village, door.link(SECRETARY))
    expect(village.get_by_text("限期整改：摸底情况抽查")).to_be_visible()
    # its page says what the rectification asks, and takes the report
    village.get_by_text("限期整改：摸底情况抽查").click()
    expect(village.locator("main")).to_contain_text("需要：填写说明")
    expect(village.get_by_role("button", name="报送")).to_be_visible()
    due = door.today + dt.timedelta(days=10)
    rows = door.rows(
        "SELECT due FROM checklist_item WHERE obligation_key = 'rectification-survey-check'"
    )
    assert rows and str(rows[0][0]) <= due.isoformat()  # rolled to a working day

    before = door.count(
        "SELECT count(*) FROM checklist_item i JOIN campaign c ON c.id = i.campaign_id "
        "WHERE c.key = 'pilot' AND i.phase_key = 'rest'"
    )
    assert before == 0  # waiting at the gate
    approver = phone(browser)
    sign_in(approver, door.link("p-org-head-1"))
    approver.get_by_role("link", name="闸门", exact=True).click()
    expect(approver.get_by_text("总结试点经验，批准全面推开")).to_be_visible()
    # what the approver judges by: the pilot wave as it stands (one village a town, none late)
    expect(approver.get_by_text("试点村：3项，已完成0项，逾期0项")).to_be_visible()
    approver.get_by_label("意见（退回时必填）").fill("试点经验可行，同意全面推开")
    fits_the_screen(approver)
    approver.screenshot(path=str(folder / "web-gates.png"), full_page=True)
    approver.get_by_role("button", name="批准").click()
    expect(approver.get_by_text("总结试点经验，批准全面推开：已批准")).to_be_visible()
    deadline = time.monotonic() + 180
    rest = 0
    while time.monotonic() < deadline and rest == 0:
        time.sleep(2)
        rest = door.count(
            "SELECT count(*) FROM checklist_item i JOIN campaign c ON c.id = i.campaign_id "
            "WHERE c.key = 'pilot' AND i.phase_key = 'rest'"
        )
    log = door.home / "logs" / "web-rollouts.log"
    pilot = door.count(
        "SELECT count(*) FROM checklist_item i JOIN campaign c ON c.id = i.campaign_id "
        "WHERE c.key = 'pilot' AND i.phase_key = 'pilot'"
    )
    assert pilot == 3  # one village in each of the district's three towns
    assert rest == 100 - pilot, log.read_text() if log.exists() else "no rollout log"
