"""A digest of 300 items reaches each robot within its limit, cut between lines, and e-mail
as HTML with a plain part: the payloads checked as the local receivers got them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import insert, select, update
from sqlmodel import col

from config.settings import get_settings
from models.store import db
from models.store.tables import ChecklistItem, Person, Reminder
from tasks.channels import DINGTALK_BODY_MAX_BYTES, WECOM_MARKDOWN_MAX_BYTES, robot_body
from tests.db.test_reminders import D, at, ml, pending, sweep  # noqa: F401 (ml: a fixture)
from tests.receivers import http_receiver, smtp_receiver


def plant(url: str, n: int, channels: list[str]) -> None:
    """n open items due 2013-09-03 for one person, each with a reminder due that morning."""
    with db.session_for(url) as session:
        item = session.execute(
            select(ChecklistItem).where(col(ChecklistItem.status) == "open").limit(1)
        ).scalar_one()
        row = item.model_dump(exclude={"id"})
        session.execute(
            insert(ChecklistItem),
            [{**row, "occurrence": f"load-{k}", "due": D(2013, 9, 3)} for k in range(n)],
        )
        ids = (
            session.execute(
                select(col(ChecklistItem.id)).where(col(ChecklistItem.occurrence).like("load-%"))
            )
            .scalars()
            .all()
        )
        person = session.execute(select(Person).order_by(col(Person.id)).limit(1)).scalar_one()
        session.execute(update(Person).where(col(Person.id) == person.id).values(channels=channels))
        session.execute(update(Reminder).values(status="cancelled"))  # only these go out
        session.execute(
            insert(Reminder),
            [pending(i, person.id, "due", D(2013, 9, 3)) for i in ids],
        )


def test_three_hundred_items_reach_both_robots_within_their_limits(
    ml: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAMPAIGN_DIGEST_MAX_LINES", "300")
    get_settings.cache_clear()
    with http_receiver() as robot:
        plant(
            ml,
            300,
            [
                robot.url("wecomrobot", "/cgi-bin/webhook/send?key=k"),
                robot.url("dingrobot", "/robot/send?access_token=t"),
            ],
        )
        result = sweep(at(D(2013, 9, 3)))
    assert result["sent"] == 300 and result["digests"] == 1
    wecom = [p for p in robot.received if "content" in p["markdown"]]
    ding = [p for p in robot.received if "text" in p["markdown"]]
    assert len(wecom) > 1 and len(ding) > 1 and len(wecom) + len(ding) == len(robot.received)
    assert all(len(p["markdown"]["content"].encode()) <= WECOM_MARKDOWN_MAX_BYTES for p in wecom)
    assert all(len(robot_body(p)) <= DINGTALK_BODY_MAX_BYTES for p in ding)
    for parts in (
        [p["markdown"]["content"] for p in wecom],
        [p["markdown"]["text"] for p in ding],
    ):
        numbered = [n for part in parts for n in re.findall(r"^(\d+)\. \*\*\[", part, re.M)]
        assert numbered == [str(n) for n in range(1, 301)]  # each line once, none cut
        assert all(part.rstrip().endswith(parts[0].rstrip()[-32:]) for part in parts)  # key


def test_email_has_an_html_and_a_plain_part(ml: str) -> None:  # noqa: F811
    with smtp_receiver() as smtp:
        plant(ml, 3, [smtp.url()])
        result = sweep(at(D(2013, 9, 3)))
    assert result["sent"] == 3
    (mail,) = smtp.messages
    assert mail["type"] == "multipart/alternative"
    assert "<b>[今天到期]</b>" in mail["html"]
    assert "[今天到期]" in mail["body"] and "<b>" not in mail["body"]
    assert mail["subject"] == "【工作提醒】" + mail["body"].split("同志：", 1)[0] + "：3项待办"
