"""A department that brings its own organization (one workbook, nothing under config/) and
its own 2025 campaign file (kept outside the repository), beside the shipped district in
the same database: what it validates, rolls out, records, signs, reminds, checks and
reports, and that nothing of the other organization leaks in."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlmodel import col

from config.settings import get_settings, os_login
from models.store import db
from models.store.tables import AuditEvent, ChecklistItem, Person, Reminder
from tests.e2e.test_cli import REPO, assert_no_traceback, operators_csv, run
from tests.receivers import http_receiver

TOWNS = {"lg-t1": "东滩镇", "lg-t2": "西滩镇"}
VILLAGES = {
    f"lg-t{t}-v{v}": (f"lg-t{t}", f"{'东西'[t - 1]}滩{v}村") for t in (1, 2) for v in (1, 2, 3, 4)
}
COMMUNITIES = {"lg-t1-c1": ("lg-t1", "东滩社区"), "lg-t2-c1": ("lg-t2", "西滩一社区"),
               "lg-t2-c2": ("lg-t2", "西滩二社区")}  # fmt: skip

CAMPAIGN = """\
key: eight-rules-study-2025
name: 深入贯彻中央八项规定精神学习教育
organization: lingang
phases:
  - key: study
    name: 学习研讨
    start: 2025-04-01
    end: 2025-05-30
    obligations:
      - key: study-session
        title: 召开专题学习研讨会
        subject: {units: {kinds: [village, community]}}
        due: 2025-04-30
        evidence:
          note: true
          counts: [{key: participants, name: 参加人数, min: 1}]
          sign_off: {role: org-committee, by: supervisor}
  - key: review
    name: 查摆整改
    start: 2025-06-03
    end: 2025-07-31
    obligations:
      - key: town-report
        title: 报送查摆整改报告
        subject: {units: {kinds: [town]}}
        evidence: {note: true}
inspections:
  - key: session-check
    name: 学习研讨会抽查
    obligation: study-session
    cadence: once
    sample: {count: 2, stratify: none, seed: 7}
    inspectors: [inspector]
