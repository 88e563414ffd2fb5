"""The Prefect UI as a person sees it, in headless Chromium (Debian's, driven by Playwright;
no browser download): log in with the auth string, open the campaign's latest run that
published progress, its Artifacts tab, the table by town; it must say what
`campaign status --json` says. Screenshots land in the test's folder, or in
CAMPAIGN_SCREENSHOT_DIR (how docs/prefect-ui-*.png were made)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.scaled.conftest import Scaled, ok

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root, in a sandbox with no network beyond loopback: no sandbox, no background calls.
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# One server for the tier: every test of it on the same xdist worker.
pytestmark = pytest.mark.xdist_group("scaled")


expect.set_options(timeout=30_000)  # a loaded 2-core machine renders slowly


def log_in(page: Page, url: str, auth: str) -> None:
    """Without the auth string the UI shows nothing but its login form."""
    page.goto(url)
    page.wait_for_url("**/login**", timeout=30_000)
    password = page.locator("input[type=password]")
    password.wait_for(timeout=30_000)
    password.fill(auth)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard**", timeout=30_000)


def test_the_progress_table_in_the_ui_matches_campaign_status(
    scaled: Scaled, rolled_out: dict[str, Any], tmp_path: Path
) -> None:
    c = scaled.cluster
    latest = c.api(
        "POST",
        "/artifacts/filter",
        {"artifacts": {"key": {"any_": ["pairing-now-towns"]}}, "sort": "CREATED_DESC", "limit": 1},
    )[0]
    run = c.api("GET", f"/flow_runs/{latest['flow_run_id']}")
    day = latest["description"].rsplit("截至", 1)[1].rstrip("）")
    status = json.loads(ok(c.campaign("status", "pairing-now", "--as-of", day, "--json")))
    shots = Path(os.environ.get("CAMPAIGN_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        log_in(page, c.ui_url, c.auth)

        page.goto(f"{c.ui_url}/v2/runs/flow-run/{run['id']}", wait_until="networkidle")
        expect(page.get_by_text(run["name"]).first).to_be_visible()
        expect(page.get_by_text("campaign:pairing-now").first).to_be_visible()
        page.get_by_role("tab", name="Artifacts").click()
        cards = page.get_by_text("pairing-now-towns")
        cards.first.wait_for()
        for key in ("pairing-now-progress", "pairing-now-summary"):
            expect(page.get_by_text(key, exact=True).first).to_be_visible()
        page.screenshot(path=str(shots / "prefect-ui-run.png"))

        cards.first.click()
        table = page.locator("table").first
        table.wait_for()
        page.screenshot(path=str(shots / "prefect-ui-towns.png"))
        cells = [
            [cell.inner_text().strip() for cell in row.locator("th,td").all()]
            for row in table.locator("tr").all()
        ]
        browser.close()

    header, *body = cells
    assert header[:5] == ["镇街", "编码", "事项", "已完成", "逾期"]
    shown = [(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in body]
    expected = [
        (t["name"], t["code"], t["items"], t["accepted"], t["overdue"]) for t in status["towns"]
    ]
    assert shown == expected
    assert sum(t[2] for t in shown) == sum(p["items"] for p in status["phases"])
    assert len(shown) >= 7  # the district's own units and its six towns and streets


@pytest.fixture(autouse=True)
def _chromium_or_fail() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (make browser)")
