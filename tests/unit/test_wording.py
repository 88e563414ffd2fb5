"""The Chinese words for codes: what a reader of a ledger or a reminder sees."""

from __future__ import annotations

import datetime as dt

import pytest

from models.domain.digest import done_word, standing
from models.domain.wording import (
    count_need_zh,
    counts_zh,
    obligation_zh,
    occurrence_ref,
    occurrence_zh,
    sweep_zh,
    wave_standing_zh,
    with_units_below_zh,
)
from models.domain.working_days import WorkCalendar


@pytest.mark.parametrize(
    ("label", "words"),
    [
        ("once", ""),
        ("phase-end", "环节末"),
        ("2013-W37", "2013年第37周"),
        ("2013-09", "2013年9月"),
        ("2014-Q1", "2014年第1季度"),
        ("2013-H2", "2013年下半年"),
        ("2013-B3", "2013年第3个双月（5—6月）"),
        ("2013", "2013年"),
        ("2014-spring-festival", "2014年春节前"),
        ("2013-july-first", "2013年“七一”前"),
        ("2014-Q1-recheck", "2014年第1季度复查"),
        ("once-recheck", "抽查复查"),
    ],
)
def test_occurrences_in_words(label: str, words: str) -> None:
    assert occurrence_zh(label) == words


def test_an_occurrence_in_a_message_gives_its_words_and_the_label_one_types() -> None:
    assert occurrence_ref("2026-B6") == "2026年第6个双月（11—12月，2026-B6）"
    assert occurrence_ref("2013-W07") == "2013年第7周（2013-W07）"
    assert occurrence_ref("once") == ""  # a one-off item has nothing to name
    assert occurrence_ref("odd") == "（odd）"


def test_counts_by_their_names() -> None:
    assert counts_zh(
        {"days": 3, "participants": 45}, {"days": "天数", "participants": "参加人数"}
    ) == ("天数3，参加人数45")
    assert counts_zh({"odd": 1}, {}) == "odd1"


def test_a_digest_key_comes_from_what_is_reminded_not_row_ids() -> None:
    import pendulum

    from models.domain.digest import ReminderLine, digest_key

    def line(reminder_id: int, natural: str) -> ReminderLine:
        return ReminderLine(
            reminder_id, "due", "活动", "环节", "事项", "村", "once", pendulum.Date(2025, 4, 30),
            natural,
        )  # fmt: skip

    a = "c/p/o/unit:v1/once/due/2025-04-30/sec1"
    # the same reminder in another database (other row ids) has the same key ...
    assert digest_key([line(1, a).natural]) == digest_key([line(917, a).natural])
    # ... and row 1 of two databases, two different reminders, never share one
    assert digest_key([a]) != digest_key([a.replace("v1", "v2")])


def test_a_late_rollout_says_what_is_overdue_and_how_to_enter_a_past_campaign() -> None:
    import datetime as dt

    from models.domain.wording import late_rollout_zh

    day, ends = dt.date(2026, 12, 6), dt.date(2025, 7, 31)
    ended = late_rollout_zh(day, ends, 13, day_given=False)
    assert ended[0].startswith("截至 2026-12-06，已有 13 项过了截止日期")
    assert "本活动已于 2025-07-31 结束" in ended[1] and "--as-of" in ended[1]
    # rolled out on a day of the planner's choosing: the overdue count only
    assert late_rollout_zh(day, ends, 13, day_given=True) == ended[:1]
    assert late_rollout_zh(dt.date(2025, 3, 20), ends, 0, day_given=False) == []


def test_a_sweep_is_summed_up_in_the_same_words_everywhere() -> None:
    counts = {"sent": 12, "digests": 5, "escalated": 2, "failed": 1}
    totals = {"sent": 40, "pending": 7, "superseded": 3, "cancelled": 0, "dead": 1}
    assert sweep_zh(dt.date(2013, 9, 17), overdue=4, counts=counts, totals=totals) == [
        "新逾期事项 4 项；本次发送 12 条（5 份汇总，其中督办 2 条），失败 1 条。",
        "累计：已发送 40，待发送 7，已合并 3，已取消 0，停发 1。",
    ]
    day_off = sweep_zh(dt.date(2013, 10, 3), overdue=0, counts={"day_off": 1}, totals={})
    assert day_off[0] == "2013-10-03 是休息日，不发送提醒：到期的提醒在下一个工作日的提醒时间发出。"
    assert day_off[2] == "累计：已发送 0，待发送 0，已合并 0，已取消 0，停发 0。"


def test_what_reaches_nobody_says_where_and_what_to_mend() -> None:
    from models.domain.reminder_planning import Unreached
    from models.domain.wording import unreached_zh

    names = {"secretary": "村居书记", "street-org": "街道组织委员", "dept-head": "部长"}
    gap = Unreached(units=(2, 3), items=4, roles=("secretary", "street-org"), district_roles=())
    lines = unreached_zh(gap, ["江心街道", "北塘街道"], names)
    assert lines[0].startswith(
        "有 4 项无人负责：江心街道、北塘街道没有担任村居书记或街道组织委员的人"
    )
    assert (
        "再导入组织；活动文件自己写了 reminders.responsible_roles 的，"
        "改活动文件再运行 campaign rollout。漏掉的提醒随即补上" in lines[0]
    )
    assert lines[1].startswith("逾期报区级的提醒无人接收：组织没有指定区级角色")
    many = unreached_zh(
        Unreached(
            units=tuple(range(7)), items=7, roles=("secretary",), district_roles=("dept-head",)
        ),
        [f"{n}村" for n in "一二三四五六七"],
        names,
    )
    assert "一村、二村、三村、四村、五村等7个单位没有担任村居书记的人" in many[0]
    assert many[1].startswith("逾期报区级的提醒无人接收：区级单位没有担任部长的人")
    assert unreached_zh(Unreached(), [], names) == []


