"""The web door over HTTP, as a village secretary, a town official and someone trying what
they should not: sign-in links, the list, a report with a photo serving two campaigns' items,
a second tap, the sign-off, and every refusal writing nothing."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.db_fixtures import fresh_pg_database
from tests.e2e.test_cli import REPO, operators_csv, run
from tests.receivers import HttpReceiver, http_receiver
from tests.web_door import (
    OTHER_SECRETARY,
    OTHER_TOWN_COMMITTEE,
    SECRETARY,
    TOWN_COMMITTEE,
    Door,
    door_server,
    form_value,
    png_bytes,
    report,
)

# One server and data folder for the module: every test of it on one xdist worker.
pytestmark = pytest.mark.xdist_group("web-door")


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as found:
        yield found


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def door(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    receiver: HttpReceiver,
) -> Iterator[Door]:
    """The door on each database: SQLite in its data folder, or a PostgreSQL database of
    its own (as the scaled set-up runs it)."""
    with ExitStack() as stack:
        url = stack.enter_context(fresh_pg_database()) if request.param == "postgresql" else None
        folder = tmp_path_factory.mktemp("door")
        yield stack.enter_context(door_server(folder, receiver.url(), database_url=url))


def _json(value: object) -> dict:
    """A JSON column as read back: PostgreSQL's driver decodes it, SQLite gives text."""
    return value if isinstance(value, dict | list) else json.loads(str(value))  # type: ignore[return-value]


def evidence_rows(door: Door) -> int:
    return door.count("SELECT count(*) FROM evidence")


