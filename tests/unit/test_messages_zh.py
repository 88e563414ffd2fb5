"""The words a planner reads when something is wrong: counts as reported, and pydantic's
checks of a campaign file and of the settings, in Chinese."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from config.pydantic_zh import message_zh
from models.domain.counts import parse_count, whole_number
from models.errors import EvidenceError


def test_a_count_is_a_name_and_a_whole_number() -> None:
    assert parse_count(" lectures = 3") == ("lectures", 3)
    assert parse_count("讲党课=0") == ("讲党课", 0)
    # the workbook lists every count; one left blank was not reported
    assert parse_count("members=", blank_allowed=True) is None
    # a Chinese input method in full-width mode types ３ and １２
    assert parse_count("讲党课=１２") == ("讲党课", 12)


@pytest.mark.parametrize(
    ("typed", "says"),
    [("²", "² 不是整数"), ("1.5", "1.5 不是整数"), ("-3", "不能为负数"), ("", "缺少数字")],
)
def test_a_number_that_is_not_a_whole_count_says_why(typed: str, says: str) -> None:
    # the web form's count fields and --count share this rule; "²" passes str.isdigit and
    # then fails int(), which the form once let through to a server error
    assert whole_number(" 7 ") == 7
    with pytest.raises(ValueError) as refused:
        whole_number(typed)
    assert str(refused.value) == says


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("lectures", "数量 lectures：应写成 名称=数字"),
        ("=3", "数量 =3：应写成 名称=数字"),
        ("lectures=three", "数量 lectures=three：three 不是整数"),
        ("lectures=-1", "数量 lectures=-1：不能为负数"),
        ("members=", "数量 members=：等号后缺少数字"),  # blank is refused where it is not allowed
    ],
)
def test_a_count_that_is_not_one_is_refused_saying_why(text: str, says: str) -> None:
    with pytest.raises(EvidenceError) as refused:
        parse_count(text)
    assert str(refused.value) == says


class _Sample(BaseModel):
    size: int = Field(ge=1, le=100)
    kind: str = Field(pattern=r"^[a-z]+$")
    name: str
    every: list[str] = []


def _messages(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate(data)
    return {str(e["loc"][0]): message_zh(e) for e in caught.value.errors(include_url=False)}


def test_pydantic_messages_read_in_chinese_with_their_limits() -> None:
    assert _messages({"size": 0, "kind": "Ab", "every": "x"}) == {
        "size": "应不小于 1",
        "kind": "格式不符（应符合 ^[a-z]+$）",
        "name": "缺少此项（必填）",
        "every": "应为列表",
    }
    assert _messages({"size": 101, "kind": "a", "name": "n"}) == {"size": "应不大于 100"}
    assert _messages({"size": "ten", "kind": "a", "name": "n"}) == {"size": "应为整数"}


def test_a_count_is_named_by_its_key_or_its_chinese_name() -> None:
    from models.domain.campaign import CountSpec
    from models.domain.counts import by_key

    asked = [CountSpec(key="participants", name="参加人数"), CountSpec(key="talks", name="谈心")]
    assert by_key({"参加人数": 23, "talks": 4}, asked) == {"participants": 23, "talks": 4}
    assert by_key({" 谈心 ": 2}, asked) == {"talks": 2}
    assert by_key({"人数": 1}, asked) == {"人数": 1}  # neither: left for the check to refuse


def test_a_day_done_may_not_lie_ahead() -> None:
    import datetime as dt

    import pytest

    from models.domain.date_rules import not_after_today
    from models.errors import DateRuleError

    today = dt.date(2026, 12, 6)
    assert not_after_today(today, today, "--date") == today
    assert not_after_today(dt.date(2025, 4, 10), today, "--date") == dt.date(2025, 4, 10)
    with pytest.raises(DateRuleError, match="--date 2027-12-06 晚于今天 2026-12-06"):
        not_after_today(dt.date(2027, 12, 6), today, "--date")


def test_a_run_acts_for_a_day_that_has_come_unless_rehearsed() -> None:
    import datetime as dt

    import pytest

    from models.domain.date_rules import run_day
    from models.errors import DateRuleError

    today, ahead = dt.date(2026, 12, 7), dt.date(2027, 3, 1)
    assert run_day(today, today, "on") == today
    with pytest.raises(DateRuleError, match="on 2027-03-01 晚于今天 2026-12-07：提醒、环节和抽查"):
        run_day(ahead, today, "on")
    assert run_day(ahead, today, "on", rehearsal=True) == ahead


def test_a_day_is_read_as_people_type_it() -> None:
    import datetime as dt

    import pytest

    from models.domain.date_rules import read_day
    from models.errors import DateRuleError

    day = dt.date(2025, 4, 10)
    for typed in ("2025-04-10", "2025/4/10", "2025.4.10", "2025年4月10日", " 2025 年 4 月 10 日 "):
        assert read_day(typed, "--date") == day, typed
    with pytest.raises(DateRuleError, match="--date：不存在的日期 2025-2-30：2025-02 只有 28 天"):
        read_day("2025年2月30日", "--date")
    with pytest.raises(
        DateRuleError, match=r"日期应写成 YYYY-MM-DD（或 2025年4月10日、2025/4/10），而不是 上周五"
    ):
        read_day("上周五", "日期")
