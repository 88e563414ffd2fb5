"""A digest a person reads: one line per item as it stands, overdue first, at most N lines,
escalations by town, and each channel's form within its limit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass

from models.domain.digest import ReminderLine, build_digest
from models.domain.reminder_planning import one_per_item
from models.domain.working_days import WorkCalendar
from tasks.channels import (
    DINGTALK_BODY_MAX_BYTES,
    WECOM_MARKDOWN_MAX_BYTES,
    robot_body,
    robot_payloads,
)

CAL = WorkCalendar()
TODAY = dt.date(2013, 10, 8)  # the first working day after National Day


@dataclass(frozen=True)
class Due:
    id: int
    item_id: int
    recipient_id: int
    rule: str


def test_a_gap_of_weeks_gives_one_reminder_per_item_and_person() -> None:
    # the seven reminders the 2013-10-03 sweep found for one item: the secretary answers for
    # the village and, as the town's head too, receives its escalations
    rules = ["before", "due", "overdue-1", "overdue-2", "overdue-3", "escalate", "district"]
    due = [Due(i, 7, 1, rule) for i, rule in enumerate(rules)]
    due.append(Due(99, 7, 2, "escalate"))  # the town's head, another person
    kept, superseded = one_per_item(due)
    assert sorted((d.recipient_id, d.rule) for d in kept) == [(1, "overdue-3"), (2, "escalate")]
    assert sorted(superseded) == [0, 1, 2, 3, 5, 6]
    # the order they arrive in does not matter
    kept_reversed, _ = one_per_item(list(reversed(due)))
    assert {(d.recipient_id, d.rule) for d in kept_reversed} == {(1, "overdue-3"), (2, "escalate")}


def line(n: int, rule: str, due: dt.date, town: str = "桥头镇", village: int = 0) -> ReminderLine:
    return ReminderLine(
        n, rule, "党的群众路线教育实践活动", "学习教育、听取意见", f"召开专题会议{n}",
        f"村{village}", "once", due, f"mass-line/p/o{n}/unit:v{village}/once/{rule}/2013-10-08/sec",
        town, f"v{village}", "village",
    )  # fmt: skip


def test_a_cadres_missed_contacts_are_counted_by_pairing_under_the_village() -> None:
    """A cadre with two pairings, late with both, escalated to their village's secretary:
    two pairings (a cadre is not two people), under the village the secretary answers for."""
    lines = [
        dataclasses.replace(
            line(n, "escalate", dt.date(2026, 10, 30), "待泾村"),
            subject=f"卫干部—{who}", subject_code=f"pr{n}", subject_kind="pairing",
            obligation="每两个月至少联系1次",
        )
        for n, who in ((1, "韩大娘"), (2, "杨大爷"))
    ]  # fmt: skip
    digest = build_digest("戴书记", lines, dt.date(2026, 12, 8), CAL, max_lines=20, see_all="x")
    assert (
        digest.entries[0]
        .plain(1)
        .startswith(
            "1. [下级逾期，请督办] 待泾村：2个结对2项逾期（每两个月至少联系1次；最早截止10月30日"
        )
    )


def test_an_escalation_says_which_late_items_await_the_signature() -> None:
    """A town official told of late village items that two villages have reported and only
    a signature now holds: the line says so, not just that the villages are late."""
    late = [line(n, "escalate", dt.date(2013, 9, 26), "桥头镇", village=n) for n in range(3)]
    reported = [dataclasses.replace(x, awaiting_signature=True) for x in late[:2]]
    some = build_digest("李强", [*reported, late[2]], TODAY, CAL, max_lines=20, see_all="x")
    assert some.entries[0].text.startswith("桥头镇：3个村3项逾期，其中2项已报送待签字（")
    assert some.entries[0].fields["awaiting_signature"] == 2
    both = build_digest("李强", reported, TODAY, CAL, max_lines=20, see_all="x").entries[0]
    assert both.text.startswith("桥头镇：2个村2项逾期，均已报送待签字（")
    one = build_digest("李强", reported[:1], TODAY, CAL, max_lines=20, see_all="x").entries[0]
    assert one.text.startswith("桥头镇：1个村1项逾期，已报送待签字（")
    none = build_digest("李强", late, TODAY, CAL, max_lines=20, see_all="x").entries[0]
    assert none.text.startswith("桥头镇：3个村3项逾期（") and none.fields["awaiting_signature"] == 0


def test_the_line_says_the_item_as_it_stands_not_the_rule_that_was_due() -> None:
    # a before-due reminder that waited out a holiday: the item is 25 working days late now
    digest = build_digest(
        "王明", [line(1, "before", dt.date(2013, 8, 26))], TODAY, CAL, max_lines=20, see_all="x"
    )
    text = digest.text()
    assert "[已逾期]" in text and "即将到期" not in text
    assert "截止8月26日（已逾期" in text
    assert digest.title == "【工作提醒】王明：1项待办（逾期1项）"


def test_a_deadline_of_another_year_says_its_year() -> None:
    """Read in December 2026, 截止4月30日 would be this April's: a 2025 deadline, left
    undone, says 2025; this year's stays short."""
    today = dt.date(2026, 12, 8)
    lines = [line(1, "overdue-1", dt.date(2025, 4, 30)), line(2, "before", dt.date(2026, 12, 10))]
    digest = build_digest("王明", lines, today, CAL, max_lines=20, see_all="x")
    texts = [e.plain(n) for n, e in enumerate(digest.entries, 1)]
    assert "；截止2025年4月30日（已逾期" in texts[0]
    assert "；截止12月10日（" in texts[1]
    town = build_digest(
        "李强", [line(3, "escalate", dt.date(2025, 4, 30))], today, CAL, max_lines=20, see_all="x"
    )
    assert "；最早截止2025年4月30日，已逾期" in town.entries[0].text