"""


def lingang_workbook(path: Path) -> Path:
    """The organization as a department keeps it: one workbook, Chinese sheets and headers."""
    book = Workbook()
    org = book.active
    org.title = "组织"
    org.append(["项目", "值"])
    org.append(["编码", "lingang"])
    org.append(["名称", "临港区"])
    org.append(["责任角色", "secretary;org-committee;org-head"])
    org.append(["区级角色", "org-head"])
    roles = book.create_sheet("角色")
    roles.append(["编码", "名称"])
    for code, name in (("org-head", "组织部部长"), ("org-committee", "组织委员"),
                       ("secretary", "村居书记"), ("inspector", "督查员")):  # fmt: skip
        roles.append([code, name])
    units = book.create_sheet("单位")
    units.append(["编码", "名称", "类型", "上级"])
    units.append(["lg", "临港区", "district", ""])
    for code, name in TOWNS.items():
        units.append([code, name, "town", "lg"])
    for code, (town, name) in VILLAGES.items():
        units.append([code, name, "village", town])
    for code, (town, name) in COMMUNITIES.items():
        units.append([code, name, "community", town])
    people = book.create_sheet("人员")
    people.append(["编码", "姓名", "单位", "角色"])
    people.append(["lg-head", "林部长", "lg", "org-head"])
    people.append(["lg-insp", "周督查", "lg", "inspector"])
    for town in TOWNS:
        people.append([f"{town}-oc", f"{town}组织委员甲", town, "org-committee"])
        people.append([f"{town}-oc2", f"{town}组织委员乙", town, "org-committee"])
    for code in [*VILLAGES, *COMMUNITIES]:
        people.append([f"{code}-sec", f"{code}书记", code, "secretary"])
    book.save(path)
    return path


def json_status(day: str) -> dict:
    result = run("status", "eight-rules-study-2025", "--as-of", day, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_organization_of_ones_own_from_a_workbook_and_a_campaign_file_from_anywhere(
    campaign_home: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "their-files"
    elsewhere.mkdir()
    workbook = lingang_workbook(elsewhere / "临港区组织机构.xlsx")
    campaign = elsewhere / "eight-rules-study-2025.yaml"
    campaign.write_text(CAMPAIGN, encoding="utf-8")

    # the shipped district first, then theirs: two organizations, kept apart
    assert run("orgs", "import", REPO / "config" / "orgs" / "weihai-etdz.yaml").returncode == 0
    imported = run("orgs", "import", workbook)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[-1] == (
        "lingang：单位14个（区1，镇2，村8，社区3），人员17人，结对0对，角色4种"
    )
    again = run("orgs", "import", workbook)
    assert "lingang：" in again.stdout and "没有变化" in again.stdout
    shown = run("orgs", "show", "--org", "lingang")
    assert "东滩镇" in shown.stdout and "桥头镇" not in shown.stdout
    named = run("orgs", "show", "lingang")  # the organization named where a unit goes
    assert named.returncode == 0, named.stderr
    assert named.stdout == shown.stdout

    # a campaign without a reminder policy validates against the imported organization
    valid = run("validate", campaign)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "，2 个环节，2 个事项，2025-04-01 至 2025-07-31" in valid.stdout
    # a unit named by a code the organization lacks would silently get nothing: refused,
    # by validate and by rollout, before anything is written
    typo = elsewhere / "typo.yaml"
    typo.write_text(
        CAMPAIGN.replace("kinds: [town]}}", "kinds: [town], codes: [lg-t1, lg-t3]}}"),
        encoding="utf-8",
    )
    for command in ("validate", "rollout"):
        refused = run(command, typo)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        where = f"{typo}:25: phases[1].obligations[0].subject.units.codes[1]"
        assert f"{where}: 组织 lingang 中没有单位 lg-t3" in refused.stdout + refused.stderr

    rolled = run("rollout", campaign, "--as-of", "2025-03-20")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert_no_traceback(rolled)
    assert "新增 13 项，共 13 项" in rolled.stdout  # 11 villages and communities, 2 towns
    url = get_settings().resolved_database_url
    with db.session_for(url) as session:
        lingang = set(
            session.execute(select(col(Person.id)).where(col(Person.code).like("lg-%"))).scalars()
        )
        assert session.execute(select(func.count()).select_from(ChecklistItem)).scalar_one() == 13

    # the file is not needed again: the stored version is read by key
    campaign.rename(elsewhere / "moved.yaml")
    listed = run("list").stdout  # theirs, rolled out, first; then the folder's examples
    assert listed.startswith("已下发的活动（1项）：\n深入贯彻中央八项规定精神学习教育"), listed
    assert listed.index("（eight-rules-study-2025）") < listed.index("中尚未下发的活动：")

    # operators are named: this login is nobody in lingang yet, so it acts for nobody; the
    # login is the process's account, not what LOGNAME or USER say (anyone may set those)
    item = ("eight-rules-study-2025", "--subject", "lg-t1-v1", "--obligation", "study-session")
    evidence = ("--count", "participants=23", "--note", "专题学习", "--date", "2025-04-10")
    posing = {"LOGNAME": "lg-staff", "USER": "lg-staff", "USERNAME": "lg-staff"}
    nobody = run("evidence", "add", *item, "--by", "lg-t1-oc", *evidence, env=posing)
    assert nobody.returncode == 3 and f"操作员 {os_login()} 未在组织 lingang 中登记" in (
        nobody.stderr
    )
    assert "lg-staff" not in nobody.stderr
    # the department's staff member, who types in the towns' paper records (the first
    # operators of an organization are named by whoever imports them)
    staff = operators_csv(elsewhere / "staff", person="lg-head", proxy=True)
    assert run("orgs", "import", staff, "--org", "lingang").returncode == 0

    # a day still to come (2027 typed for 2025) is refused: it would count as done early
    later = (dt.date.today() + dt.timedelta(days=40)).isoformat()
    ahead = run("evidence", "add", *item, "--by", "lg-t1-oc", *evidence[:4], "--date", later)
    assert ahead.returncode == 2 and f"--date {later} 晚于今天" in ahead.stderr, ahead.stderr

    # four eyes: the town's organization committee member submits, may not sign it too
    add = run("evidence", "add", *item, "--by", "lg-t1-oc", *evidence)
    assert add.returncode == 0, add.stderr
    early = run("evidence", "sign", *item, "--by", "lg-t1-oc2", "--date", "2025-04-09")
    assert early.returncode == 2 and "签字日期2025-04-09早于所签报送的日期2025-04-10" in (
        early.stderr
    ), early.stderr
    self_sign = run("evidence", "sign", *item, "--by", "lg-t1-oc", "--date", "2025-04-11")
    assert self_sign.returncode == 3
    assert "不能为自己报送的事项签字" in self_sign.stderr
    sign = run("evidence", "sign", *item, "--by", "lg-t1-oc2", "--date", "2025-04-14")
    assert sign.returncode == 0, sign.stderr
    with db.session_for(url) as session:
        signed = session.execute(
            select(AuditEvent).where(col(AuditEvent.action) == "evidence.accepted")
        ).scalar_one()
    # whose sign-off it is, and who typed it in
    assert (signed.actor, signed.payload["entered_by"]) == ("lg-t1-oc2", os_login())

    # a village's record the town has not signed: late, and said to wait for its signature
    other = ("--subject", "lg-t1-v2", "--obligation", "study-session")
    waiting = run("evidence", "add", item[0], *other, "--by", "lg-t1-oc", *evidence[:4],
                  "--date", "2025-04-28")  # fmt: skip
    assert waiting.returncode == 0, waiting.stderr

    # one meaning of a day: the sign-off of 04-14 does not count on 04-05
    before = json_status("2025-04-05")
    assert [(p["accepted"], p["overdue"]) for p in before["phases"]] == [(0, 0), (0, 0)]
    after = json_status("2025-04-15")
    assert after["phases"][0]["accepted"] == 1
    late = json_status("2025-05-06")  # due 04-30: ten are late; the review phase is not open
    assert [(p["accepted"], p["overdue"]) for p in late["phases"]] == [(1, 10), (0, 0)]
    assert [p["status"] for p in late["phases"]] == ["open", "pending"]  # as they stood
    assert {t["code"] for t in late["towns"]} == {"lg-t1", "lg-t2"}
    town = run("status", "eight-rules-study-2025", "--as-of", "2025-05-06", "--unit", "lg-t1",
               "--json")  # fmt: skip
    assert town.returncode == 0, town.stderr
    units = json.loads(town.stdout)["units"]
    assert units[0]["code"] == "lg-t1" and units[0]["depth"] == 0
    done_village = next(u for u in units if u["code"] == "lg-t1-v1")
    assert (done_village["accepted"], done_village["overdue"], done_village["late"]) == (1, 0, [])
    behind = [u for u in units if u["depth"] == 1 and u["overdue"]]
    assert behind and all(u["late"][0]["due"] == "2025-04-30" for u in behind)
    assert [u["code"] for u in behind if u["late"][0]["awaiting_signature"]] == ["lg-t1-v2"]
    shown = run("status", "eight-rules-study-2025", "--as-of", "2025-05-06", "--unit", "lg-t1")
    assert "召开专题学习研讨会（2025-04-30，已报送待签字）" in shown.stdout, shown.stdout
    assert shown.stdout.count("已报送待签字") == 1
    assert shown.stdout.startswith("东滩镇及下级单位 · 截至 2025-05-06")
    alone = run("status", "eight-rules-study-2025", "--as-of", "2025-05-06", "--unit", "lg-t1-v1")
    assert alone.stdout.startswith("东滩1村 · 截至 2025-05-06"), alone.stdout  # nothing below
    unknown = run("status", "eight-rules-study-2025", "--unit", "qiaotou")  # weihai's town
    assert unknown.returncode != 0 and "lingang" in unknown.stderr
    deadlines = run("phases", "eight-rules-study-2025", "--items")
    assert deadlines.returncode == 0, deadlines.stderr
    assert "2025-04-30" in deadlines.stdout and "召开专题学习研讨会" in deadlines.stdout

    with http_receiver() as hook:
        reminded = run(
            "remind", "--as-of", "2025-05-06", env={"CAMPAIGN_NOTIFY_DEFAULT": hook.url()}
        )
        assert reminded.returncode == 0, reminded.stderr
    assert hook.received, "nobody was reminded"
    with db.session_for(url) as session:
        recipients = set(
            session.execute(
                select(col(Reminder.recipient_id)).where(col(Reminder.status) == "sent")
            ).scalars()
        )
    assert recipients and recipients <= lingang  # nobody of weihai-etdz
    # where a digest's 查看全部 points: the person's open items, overdue first
    digest = hook.received[0]
    see_all = digest["see_all"]
    assert see_all.startswith("campaign todo lg-")
    todo = run(*see_all.split()[1:], "--as-of", "2025-05-06", "--json")
    assert todo.returncode == 0, todo.stderr
    items = json.loads(todo.stdout)["items"]
    assert len(items) >= sum(line["items"] for line in digest["lines"])
    assert items[0]["state"] == "overdue" and items[0]["due"] == "2025-04-30"
    # the same list on a narrow terminal: the words fold, none is cut short
    narrow = run(*see_all.split()[1:], "--as-of", "2025-05-06", env={"COLUMNS": "60"})
    assert narrow.returncode == 0 and "的待办 · 截至 2025-05-06" in narrow.stdout, narrow.stderr
    assert "…" not in narrow.stdout and narrow.stdout.count("2025-04-30") == sum(
        1 for i in items if i["due"] == "2025-04-30"
    )
    saturday = run(
        "remind", "--as-of", "2025-05-10", env={"CAMPAIGN_NOTIFY_DEFAULT": "json://127.0.0.1:9/x"}
    )
    assert saturday.returncode == 0
    assert "2025-05-10 是休息日，不发送提醒" in saturday.stdout, saturday.stdout

    # 西滩1村's secretary hands over: the roster's row keeps the one who left without the
    # role, a new row gives it to the successor; what is still to be sent goes to them
    book = load_workbook(workbook)
    for row in book["人员"].iter_rows(min_row=2):
        if row[0].value == "lg-t2-v1-sec":
            row[3].value = None
    book["人员"].append(["lg-t2-v1-sec2", "接任书记", "lg-t2-v1", "secretary"])
    book.save(elsewhere / "换届.xlsx")
    handover = run("orgs", "import", elsewhere / "换届.xlsx")
    assert handover.returncode == 0, handover.stderr
    assert "人员新增 1、更新 1" in handover.stdout, handover.stdout
    assert re.search(r"尚未发出的提醒：[1-9]\d* 条改发给现在负责的人", handover.stdout)
    with db.session_for(url) as session:
        pending = session.execute(
            select(col(Person.code))
            .join(Reminder, col(Reminder.recipient_id) == col(Person.id))
            .where(col(Reminder.status) == "pending", col(Person.code).like("lg-t2-v1-%"))
        ).scalars()
        assert set(pending) == {"lg-t2-v1-sec2"}

    inspected = run("inspect", "eight-rules-study-2025", "--as-of", "2025-05-30")
    assert inspected.returncode == 0, inspected.stderr
    shown = run("inspection", "show", "eight-rules-study-2025")
    assert shown.returncode == 0 and shown.stdout.count("lg-t") >= 2

    report = run("report", "eight-rules-study-2025", "--as-of", "2025-07-31")
    assert report.returncode == 0, report.stderr
    assert "深入贯彻中央八项规定精神学习教育" in report.stdout
    assert not list((REPO / "config").rglob("*lingang*"))

    # the staff member makes this login the town's committee member: their own records only
    self_only = operators_csv(elsewhere / "self", person="lg-t1-oc", proxy=False)
    assert run("orgs", "import", self_only, "--org", "lingang").returncode == 0
    for_other = run("evidence", "add", *item, "--by", "lg-t1-oc2", *evidence)
    assert for_other.returncode == 3 and "不能代他人录入" in for_other.stderr
    # ... who may not change the organization back (nor give themselves a role)
    back = run("orgs", "import", staff, "--org", "lingang")
    assert back.returncode == 3 and "不能修改组织 lingang" in back.stderr