def test_an_organization_import_says_what_it_changed_and_what_its_reminders_did() -> None:
    from models.domain.org_import import ImportResult, Readdressed
    from models.domain.wording import org_import_zh

    names = {"secretary": "村居书记", "street-org": "街道组织委员"}
    same = ImportResult("hexi", False, 0, 0, 0, 0, 0, 0, 3, 0)
    assert org_import_zh(same, Readdressed(), "hexi.yaml", names) == [
        "hexi：hexi.yaml 与库中一致，没有变化"
    ]
    changed = ImportResult(
        "hexi", True, 0, 0, 1, 2, 0, 0, 3, 0, responsible_roles=("secretary", "street-org")
    )
    after = Readdressed(moved=2, cancelled=1, planned=14, unreached=("grid：有 1 项无人负责…",))
    assert org_import_zh(changed, after, "3 个文件", names) == [
        "hexi：已导入 3 个文件：单位新增 0、更新 0；人员新增 1、更新 2；结对新增 0、更新 0"
        "；责任角色改为 村居书记、街道组织委员",
        "尚未发出的提醒：2 条改发给现在负责的人，1 条已无人负责而取消",
        "此前无人负责的事项：补上提醒 14 条，下一次发提醒时发出",
        "grid：有 1 项无人负责…",
    ]
    quiet = org_import_zh(changed, Readdressed(), "hexi.yaml", {})
    assert len(quiet) == 1 and quiet[0].endswith("；责任角色改为 secretary、street-org")


def test_a_first_import_says_whom_campaigns_remind_when_nobody_is_named() -> None:
    from models.domain.campaign import OrgVocabulary
    from models.domain.wording import default_roles_zh

    names = {"secretary": "村居书记", "street-org": "街道组织委员", "org-dept-head": "部长"}
    hexi = OrgVocabulary("hexi", frozenset(names), frozenset())
    lines = default_roles_zh(hexi, names)
    assert lines[0].startswith(
        "组织没有写明责任角色（“组织”表的责任角色；YAML 的 responsible_roles）："
        "活动没有写明的，单位的事项由本单位担任村居书记或部长的人负责"
    )
    assert lines[1].endswith("逾期报区级的提醒发给区级单位担任部长的人")
    bare = OrgVocabulary("x", frozenset({"street-org"}), frozenset())
    assert "活动须写明 reminders.responsible_roles，否则校验不通过" in default_roles_zh(bare, {})[0]
    assert default_roles_zh(bare, {})[1].endswith("除非活动写明 reminders.district_roles")
    named = OrgVocabulary("x", frozenset(), frozenset(), ("street-org",), ("street-org",))
    assert default_roles_zh(named, {}) == []


def test_a_count_says_what_it_asks_and_a_done_item_how_it_was_done() -> None:
    assert [count_need_zh(m) for m in (3, 0, None)] == ["至少3", "必填，可为0", "选填"]
    calendar = WorkCalendar()
    due = dt.date(2013, 9, 30)  # a Monday before the National Day holidays
    assert done_word(due, dt.date(2013, 9, 27), calendar) == "按期完成"
    assert done_word(due, due, calendar) == "按期完成"
    # 10-01…10-07 are holidays: done on the 8th is one working day late, not eight days
    assert done_word(due, dt.date(2013, 10, 8), calendar) == "逾期1个工作日完成"
    # a Saturday deadline kept as written, done on the Sunday: late, by no working day
    assert done_word(dt.date(2013, 9, 7), dt.date(2013, 9, 8), calendar) == "逾期完成"


def test_a_list_shows_an_item_by_what_its_doer_still_has_to_do() -> None:
    calendar = WorkCalendar()
    due, today = dt.date(2013, 9, 30), dt.date(2013, 10, 9)  # late by 2 working days
    assert standing(due, today, calendar, "open") == ("overdue", "已逾期2个工作日")
    assert standing(due, today, calendar, "rejected") == ("overdue", "已逾期2个工作日")
    # reported, awaiting its signature: the doer's part is done, nothing counts against them
    assert standing(due, today, calendar, "submitted") == ("waiting", "已报送")
    # to the town official it was escalated to, it waits for them
    assert standing(due, today, calendar, "submitted", supervising=True) == (
        "waiting",
        "已报送待签字",
    )
    done = standing(due, today, calendar, "accepted", dt.date(2013, 9, 27))
    assert done == ("done", "按期完成")


def test_a_wave_as_its_gates_approver_reads_it() -> None:
    assert wave_standing_zh("试点村", 3, 1, 1) == "试点村：3项，已完成1项，逾期1项"


def test_an_obligation_is_named_by_its_title_and_the_key_one_types() -> None:
    assert obligation_zh("走访慰问困难党员", "visit") == "“走访慰问困难党员”（visit）"


def test_a_progress_head_says_units_below_only_where_there_are_some() -> None:
    assert with_units_below_zh("西滩镇", 7) == "西滩镇及下级单位"
    assert with_units_below_zh("西滩3村", 1) == "西滩3村"
