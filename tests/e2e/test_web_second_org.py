"""A second district on the same door: imported from its own workbook while the door runs,
with a campaign file of its own and a person code the shipped district also uses. Each
district's people see, report, sign and follow only their own; a shared code needs --org
and the audit trail says whose it is."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
from openpyxl import load_workbook

from tests.e2e.test_cli import operators_csv
from tests.e2e.test_own_district import CAMPAIGN, lingang_workbook
from tests.receivers import http_receiver
from tests.web_door import SECRETARY, TOWN_COMMITTEE, Door, door_server, form_value

SHARED = SECRETARY  # 胡伟 of 何家泊村 in weihai-etdz; 林书记 of 东滩2村 in lingang
UNREACHABLE = "json://127.0.0.1:9/hook"  # nothing listens on the discard port


def lingang_files(folder: Path, today: dt.date, channel: str) -> tuple[Path, Path]:
    """Their organization (a secretary whose code the shipped district also uses; 东滩1村's
    secretary reached at `channel`, its deputy at a channel that takes nothing) and a
    campaign dated around today, kept outside the repository."""
    folder.mkdir(parents=True, exist_ok=True)
    workbook = lingang_workbook(folder / "临港区组织机构.xlsx")
    book = load_workbook(workbook)
    people = book["人员"]
    people.cell(row=1, column=5, value="通知渠道")
    for row in people.iter_rows(min_row=2):
        if row[0].value == "lg-t1-v1-sec":
            people.cell(row=row[0].row, column=5, value=channel)
    people.append([SHARED, "林书记", "lg-t1-v2", "secretary"])
    people.append(["lg-t1-v1-dep", "东滩1村副书记", "lg-t1-v1", "secretary", UNREACHABLE])
    book.save(workbook)
    # their campaign file of the command-line test, moved to run around today
    days = {"2025-04-01": -7, "2025-04-30": 7, "2025-05-30": 30, "2025-06-03": 31,
            "2025-07-31": 60}  # fmt: skip
    text = CAMPAIGN
    for day, offset in days.items():
        text = text.replace(day, (today + dt.timedelta(days=offset)).isoformat())
    campaign = folder / "eight-rules-study.yaml"
    campaign.write_text(text, encoding="utf-8")
    return workbook, campaign


def lingang_item(door: Door, unit: str) -> int:
    return door.item_id("eight-rules-study-2025", "study-session", unit)


def test_a_second_district_on_the_door_sees_and_signs_only_its_own(tmp_path: Path) -> None:
    with http_receiver() as receiver, door_server(tmp_path / "door", receiver.url()) as door:
        workbook, campaign = lingang_files(
            tmp_path / "their-files", door.today, receiver.url(path="/lingang")
        )
        # imported and rolled out while the door serves the shipped district
        for step in (
            ("orgs", "import", workbook),
            ("orgs", "import", operators_csv(tmp_path / "staff", "lg-head"), "--org", "lingang"),
            ("rollout", campaign),
        ):
            result = door.campaign(*step)
            assert result.returncode == 0, result.stdout + result.stderr

        # a code both districts use needs --org; a code of one district does not
        shared = door.campaign("web", "link", SHARED)
        assert shared.returncode != 0
        assert f"人员 {SHARED} 在多个组织中（lingang、weihai-etdz），请用 --org 指明" in (
            shared.stderr
        )
        assert door.link("lg-t1-v1-sec").startswith(f"{door.url}/login?t=")

        theirs = door.sign_in(SHARED, org="lingang")
        ours = door.sign_in(SHARED, org="weihai-etdz")
        their_list, our_list = theirs.get("/").text, ours.get("/").text
        assert "召开专题学习研讨会" in their_list and "林书记" in their_list
        assert "召开党员大会" not in their_list and "报送党员名册" not in their_list
        assert "召开党员大会" in our_list and "召开专题学习研讨会" not in our_list
        # each district's own door: its name at the top, not the other's
        assert "<h1>临港区 · 网上办理</h1>" in their_list and "威海" not in their_list
        assert "<h1>威海经济技术开发区 · 网上办理</h1>" in our_list

        # the shipped district's item, guessed in the address by the other district's person
        weihai_item = door.item_id("village-build", "roster", "qiaotou-v01")
        mine = lingang_item(door, "lg-t1-v2")
        page = theirs.get(f"/items/{mine}").text
        csrf, nonce = form_value(page, "csrf"), form_value(page, "nonce")
        before = door.count("SELECT count(*) FROM evidence")
        assert theirs.get(f"/items/{weihai_item}").status_code == 404
        guessed = theirs.post(
            f"/items/{weihai_item}", data={"csrf": csrf, "nonce": nonce, "note": "冒名"}
        )
        assert guessed.status_code == 404
        assert door.count("SELECT count(*) FROM evidence") == before
        assert door.status("village-build", "roster", "qiaotou-v01") == "open"

        sent = theirs.post(
            f"/items/{mine}",
            data={"csrf": csrf, "nonce": nonce, "count-participants": "12",
                  "note": "学习研讨会，12人参加", "dated": door.today.isoformat()},
        )  # fmt: skip
        assert sent.status_code == 200 and "已报送。召开专题学习研讨会：待签字" in sent.text

        # the shipped district's town official neither sees it nor may sign it
        official = door.sign_in(TOWN_COMMITTEE)
        listing = official.get("/sign").text
        assert "林书记" not in listing
        refused = official.post(
            f"/sign/{mine}", data={"csrf": form_value(listing, "csrf"), "decision": "accept"}
        )
        assert refused.status_code in (403, 404)
        assert door.status("eight-rules-study-2025", "study-session", "lg-t1-v2") == "submitted"

        # their own town's organization committee member signs it
        their_official = door.sign_in("lg-t1-oc")
        to_sign = their_official.get("/sign").text
        assert "林书记 报送：参加人数12" in to_sign and "胡伟" not in to_sign
        signed = their_official.post(
            f"/sign/{mine}", data={"csrf": form_value(to_sign, "csrf"), "decision": "accept"}
        )
        assert signed.status_code == 303
        assert door.status("eight-rules-study-2025", "study-session", "lg-t1-v2") == "accepted"

        # 进度: their town and its villages, nothing of the shipped district
        progress = their_official.get("/progress").text
        assert "东滩镇" in progress and "东滩2村" in progress
        assert "桥头镇" not in progress and "何家泊村" not in progress
        status = json.loads(door.campaign("status", "eight-rules-study-2025", "--json").stdout)
        assert status["phases"][0]["accepted"] == 1
        assert {t["code"] for t in status["towns"]} == {"lg-t1", "lg-t2"}

        # the audit trail: each sign-in of the shared code says whose person it was
        signed_in = [
            json.loads(p) if isinstance(p, str) else p
            for (p,) in door.rows(
                "SELECT payload FROM audit_event WHERE action = 'web.signed-in' "
                "AND actor = :code ORDER BY id",
                code=SHARED,
            )
        ]
        assert [p["org"] for p in signed_in] == ["lingang", "weihai-etdz"]

        # an invitation by unit code finds the district too; each invitation stands alone:
        # the one delivered signs in, the one no channel took is voided and said
        invited = door.campaign("web", "invite", "--unit", "lg-t1-v1")
        assert invited.returncode == 1, invited.stdout + invited.stderr
        assert "已发送邀请 1 人" in invited.stdout
        assert "1 人的邀请未能送达，其链接已作废：lg-t1-v1-dep（" in invited.stdout
        token = receiver.received[-1]["door"].split("t=", 1)[1]
        assert httpx.post(f"{door.url}/login", data={"t": token}).status_code == 303
        unsent = door.rows(
            "SELECT l.used_at FROM web_link l JOIN person p ON p.id = l.person_id "
            "WHERE p.code = 'lg-t1-v1-dep'"
        )
        assert len(unsent) == 1 and unsent[0][0] is not None
        # ending the sessions of one district's person leaves the other's of the same code
        assert door.campaign("web", "sessions", "--revoke", SHARED).returncode != 0
        ended = door.campaign("web", "sessions", "--revoke", SHARED, "--org", "lingang")
        assert ended.returncode == 0 and f"{SHARED}：已结束 1 个登录" in ended.stdout
        assert theirs.get("/").status_code == 303
        assert ours.get("/").status_code == 200
        assert "审计链完好" in door.campaign("audit", "verify").stdout