def test_overdue_first_then_today_then_upcoming_and_the_rest_summed() -> None:
    lines = [line(n, "before", TODAY + dt.timedelta(days=7)) for n in range(100)]
    lines += [line(100 + n, "due", TODAY) for n in range(5)]
    lines += [line(200 + n, "overdue-1", dt.date(2013, 9, 2) + dt.timedelta(days=n % 30))
              for n in range(195)]  # fmt: skip
    digest = build_digest("王明", lines, TODAY, CAL, max_lines=20, see_all="campaign todo p1")
    assert len(digest.entries) == 20
    assert [e.state for e in digest.entries] == ["overdue"] * 20
    assert digest.entries[0].due == dt.date(2013, 9, 2)  # the longest overdue on top
    assert digest.more == {"overdue": 175, "today": 5, "upcoming": 100}
    text = digest.text()
    summary = "另有175项逾期、5项今天到期、100项即将到期未列出"
    assert f"{summary}，可请组织部查看全部（campaign todo p1）" in text
    assert text.count("\n") == 22  # greeting, 20 lines, summary, key
    # with the web door, the rest is there, not at the department's terminal
    online = dataclasses.replace(digest, door="https://door.example.cn/s/abc").text()
    assert f"{summary}，网上办理中可查看全部\n网上办理：https://door.example.cn/s/abc" in online
    assert "campaign todo" not in online
    few = build_digest("王明", lines[95:110], TODAY, CAL, max_lines=20, see_all="x")
    assert [e.state for e in few.entries] == ["overdue"] * 5 + ["today"] * 5 + ["upcoming"] * 5


def test_a_supervisors_escalations_are_counted_by_town() -> None:
    titles = ["征求意见", "学习材料", "征求意见", "学习材料", "学习材料", "查摆问题", "整改方案"]
    lines = [
        dataclasses.replace(
            line(n, "escalate", dt.date(2013, 8, 26 + n % 3), "桥头镇", village=n % 3),
            obligation=title,
        )
        for n, title in enumerate(titles[:5])
    ]
    lines += [line(10, "district", dt.date(2013, 9, 2), "泽库镇", village=9)]
    digest = build_digest("李强", lines, TODAY, CAL, max_lines=20, see_all="x")
    texts = [e.plain(n) for n, e in enumerate(digest.entries, 1)]
    # what is late, the commonest first: a supervisor chases an item, not a count
    assert texts[0].startswith(
        "1. [下级逾期，请督办] 桥头镇：3个村5项逾期（学习材料3项、征求意见2项；最早截止8月26日"
    )
    assert texts[1].startswith(
        "2. [逾期未办，报区级督办] 泽库镇：1个村1项逾期（召开专题会议10；最早截止9月2日"
    )
    assert digest.entries[0].fields["obligations"] == [
        {"title": "学习材料", "items": 3},
        {"title": "征求意见", "items": 2},
    ]
    many = [dataclasses.replace(line(n, "escalate", TODAY), obligation=t)
            for n, t in enumerate(titles)]  # fmt: skip
    named = build_digest("李强", many, TODAY, CAL, max_lines=20, see_all="x").entries[0]
    assert "（学习材料3项、征求意见2项等4个事项；最早截止" in named.text
    assert digest.title == "【工作提醒】李强：6项待办（逾期6项，含督办6项）"


def test_three_hundred_items_fit_every_robot_and_no_line_is_cut() -> None:
    lines = [line(n, "overdue-1", dt.date(2013, 9, 2)) for n in range(300)]
    digest = build_digest("王明", lines, TODAY, CAL, max_lines=300, see_all="x")
    for scheme, size, limit in (
        # WeCom limits the markdown content, DingTalk the whole request body
        ("wecomrobot", lambda p: len(p["markdown"]["content"].encode()), WECOM_MARKDOWN_MAX_BYTES),
        ("dingrobots", lambda p: len(robot_body(p)), DINGTALK_BODY_MAX_BYTES),
    ):
        payloads = robot_payloads(scheme, digest)
        texts = [p["markdown"].get("content") or p["markdown"]["text"] for p in payloads]
        assert all(size(p) <= limit for p in payloads)
        assert len(payloads) > 1 and all(p["msgtype"] == "markdown" for p in payloads)
        body = "\n".join(texts)
        for n, entry in enumerate(digest.entries, 1):
            assert body.count(f"{n}. **[{entry.tag}]** {entry.text}\n") == 1
        assert texts[0].startswith(f"#### {digest.title}（1/{len(texts)}）")


def test_email_html_is_escaped_and_the_webhook_has_every_line() -> None:
    evil = line(1, "due", TODAY)
    evil.subject = "<script>alert(1)</script>村"
    digest = build_digest("王明", [evil], TODAY, CAL, max_lines=20, see_all="x")
    assert "<script>" not in digest.html() and "&lt;script&gt;" in digest.html()
    payload = json.loads(json.dumps(digest.payload(), ensure_ascii=False))
    assert payload["key"] == digest.key and payload["message"] == digest.text()
    (only,) = payload["lines"]
    assert (only["state"], only["due"], only["subject"]) == ("today", "2013-10-08", evil.subject)
    again = build_digest("王明", [evil], TODAY, CAL, max_lines=20, see_all="x")
    assert again.payload()["lines"][0]["key"] == only["key"]
