"""A sweep's claimed reminders addressed: one digest per person, to the person's channels (or
the default, or a rehearsal's one channel), the door's link only where the person alone reads
it, a retry only to the channels that did not take it; delivered a chunk at a time, in order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from models.domain.digest import (
    Delivery,
    Outgoing,
    Recipient,
    ReminderLine,
    address_digests,
    channel_key,
    several_channels,
    wanting_links,
    with_door,
    without_taken,
)
from models.domain.working_days import WorkCalendar
from tasks import channels
from tasks.channels import NO_CHANNEL, deliver_all

TODAY = dt.date(2013, 9, 5)
MAIL = "mailto://wang@example.org"
ROBOT = "wecomrobots://qyapi.example.org/cgi-bin/webhook/send?key=k"
HOOK = "json://127.0.0.1:9/hook"


@dataclass(frozen=True)
class Due:
    id: int
    item_id: int
    recipient_id: int
    rule: str = "due"


PEOPLE = {
    1: Recipient(1, "p1", "王明", [MAIL, ROBOT]),
    2: Recipient(2, "p2", "李强", None),
    3: Recipient(3, "p3", "张华", [ROBOT]),
}


def line(n: int) -> ReminderLine:
    return ReminderLine(n, "due", "活动", "阶段", f"事项{n}", "村", "once", TODAY, f"n{n}")


def address(claimed: list[Due], **kw: object) -> list[Outgoing[Due]]:
    lines = {c.id: line(c.id) for c in claimed}
    args: dict = {"max_lines": 20, "default_channels": [HOOK]} | kw
    return address_digests(claimed, lines, PEOPLE, TODAY, WorkCalendar(), **args)


def test_one_digest_per_person_to_their_channels_else_the_default() -> None:
    claimed = [Due(10, 1, 1), Due(11, 2, 2), Due(12, 3, 1), Due(13, 4, 9)]
    out = {o.recipient_id: o for o in address(claimed)}
    assert [c.id for c in out[1].group] == [10, 12]
    assert out[1].channels == [MAIL, ROBOT]
    assert out[1].digest.title.startswith("【工作提醒】王明：2项待办")
    assert out[1].digest.see_all == "campaign todo p1"
    assert out[2].channels == [HOOK]  # no channel of their own
    # a person no longer on file: still told, on the default channel, by id
    assert out[9].digest.recipient == "同志" and out[9].digest.see_all == "campaign todo 9"
    assert address([Due(11, 2, 2)], default_channels=[])[0].channels == []
    rehearsal = address(claimed, only_to="file:///tmp/r.jsonl")
    assert {tuple(o.channels) for o in rehearsal} == {("file:///tmp/r.jsonl",)}


def test_a_retry_goes_only_to_the_channels_that_did_not_take_every_reminder() -> None:
    out = address([Due(10, 1, 1), Due(12, 3, 1), Due(11, 2, 2)])
    assert several_channels(out) == [10, 12]  # only 王明 has two channels
    # what the sweep records beside each outcome: keep which channels took it, or not
    assert [o.several for o in out] == [True, False]
    taken = {10: {channel_key(MAIL), channel_key(ROBOT)}, 12: {channel_key(MAIL)}}
    retried = {o.recipient_id: o for o in without_taken(out, taken)}
    assert retried[1].pending_channels == [ROBOT]  # the mail took both; the robot not item 3
    assert retried[2].pending_channels == [HOOK]


def test_the_sign_in_link_goes_only_where_the_person_alone_reads_it() -> None:
    out = address([Due(10, 1, 1), Due(11, 2, 2), Due(12, 3, 3), Due(13, 4, 9)])
    # 李强 reads the default hook alone; 张华 has only a group robot; 9 is not on file
    assert wanting_links(out, PEOPLE) == [1, 2]
    door = "https://door.example.org"
    linked = {o.recipient_id: o for o in with_door(out, door, {1: "t1", 2: "t2"})}
    assert linked[1].digest_for(MAIL).door == f"{door}/login?t=t1"
    assert linked[1].digest_for(ROBOT).door == door  # the whole group reads a robot
    assert linked[3].digest_for(ROBOT).door == door and linked[3].personal is None


def test_deliveries_are_handed_back_a_chunk_at_a_time_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(channels, "RECORD_EVERY", 2)
    # no channel anywhere: each fails at once, for good, with what to do about it
    out = address([Due(i, i, i) for i in range(20, 25)], default_channels=[])
    chunks: list[list[int]] = []
    for chunk in _record(out):
        chunks.append([o.recipient_id for o, _ in chunk])
        assert all(outcome == [("", Delivery(False, NO_CHANNEL, True))]
                   for _, outcome in chunk)  # fmt: skip
    assert chunks == [[20, 21], [22, 23], [24]]


def _record(out: list[Outgoing[Due]]) -> list[list[tuple[Outgoing[Due], channels.Outcome]]]:
    recorded: list[list[tuple[Outgoing[Due], channels.Outcome]]] = []
    deliver_all(out, recorded.append, deadline=5.0)
    return recorded