def test_health_answers_without_a_session(door: Door) -> None:
    assert httpx.get(f"{door.url}/health").json() == {"status": "ok"}
    # every page but sign-in sends a stranger to sign in
    anonymous = httpx.get(f"{door.url}/", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"


def test_a_link_signs_in_once_and_an_expired_link_never(door: Door) -> None:
    link = door.link(SECRETARY)
    assert link.startswith(f"{door.url}/login?t=")
    token = link.split("t=", 1)[1]
    assert door.count("SELECT count(*) FROM web_link WHERE token_hash = :t", t=token) == 0
    first = httpx.post(f"{door.url}/login", data={"t": token}, follow_redirects=False)
    assert first.status_code == 303
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    again = httpx.post(f"{door.url}/login", data={"t": token})
    assert again.status_code == 403 and "链接无效、已用过或已过期" in again.text
    short = door.link(SECRETARY, env={"CAMPAIGN_WEB_LINK_DAYS": "0.00001"})  # under a second
    import time

    time.sleep(1.5)
    late = httpx.post(f"{door.url}/login", data={"t": short.split("t=", 1)[1]})
    assert late.status_code == 403
    # a chat app's preview fetching the link does not spend it: GET only asks for a tap
    unspent = door.link(SECRETARY).split("t=", 1)[1]
    assert httpx.get(f"{door.url}/login", params={"t": unspent}).status_code == 200
    assert (
        httpx.post(f"{door.url}/login", data={"t": unspent}, follow_redirects=False).status_code
        == 303
    )


def test_a_village_reports_once_for_two_campaigns_and_the_town_signs(
    door: Door, receiver: HttpReceiver
) -> None:
    # the invitation reaches the secretary's own channel; the group robot's member gets none
    invited = door.campaign("web", "invite", "--unit", "qiaotou-v01")
    assert invited.returncode == 0, invited.stderr
    assert "已发送邀请 1 人" in invited.stdout
    message = receiver.received[-1]
    assert message["door"].startswith(f"{door.url}/login?t=")
    assert "链接7天内有效，只能使用一次" in message["message"]
    robot_only = door.campaign("web", "invite", OTHER_SECRETARY)
    assert "1 人没有本人的渠道" in robot_only.stdout and OTHER_SECRETARY in robot_only.stdout

    browser = httpx.Client(base_url=door.url, timeout=30)
    token = message["door"].split("t=", 1)[1]
    assert browser.post("/login", data={"t": token}, follow_redirects=False).status_code == 303
    todo = browser.get("/").text
    assert "召开党员大会" in todo and "召开专题党员大会" in todo and "报送党员名册" in todo
    assert todo.index("报送党员名册") < todo.index("召开党员大会")  # overdue first
    assert "已逾期3个工作日" in todo or "已逾期" in todo

    build = door.item_id("village-build", "meeting", "qiaotou-v01")
    study = door.item_id("study", "meeting", "qiaotou-v01")
    page = browser.get(f"/items/{build}").text
    assert "参会人数（至少1）" in page and "附件1份" in page and "镇（街道）组织委员签字" in page
    assert 'name="count-attendees" type="number" inputmode="numeric" min="1"' in page
    assert f'name="also" value="{study}"' in page  # the same record answers the study item
    before = evidence_rows(door)
    form = {
        "csrf": form_value(page, "csrf"),
        "nonce": form_value(page, "nonce"),
        "count-attendees": "23",
        "note": "12月3日召开党员大会，学习规范化建设要求",
        "dated": door.today.isoformat(),
        "also": str(study),
    }
    # a superscript ² passes str.isdigit, then int() refused it: a server error, once
    typo = browser.post(f"/items/{build}", data={**form, "nonce": "typo", "count-attendees": "2³"})
    assert typo.status_code == 400 and "参会人数：2³ 不是整数" in typo.text, typo.text
    assert evidence_rows(door) == before
    # shown again as it was filled in (the photo must be chosen again, and it says so)
    assert ">12月3日召开党员大会，学习规范化建设要求</textarea>" in typo.text
    assert 'value="2³"' in typo.text and f'value="{study}" checked' in typo.text
    assert "附件须重新选择" in typo.text
    photo = ("会议照片.png", png_bytes(b"GPS\x0036.9N 122.1E"), "image/png")
    sent = browser.post(f"/items/{build}", data=form, files={"files": photo})
    assert sent.status_code == 200, sent.text
    assert "已报送。召开党员大会：待签字；召开专题党员大会：已完成" in sent.text
    # a second tap of the same form records nothing more
    tapped = browser.post(f"/items/{build}", data=form, files={"files": photo})
    assert tapped.status_code == 200 and "已报送。" in tapped.text
    assert evidence_rows(door) == before + 2
    assert door.status("village-build", "meeting", "qiaotou-v01") == "submitted"
    assert door.status("study", "meeting", "qiaotou-v01") == "accepted"
    # awaiting its signature, the meeting says 已报送, below what the village still has to do
    listed = browser.get("/").text
    assert '<span class="tag waiting">已报送</span><span class="tag status">待签字</span>' in listed
    tags = re.findall(r'class="tag (overdue|today|upcoming|waiting|done)"', listed)
    assert len(tags) > 1 and tags[-1] == "waiting" and tags.count("waiting") == 1, tags
    # and it is not counted among what is still to do
    assert f"：待办{len(tags) - 1}项" in listed and "；已报送待签字1项" in listed, listed
    files = [_json(r[0]) for r in door.rows("SELECT files FROM evidence")]
    stored = [f for row in files for f in row if f["name"] == "会议照片.png"]
    assert len(stored) == 2 and stored[0]["stripped"] and stored[0]["sha256"] == stored[1]["sha256"]
    assert (door.home / "files" / stored[0]["sha256"][:2] / stored[0]["sha256"]).is_file()

    # the secretary may not sign it; the town's organization committee member does
    assert "没有等您签字的事项" in browser.get("/sign").text
    official = door.sign_in(TOWN_COMMITTEE)
    listing = official.get("/sign").text
    assert "胡伟 报送：参会人数23" in listing and f'action="/sign/{build}"' in listing
    signed = official.post(
        f"/sign/{build}", data={"csrf": form_value(listing, "csrf"), "decision": "accept"}
    )
    assert signed.status_code == 303
    assert "召开党员大会（何家泊村）：已完成" in official.get(signed.headers["location"]).text
    status = json.loads(door.campaign("status", "village-build", "--json").stdout)
    qiaotou = next(t for t in status["towns"] if t["code"] == "qiaotou")
    assert qiaotou["accepted"] == 1
    events = [
        (actor, action, _json(payload))
        for actor, action, payload in door.rows(
            "SELECT actor, action, payload FROM audit_event ORDER BY id"
        )
    ]
    web = [(a, act) for a, act, p in events if p.get("via") == "web"]
    assert (SECRETARY, "web.signed-in") in web
    assert (SECRETARY, "evidence.submitted") in web and (SECRETARY, "evidence.accepted") in web
    assert (TOWN_COMMITTEE, "evidence.accepted") in web
    assert any(p.get("via", "").startswith("cli:") for _, act, p in events
               if act == "web.link-printed")  # fmt: skip
    assert "审计链完好" in door.campaign("audit", "verify").stdout


def report_meeting(
    client: httpx.Client, item: int, dated: str, note: str = "开会", record: str = "会议记录"
) -> httpx.Response:
    """A meeting reported as a village does: attendees, a note and the record as a file."""
    fields = {"count-attendees": "5", "note": note, "dated": dated}
    return report(
        client, item, fields, files={"files": (f"{record}.txt", record.encode(), "text/plain")}
    )


def test_a_rejection_shows_its_reason_and_the_village_reports_again(door: Door) -> None:
    item = door.item_id("village-build", "meeting", "qiaotou-v03")
    secretary = door.sign_in("p-qiaotou-v03-sec")
    page = secretary.get(f"/items/{item}").text
    tomorrow = (door.today + dt.timedelta(days=1)).isoformat()  # the form's max, got round
    ahead = secretary.post(
        f"/items/{item}",
        data={"csrf": form_value(page, "csrf"), "nonce": form_value(page, "nonce"),
              "count-attendees": "5", "note": "开会", "dated": tomorrow},
    )  # fmt: skip
    assert ahead.status_code == 400 and f"办理日期 {tomorrow} 晚于今天" in ahead.text
    long_ago = report_meeting(secretary, item, "2021-03-01")
    assert long_ago.status_code == 400, long_ago.text
    assert "日期2021-03-01早于" in long_ago.text and "请核对办理日期" in long_ago.text
    report_meeting(secretary, item, door.today.isoformat())
    # reported, awaiting the town's signature: a new report would replace this one
    assert "重新报送（替换待签字的一次）" in secretary.get(f"/items/{item}").text
    official = door.sign_in(TOWN_COMMITTEE)
    listing = official.get("/sign").text
    no_reason = official.post(
        f"/sign/{item}", data={"csrf": form_value(listing, "csrf"), "decision": "reject"}
    )
    assert no_reason.status_code == 400 and "退回需要写明理由" in no_reason.text
    nul_reason = official.post(
        f"/sign/{item}",
        data={"csrf": form_value(listing, "csrf"), "decision": "reject", "reason": "\x00 "},
    )
    assert nul_reason.status_code == 400 and "退回需要写明理由" in nul_reason.text
    official.post(
        f"/sign/{item}",
        data={"csrf": form_value(listing, "csrf"), "decision": "reject", "reason": "缺少签到表"},
    )
    todo = secretary.get("/").text
    assert "已退回" in todo and "退回理由：缺少签到表" in todo
    again = secretary.get(f"/items/{item}").text
    assert "<h2>报送</h2>" in again  # the form is there again
    report_meeting(secretary, item, door.today.isoformat(), note="补签到表", record="签到表")
    history = secretary.get(f"/items/{item}").text
    assert history.count("（已由后一次报送替换）") == 1, history  # the first, sent back


def test_a_done_item_says_how_it_was_done_not_how_late_it_is(door: Door) -> None:
    secretary = door.sign_in("p-qiaotou-v04-sec")
    roster = door.item_id("village-build", "roster", "qiaotou-v04")  # due three days ago
    assert "已逾期" in secretary.get(f"/items/{roster}").text
    sent = report(secretary, roster, {"note": "名册已报", "dated": door.today.isoformat()})
    assert sent.status_code == 200 and "已报送。报送党员名册：已完成" in sent.text
    assert re.search(r'class="tag done">逾期(\d+个工作日)?完成<', sent.text), sent.text
    assert "已逾期" not in sent.text
    # done before the deadline (the study meeting, due in ten days)
    study = door.item_id("study", "meeting", "qiaotou-v04")
    assert "参会人数（至少1）" in secretary.get(f"/items/{study}").text
    yesterday = (door.today - dt.timedelta(days=1)).isoformat()
    report_meeting(secretary, study, yesterday, note="学习")
    assert 'class="tag done">按期完成<' in secretary.get(f"/items/{study}").text
    # held yesterday, reported today, before its deadline: not 补录
    status = json.loads(door.campaign("status", "study", "--json").stdout)
    assert status["backfilled"] == 0, status


def test_what_is_not_theirs_is_refused_and_writes_nothing(door: Door) -> None:
    secretary = door.sign_in(SECRETARY)
    mine = door.item_id("village-build", "roster", "qiaotou-v01")
    theirs = door.item_id("village-build", "roster", "qiaotou-v02")
    page = secretary.get(f"/items/{mine}").text
    csrf, nonce = form_value(page, "csrf"), form_value(page, "nonce")
    before = evidence_rows(door)
    # another village's item, guessed in the address
    assert secretary.get(f"/items/{theirs}").status_code == 404
    posted = secretary.post(f"/items/{theirs}", data={"csrf": csrf, "nonce": nonce, "note": "冒名"})
    assert posted.status_code == 404
    # ... or slipped into the form as another item to report for
    forged = secretary.post(
        f"/items/{mine}",
        data={"csrf": csrf, "nonce": nonce + "x", "note": "名册", "also": str(theirs)},
    )
    assert forged.status_code == 403
    # ids that are no row's: beyond 64 bits (the database cannot compare them), a ² that
    # str.isdigit passes and int() refuses, 5,000 digits; once each a server error
    huge = "9" * 20
    for address in (f"/items/{huge}", "/items/0", "/items/²", f"/sign?signed={huge}"):
        refused = secretary.get(address)
        assert refused.status_code == 404 and "没有这个页面" in refused.text, address
    assert secretary.post(f"/sign/{huge}", data={"csrf": csrf}).status_code == 404
    assert secretary.post(f"/checks/{huge}", data={"csrf": csrf}).status_code == 404
    for also in ("²", "9" * 5000, huge):
        slipped = secretary.post(
            f"/items/{mine}", data={"csrf": csrf, "nonce": nonce + also[:2], "also": also}
        )
        assert slipped.status_code == 403, also
    # no CSRF token, or another session's
    assert secretary.post(f"/items/{mine}", data={"nonce": "n1", "note": "x"}).status_code == 403
    other = door.sign_in(OTHER_SECRETARY)
    other_csrf = form_value(other.get("/").text, "csrf")
    stolen = secretary.post(f"/items/{mine}", data={"csrf": other_csrf, "nonce": "n2", "note": "x"})
    assert stolen.status_code == 403
    # a program named as a photo, and a file over the limit, are refused before any row
    program = secretary.post(
        f"/items/{door.item_id('village-build', 'meeting', 'qiaotou-v01')}",
        data={"csrf": csrf, "nonce": "n3", "count-attendees": "3", "note": "x"},
        files={"files": ("照片.jpg", b"MZ\x90\x00" + b"\x00" * 64, "image/jpeg")},
    )
    assert program.status_code == 400 and "按内容看不是可接受的文件" in program.text
    # a town official of another town may not sign 桥头镇's villages
    assert (
        door.sign_in(OTHER_TOWN_COMMITTEE)
        .post(
            f"/sign/{door.item_id('village-build', 'meeting', 'qiaotou-v01')}",
            data={"csrf": "whatever", "decision": "accept"},
        )
        .status_code
        == 403
    )
    assert evidence_rows(door) == before


def test_a_revoked_session_and_too_many_bad_links_are_refused(door: Door) -> None:
    secretary = door.sign_in("p-qiaotou-v05-sec")
    assert secretary.get("/").status_code == 200
    ended = door.campaign("web", "sessions", "--revoke", "p-qiaotou-v05-sec")
    assert ended.returncode == 0 and "已结束 1 个登录" in ended.stdout
    gone = secretary.get("/")
    assert gone.status_code == 303 and gone.headers["location"] == "/login"
    # guessing links from one address (127.0.0.2, so that the other tests' failures from
    # 127.0.0.1 do not count): the tenth failure closes the door to it, a good link included
    good = door.link("p-qiaotou-v06-sec").split("t=", 1)[1]
    guesser = httpx.Client(
        base_url=door.url, transport=httpx.HTTPTransport(local_address="127.0.0.2")
    )
    for n in range(10):
        assert guesser.post("/login", data={"t": f"guess{n}"}).status_code == 403
    limited = guesser.post("/login", data={"t": good})
    assert limited.status_code == 429 and "尝试次数过多" in limited.text
    # ... and not to others
    assert httpx.post(f"{door.url}/login", data={"t": good}).status_code in (200, 303)


def test_only_a_proxy_operator_prints_links_or_ends_sessions(tmp_path: Path) -> None:
    """In a data folder of its own: this machine's login as a plain operator."""
    operators = operators_csv(tmp_path, proxy=False)
    shipped = REPO / "config" / "orgs" / "weihai-etdz.yaml"
    imported = run("orgs", "import", shipped, operators)
    assert imported.returncode == 0 and "；操作员名单 1 人" in imported.stdout, imported.stdout
    printed = run("web", "link", SECRETARY)
    assert printed.returncode == 3 and "不能打印登录链接" in printed.stderr
    assert "t=" not in printed.stdout
    revoked = run("web", "sessions", "--revoke", SECRETARY)
    assert revoked.returncode == 3
    # an invitation goes only to the person's own channel: any operator may send it
    invited = run("web", "invite", SECRETARY)
    assert invited.returncode == 0 and "1 人没有本人的渠道" in invited.stdout


def test_an_invitation_a_channel_never_finishes_taking_fails_within_the_deadline(
    tmp_path: Path, campaign_home: Path
) -> None:
    """In a data folder of its own: the secretary's channel answers a byte every half second
    for 500 s; the invitation gives up after CAMPAIGN_DELIVERY_SECONDS, as a sweep does."""
    shipped = REPO / "config" / "orgs" / "weihai-etdz.yaml"
    assert run("orgs", "import", shipped, operators_csv(tmp_path)).returncode == 0
    with http_receiver("trickle") as hook:
        people = tmp_path / "channels.csv"
        people.write_text(
            "编码,姓名,单位,角色,通知渠道\n"
            f"{SECRETARY},胡伟,qiaotou-v01,secretary;village-cadre;party-member,{hook.url()}\n",
            encoding="utf-8",
        )
        assert run("orgs", "import", people).returncode == 0
        env = {"CAMPAIGN_DELIVERY_SECONDS": "2", "CAMPAIGN_WEB_URL": "http://127.0.0.1:9"}
        invited = run("web", "invite", SECRETARY, env=env)  # run() gives up after 240 s
        assert len(hook.received) == 1  # it reached the channel, which never finished
    assert invited.returncode == 1
    assert "1 人的邀请未能送达，其链接已作废" in invited.stdout
    assert "2 秒内没有完整答复" in invited.stdout
    with sqlite3.connect(campaign_home / "campaign.db") as db:
        # the link the message carried can never sign in
        assert db.execute("SELECT count(*) FROM web_link WHERE used_at IS NULL").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM web_link").fetchone() == (1,)


def test_a_gate_or_a_check_of_someone_elses_is_refused(door: Door) -> None:
    """A village secretary guessing an approver's gate or an inspector's sample: 404, and
    nothing is recorded."""
    made = door.campaign("inspect", "pilot", "--as-of", door.today.isoformat())
    assert made.returncode == 0, made.stderr
    sample = door.count("SELECT min(id) FROM inspection_sample")
    secretary = door.sign_in(SECRETARY)
    home = secretary.get("/").text
    # the pages of roles the secretary does not hold are not even offered
    assert 'href="/gates"' not in home and 'href="/checks"' not in home, home
    assert 'href="/progress"' in home  # a secretary answers for the village
    csrf = form_value(home, "csrf")
    gate = secretary.post(
        "/gates/pilot/pilot-review", data={"csrf": csrf, "decision": "approve", "notes": "x"}
    )
    assert gate.status_code == 404
    assert "您不是抽查人员" in secretary.get("/checks").text
    check = secretary.post(f"/checks/{sample}", data={"csrf": csrf, "result": "pass"})
    assert check.status_code == 404
    assert "没有等您审批的闸门" in secretary.get("/gates").text
    assert door.count("SELECT count(*) FROM gate_decision") == 0
    assert door.count("SELECT count(*) FROM inspection_sample WHERE result IS NOT NULL") == 0
    # an inspector may not answer the gate either, nor an approver record a check
    inspector = door.sign_in("p-info-1")
    home = inspector.get("/").text
    assert 'href="/checks"' in home and 'href="/gates"' not in home, home
    icsrf = form_value(home, "csrf")
    assert (
        inspector.post(
            "/gates/pilot/pilot-review", data={"csrf": icsrf, "decision": "approve"}
        ).status_code
        == 404
    )
    approver = door.sign_in("p-org-head-1")
    acsrf = form_value(approver.get("/").text, "csrf")
    assert (
        approver.post(f"/checks/{sample}", data={"csrf": acsrf, "result": "pass"}).status_code
        == 404
    )
    assert door.count("SELECT count(*) FROM gate_decision") == 0


def test_the_department_sees_the_district_a_level_at_a_time(door: Door) -> None:
    """The department head, whom the district's escalations reach, sees every town (not
    only the department's own unit), opens a town for its villages; a secretary may open
    no unit outside the village."""
    head = door.sign_in("p-org-head-1")
    # their own list is empty: it points to where the escalations they receive are
    assert '见<a href="/progress">进度</a>' in head.get("/").text
    district = head.get("/progress")
    assert district.status_code == 200, district.text
    text = district.text
    assert "威海经济技术开发区及下级单位" in text
    assert '<a href="/progress?unit=qiaotou">桥头镇</a>' in text and "崮山镇" in text
    assert "何家泊村" not in text  # a village is a level further down
    town = head.get("/progress?unit=qiaotou").text
    assert "桥头镇及下级单位" in town and "何家泊村" in town and "崮山镇" not in town
    assert '<a href="/progress?unit=etdz">上一级</a>' in town
    assert head.get("/progress?unit=no-such-unit").status_code == 404
    secretary = door.sign_in(SECRETARY)
    village = secretary.get("/progress").text
    # a village has no units below it: its table is headed by its name alone
    assert '<p class="meta">何家泊村</p>' in village and "及下级单位" not in village
    assert secretary.get("/progress?unit=qiaotou").status_code == 404
    assert secretary.get("/progress?unit=" + "x" * 65).status_code in (404, 422)


def test_a_weekly_duty_lists_this_weeks_window_and_counts_the_weeks_to_come(
    door: Door, tmp_path: Path
) -> None:
    """Nothing can be reported for a week that has not begun: the list shows this week's
    meeting and says how many wait and when the first opens, rather than burying it under
    the weeks to come (a year of weekly meetings is fifty rows)."""
    sunday = door.today + dt.timedelta(days=6 - door.today.weekday())
    plan = tmp_path / "weekly.yaml"
    plan.write_text(
        f"""key: weekly-study
name: 每周学习（演练）
organization: weihai-etdz
phases:
  - key: study
    name: 每周学习
    start: {door.today}
    end: {sunday + dt.timedelta(days=21)}
    obligations:
      - key: weekly
        title: 支部每周学习
        subject: {{units: {{kinds: [village], codes: [boyu-v05]}}}}
        recurrence: {{every: week}}
        evidence: {{note: true}}
""",
        encoding="utf-8",
    )
    rolled = door.campaign("rollout", plan)
    assert rolled.returncode == 0, rolled.stderr
    todo = door.sign_in("p-boyu-v05-sec").get("/").text
    assert todo.count("支部每周学习") == 1, todo  # this week's alone
    monday = sunday + dt.timedelta(days=1)
    on = f"{monday.month}月{monday.day}日"
    if monday.year != door.today.year:  # run in the last days of December
        on = f"{monday.year}年{on}"
    ahead = f"另有3项的周期尚未开始（最早{on}开始），到时列出。"
    assert ahead in todo
    # the offline template by the same rule: a row for next week would invite a date the
    # import must refuse
    sheet = tmp_path / "template.xlsx"
    made = door.campaign("evidence", "template", "weekly-study", "--xlsx", sheet)
    assert made.stdout.strip() == f"已写出 {sheet}：1 个待办事项；{ahead}", made.stderr


def test_an_empty_list_says_what_comes_when_a_phase_opens(door: Door, tmp_path: Path) -> None:
    """Nothing to do today is not nothing to come: a list left empty counts the items of
    phases not yet open, and says when the first opens."""
    opens = door.today + dt.timedelta(days=14)
    plan = tmp_path / "inspectors.yaml"
    plan.write_text(
        f"""key: inspector-training
name: 督查人员培训（演练）
organization: weihai-etdz
phases:
  - key: training
    name: 集中培训
    start: {opens}
    end: {opens + dt.timedelta(days=20)}
    obligations:
      - key: attend
        title: 参加督查业务培训
        subject: {{persons: {{roles: [inspector]}}}}
        evidence: {{note: true}}
""",
        encoding="utf-8",
    )
    rolled = door.campaign("rollout", plan)
    assert rolled.returncode == 0, rolled.stderr
    todo = door.sign_in("p-info-2").get("/").text
    assert "没有待办事项。" in todo and "参加督查业务培训" not in todo, todo
    # the phase's planned start, as the engine rolls it off a day off
    phases = door.campaign("phases", "inspector-training").stdout
    start = dt.date.fromisoformat(re.findall(r"集中培训\W+(\d{4}-\d{2}-\d{2})", phases)[0])
    first = f"{start.month}月{start.day}日"
    if start.year != door.today.year:
        first = f"{start.year}年{first}"
    assert f"另有1项所在环节尚未开始（最早{first}开始），到时列出。" in todo, todo
