"""One person's digest of the day, and its forms for each kind of channel. Pure.

A digest lists at most `max_lines` lines: overdue first (the longest overdue on top), then due
today, then upcoming; the rest is summed up with where to see it all. An escalation is not a
line per village: a supervisor reads `桥头镇：3个村5项逾期`. The same digest is then written as
plain text (most channels), Markdown cut into parts that fit a robot's message limit (never
mid-line), HTML for e-mail, and JSON with every line as a field for webhooks.

A sweep's claimed reminders make one digest per person, addressed to that person's channels
(the default channel for one who has none, a rehearsal's one channel for everyone), with the
web door's sign-in link on the person's own channels and the plain address on group robots,
and without the channels that already took it on an earlier try.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, NamedTuple, TypeVar

from models.domain.door import is_group_channel, sign_in_url
from models.domain.reminder_planning import DISTRICT, DueReminder, is_escalation
from models.domain.vocabulary import ItemStatus
from models.domain.wording import AWAITING_SIGNATURE_ZH, date_zh, day_zh, occurrence_zh
from models.domain.working_days import WorkCalendar

RULE_WORDS = {
    "before": "即将到期",
    "due": "今天到期",
    "escalate": "下级逾期，请督办",
    "district": "逾期未办，报区级督办",
}
STATE_WORDS = {"overdue": "已逾期", "today": "今天到期", "upcoming": "即将到期"}
STATE_ORDER = {"overdue": 0, "today": 1, "upcoming": 2, "waiting": 3, "done": 4}
KIND_COUNT_WORDS = {
    "village": "个村",
    "community": "个社区",
    "town": "个镇街",
    "person": "人",
    "pairing": "个结对",  # a cadre with two pairings is two, not "2人"
}


@dataclass(slots=True)  # a sweep makes 100,000 of them: no frozen-init overhead
class ReminderLine:
    reminder_id: int
    rule: str
    campaign: str
    phase: str
    obligation: str
    subject: str
    occurrence: str
    due: dt.date
    # what the reminder is, in codes that mean the same in any database: campaign, the
    # item's natural key, rule, day and recipient (never a row id)
    natural: str = ""
    # how escalations are grouped: the town (or 区直) of the item's unit, or a person's own
    # unit when its head is the one told (`escalation_group`)
    town: str = ""
    subject_code: str = ""
    subject_kind: str = ""  # village, community, town, ... person, pairing
    escalated_to: str = ""  # who else was told of it, for the doer's own line
    # reported, awaiting its signature: late on the signer, not on the doer
    awaiting_signature: bool = False


def digest_key(naturals: Sequence[str]) -> str:
    """The same reminders make the same key, so a receiver can drop a repeat; two databases
    never give one key to different reminders, as row ids would."""
    return hashlib.sha256("\n".join(sorted(naturals)).encode()).hexdigest()[:32]


def line_key(natural: str) -> str:
    return hashlib.sha256(natural.encode()).hexdigest()[:16]


def days_word(due: dt.date, today: dt.date, calendar: WorkCalendar) -> str:
    """还有N个工作日 / 今天到期 / 已逾期N个工作日."""
    if today == due:
        return "今天到期"
    n = calendar.working_days_between(today, due)
    if due > today:
        return f"还有{n}个工作日"
    return f"已逾期{-n}个工作日"


def done_word(due: dt.date, completed: dt.date, calendar: WorkCalendar) -> str:
    """按期完成 / 逾期N个工作日完成: a done item's days, which a countdown to its due date
    would go on calling overdue."""
    if completed <= due:
        return "按期完成"
    n = calendar.working_days_between(due, completed)
    return f"逾期{n}个工作日完成" if n else "逾期完成"


def state_of(due: dt.date, today: dt.date) -> str:
    return "overdue" if due < today else "today" if due == today else "upcoming"


class Standing(NamedTuple):
    state: str  # overdue, today, upcoming; waiting (for its signature); done
    days: str


def list_state(
    due: dt.date, today: dt.date, status: str, completed_on: dt.date | None = None
) -> str:
    """Where an item stands on a person's list (what it is sorted by): a done item done; a
    record waiting for its signature waiting: its doer has done their part, so it is not
    counted overdue against them (their reminders stop too, `still_to_send`), and it goes
    below what they still have to do; the others by their due date."""
    if status == ItemStatus.ACCEPTED and completed_on is not None:
        return "done"
    if status == ItemStatus.SUBMITTED:
        return "waiting"
    return state_of(due, today)


def standing(
    due: dt.date,
    today: dt.date,
    calendar: WorkCalendar,
    status: str,
    completed_on: dt.date | None = None,
    *,
    supervising: bool = False,
) -> Standing:
    """An item as a person's list shows it (`list_state`) with its days: a countdown to its
    due date, a done item's days late or 按期完成, 已报送 (to one `supervising` it, whose
    signature or push it now waits for: 已报送待签字)."""
    state = list_state(due, today, status, completed_on)
    if state == "done":
        assert completed_on is not None
        return Standing(state, done_word(due, completed_on, calendar))
    if state == "waiting":
        return Standing(state, AWAITING_SIGNATURE_ZH if supervising else "已报送")
    return Standing(state, days_word(due, today, calendar))


@dataclass(frozen=True)
class Entry:
    """One line of a digest: an item, or a town's escalated items."""

    tag: str
    text: str  # the line without its number and tag
    state: str
    due: dt.date  # the earliest due date it covers
    items: int
    key: str
    fields: dict[str, Any] = field(default_factory=dict)

    def plain(self, n: int) -> str:
        return f"{n}. [{self.tag}] {self.text}"


def _item_entry(line: ReminderLine, today: dt.date, calendar: WorkCalendar) -> Entry:
    state = state_of(line.due, today)
    words = occurrence_zh(line.occurrence)
    text = (
        f"{line.campaign} · {line.phase} · {line.obligation}"
        + (f"（{words}）" if words else "")
        + f"；对象：{line.subject}；截止{day_zh(line.due, today)}"
        + f"（{days_word(line.due, today, calendar)}）"
        + (f"；已报{line.escalated_to}督办" if line.escalated_to and state == "overdue" else "")
    )
    tag = RULE_WORDS[line.rule] if is_escalation(line.rule) else STATE_WORDS[state]
    return Entry(
        tag,
        text,
        state,
        line.due,
        1,
        line_key(line.natural or f"id:{line.reminder_id}"),
        {
            "campaign": line.campaign,
            "phase": line.phase,
            "obligation": line.obligation,
            "occurrence": words,
            "subject": line.subject,
            "due": line.due.isoformat(),
            "working_days": calendar.working_days_between(today, line.due),
        },
    )


def _count_word(kinds: set[str]) -> str:
    if len(kinds) == 1:
        return KIND_COUNT_WORDS.get(next(iter(kinds)), "个单位")
    return "个对象" if kinds & {"person", "pairing"} else "个单位"


# how many of the late items a town's escalation line names (the rest are counted): enough
# for a supervisor to know what to chase, short enough for a robot's line
ESCALATION_TITLES = 2


def late_items(lines: Sequence[ReminderLine]) -> list[tuple[str, int]]:
    """Which items a town's escalation is about, with how many of each: the commonest first,
    then the longest overdue. A supervisor chases an item, not a count."""
    count = Counter(line.obligation for line in lines)
    first: dict[str, dt.date] = {}
    for line in lines:
        first[line.obligation] = min(line.due, first.get(line.obligation, line.due))
    return sorted(count.items(), key=lambda kv: (-kv[1], first[kv[0]], kv[0]))


def _waiting_words(waiting: int, items: int) -> str:
    """Which of a town's late items its units have reported, so that a supervisor who must
    sign them is not sent to chase a village that has done its part."""
    if not waiting:
        return ""
    if waiting == items:
        return f"，均{AWAITING_SIGNATURE_ZH}" if items > 1 else f"，{AWAITING_SIGNATURE_ZH}"
    return f"，其中{waiting}项{AWAITING_SIGNATURE_ZH}"


def _group_entry(
    rule: str, town: str, lines: list[ReminderLine], today: dt.date, calendar: WorkCalendar
) -> Entry:
    first = min(line.due for line in lines)
    subjects = {line.subject_code or line.subject for line in lines}
    unit_word = _count_word({line.subject_kind for line in lines})
    late = late_items(lines)
    waiting = sum(1 for line in lines if line.awaiting_signature)
    if len(late) == 1:
        what = late[0][0]
    else:
        what = "、".join(f"{title}{n}项" for title, n in late[:ESCALATION_TITLES])
        if len(late) > ESCALATION_TITLES:
            what += f"等{len(late)}个事项"
    return Entry(
        RULE_WORDS[rule],
        f"{town}：{len(subjects)}{unit_word}{len(lines)}项逾期"
        + _waiting_words(waiting, len(lines))
        + f"（{what}；最早截止{day_zh(first, today)}，{days_word(first, today, calendar)}）",
        "overdue",
        first,
        len(lines),
        digest_key([line.natural or f"id:{line.reminder_id}" for line in lines])[:16],
        {
            "town": town,
            "obligations": [{"title": title, "items": n} for title, n in late],
            "subjects": len(subjects),
            "items": len(lines),
            "awaiting_signature": waiting,
            "due": first.isoformat(),
            "working_days": calendar.working_days_between(today, first),
        },
    )


@dataclass(frozen=True)
class Delivery:
    """What delivering a digest to one channel gave."""

    ok: bool
    error: str | None = None
    # no retry can help (a channel that cannot be used, a host or file refused): dead now
    permanent: bool = False


@dataclass(frozen=True)
class Digest:
    recipient: str
    day: dt.date
    title: str
    key: str
    entries: list[Entry]  # the lines shown
    more: dict[str, int]  # items not shown, by state
    see_all: str
    # where to do it on the web door: a one-time sign-in link on a person's own channel,
    # the plain address on a group robot's (the whole group reads it)
    door: str = ""
    greeting: str = ""  # instead of the reminder's greeting (an invitation)

    def _greeting(self) -> str:
        if self.greeting:
            return self.greeting
        return f"{self.recipient}同志：截至{date_zh(self.day)}，以下事项请及时办理："

    def _door_line(self) -> str | None:
        return f"网上办理：{self.door}" if self.door else None

    def _summary(self) -> str | None:
        if not any(self.more.values()):
            return None
        parts = [
            f"{self.more[state]}项{STATE_WORDS[state].removeprefix('已')}"
            for state in ("overdue", "today", "upcoming")
            if self.more.get(state)
        ]
        rest = f"另有{'、'.join(parts)}未列出"
        # the reader is a village secretary, not the department's terminal: the door when
        # there is one, else whom to ask (the command is for the department's staff)
        if self.door:
            return f"{rest}，网上办理中可查看全部"
        return f"{rest}，可请组织部查看全部（{self.see_all}）"

    def text(self) -> str:
        lines = [self._greeting(), *(e.plain(n) for n, e in enumerate(self.entries, 1))]
        if summary := self._summary():
            lines.append(summary)
        if door := self._door_line():
            lines.append(door)
        lines.append(f"提醒编号：{self.key}")
        return "\n".join(lines)

    def html(self) -> str:
        esc = html.escape
        rows = [f"<p>{esc(self._greeting())}</p>"]
        rows += [
            f"<p>{n}. <b>[{esc(e.tag)}]</b> {esc(e.text)}</p>"
            for n, e in enumerate(self.entries, 1)
        ]
        if summary := self._summary():
            rows.append(f"<p>{esc(summary)}</p>")
        if self.door:
            rows.append(f'<p>网上办理：<a href="{esc(self.door)}">{esc(self.door)}</a></p>')
        rows.append(f"<p>提醒编号：{esc(self.key)}</p>")
        return "\n".join(rows)

    def markdown_parts(self, max_bytes: int) -> list[str]:
        """The digest as Markdown messages of at most `max_bytes` UTF-8 bytes each, cut
        between lines; each part carries the title (numbered when there are several) and
        the key."""

        def size(text: str) -> int:
            return len(text.encode())

        numbered = [f"{n}. **[{e.tag}]** {e.text}" for n, e in enumerate(self.entries, 1)]
        tail = [s for s in (self._summary(), self._door_line()) if s]
        # room for the longest header and footer a part can have
        fixed = size(
            f"#### {self.title}（99/99）\n\n{self._greeting()}\n\n\n\n提醒编号：{self.key}"
        )
        budget = max_bytes - fixed
        if budget <= 0:
            raise ValueError(f"a message limit of {max_bytes} bytes cannot hold a title")
        groups: list[list[str]] = [[]]
        used = 0
        for line in [*numbered, *tail]:
            # a single line longer than a whole message is cut at a character, said so
            if size(line) + 1 > budget:
                line = line.encode()[: budget - 10].decode(errors="ignore") + "……"
            if groups[-1] and used + size(line) + 1 > budget:
                groups.append([])
                used = 0
            groups[-1].append(line)
            used += size(line) + 1
        parts = []
        for i, body in enumerate(groups, 1):
            mark = f"（{i}/{len(groups)}）" if len(groups) > 1 else ""
            greeting = f"{self._greeting()}\n\n" if i == 1 else ""
            parts.append(
                f"#### {self.title}{mark}\n\n{greeting}"
                + "\n".join(body)
                + f"\n\n提醒编号：{self.key}"
            )
        return parts

    def payload(self) -> dict[str, Any]:
        """For a webhook: Apprise's JSON fields (version, title, message, type), and the
        lines each as a field, keyed, so that a receiver can act on them and drop repeats."""
        return {
            "version": "1.0",
            "title": self.title,
            "message": self.text(),
            "type": "info",
            "key": self.key,
            "day": self.day.isoformat(),
            "lines": [
                {
                    "n": n,
                    "key": e.key,
                    "tag": e.tag,
                    "state": e.state,
                    "items": e.items,
                    "text": e.text,
                    **e.fields,
                }
                for n, e in enumerate(self.entries, 1)
            ],
            "more": {state: n for state, n in self.more.items() if n},
            "see_all": self.see_all,
            **({"door": self.door} if self.door else {}),
        }


def build_digest(
    recipient: str,
    lines: Sequence[ReminderLine],
    today: dt.date,
    calendar: WorkCalendar,
    *,
    max_lines: int,
    see_all: str,
) -> Digest:
    """One person's digest of `lines` (one per item: superseded ones are left out before).
    Only the lines shown are written out: a sweep after a gap may hold hundreds a person."""
    # (order, state, items, build): sorted on plain values, built only when shown
    candidates: list[tuple[tuple[Any, ...], str, int, Any]] = []
    escalated: dict[str, list[ReminderLine]] = {}
    for line in lines:
        if is_escalation(line.rule):
            # one town, one line, whichever level it was escalated at: the higher one says it
            escalated.setdefault(line.town, []).append(line)
            continue
        state = state_of(line.due, today)
        order = (STATE_ORDER[state], line.due, line.campaign, line.obligation, line.subject,
                 line.occurrence)  # fmt: skip
        candidates.append((order, state, 1, line))
    for town, group in escalated.items():
        first = min(line.due for line in group)
        candidates.append(((STATE_ORDER["overdue"], first, "", town), "overdue", len(group), town))
    candidates.sort(key=lambda c: c[0])
    shown: list[Entry] = []
    for _, _, _, what in candidates[:max_lines]:
        if isinstance(what, ReminderLine):
            shown.append(_item_entry(what, today, calendar))
        else:
            group = escalated[what]
            rule = DISTRICT if any(line.rule == DISTRICT for line in group) else "escalate"
            shown.append(_group_entry(rule, what, group, today, calendar))
    more: Counter[str] = Counter()
    for _, state, items, _ in candidates[max_lines:]:
        more[state] += items
    total = sum(c[2] for c in candidates)
    overdue = sum(c[2] for c in candidates if c[1] == "overdue")
    supervised = sum(1 for line in lines if is_escalation(line.rule))
    notes = [f"逾期{overdue}项"] if overdue else []
    if supervised:
        notes.append(f"含督办{supervised}项")
    title = f"【工作提醒】{recipient}：{total}项待办" + (f"（{'，'.join(notes)}）" if notes else "")
    key = digest_key([line.natural or f"id:{line.reminder_id}" for line in lines])
    return Digest(recipient, today, title, key, shown, dict(more), see_all)


def invitation(recipient: str, day: dt.date, link: str, days: float) -> Digest:
    """A person's invitation to the web door: their one-time sign-in link, alone."""
    return Digest(
        recipient,
        day,
        f"【网上办理】{recipient}：登录链接",
        digest_key([f"invite:{link}"]),
        [],
        {},
        "",
        door=link,
        greeting=f"{recipient}同志：请用下面的链接在手机上查看和办理您的待办事项。链接"
        f"{days:g}天内有效，只能使用一次，请勿转发。",
    )


def see_all(person_code: str) -> str:
    """Where the department's staff see every item a person's digest had no room for."""
    return f"campaign todo {person_code}"


def channel_key(url: str) -> str:
    """What is kept of a channel: its URL's hash (a webhook's URL may hold its secret)."""
    return hashlib.sha256(url.encode()).hexdigest()[:64]


class Recipient(NamedTuple):
    """A person a reminder may go to."""

    id: int
    code: str
    name: str
    channels: list[str] | None
    unit_id: int | None = None


C = TypeVar("C", bound=DueReminder)


@dataclass(frozen=True)
class Outgoing(Generic[C]):
    """One person's digest, addressed: the reminders it carries and the channels it goes to."""

    group: list[C]
    channels: list[str]
    digest: Digest
    # the same digest with a one-time sign-in link, for the person's own channels; a group
    # robot's (the whole group reads it) gets `digest`, with the door's plain address
    personal: Digest | None = None
    # of a person's several channels, those that already took every reminder of the group
    # (an earlier try failed on another): not sent a copy again
    taken: frozenset[str] = frozenset()

    @property
    def recipient_id(self) -> int:
        return self.group[0].recipient_id

    @property
    def several(self) -> bool:
        """The person has several channels: which of them took each reminder is kept, so that
        a retry goes only to those that did not."""
        return len(self.channels) > 1

    @property
    def pending_channels(self) -> list[str]:
        return [c for c in self.channels if channel_key(c) not in self.taken]

    @property
    def key(self) -> str:
        return self.digest.key

    def digest_for(self, channel: str) -> Digest:
        if self.personal is not None and not is_group_channel(channel):
            return self.personal
        return self.digest


def address_digests(
    claimed: Sequence[C],
    lines: Mapping[int, ReminderLine],
    people: Mapping[int, Recipient],
    today: dt.date,
    calendar: WorkCalendar,
    *,
    max_lines: int,
    default_channels: Sequence[str],
    only_to: str | None = None,
) -> list[Outgoing[C]]:
    """One digest per person of the `claimed` reminders (`lines` by reminder id), to the
    person's channels, else `default_channels`; `only_to`: a rehearsal's one channel, where
    every digest goes instead."""
    by_recipient: dict[int, list[C]] = defaultdict(list)
    for c in claimed:
        by_recipient[c.recipient_id].append(c)
    outgoing = []
    for recipient_id, group in by_recipient.items():
        person = people.get(recipient_id)
        digest = build_digest(
            person.name if person else "同志",
            [lines[c.id] for c in group],
            today,
            calendar,
            max_lines=max_lines,
            see_all=see_all(person.code if person else str(recipient_id)),
        )
        if only_to:
            channels = [only_to]
        else:
            channels = list(person.channels) if person and person.channels else []
        outgoing.append(Outgoing(group, channels or list(default_channels), digest))
    return outgoing


def several_channels(outgoing: Sequence[Outgoing[C]]) -> list[int]:
    """The reminders whose person has several channels: which of them took each is read."""
    return [c.id for o in outgoing if o.several for c in o.group]


def without_taken(
    outgoing: Sequence[Outgoing[C]], taken: Mapping[int, set[str]]
) -> list[Outgoing[C]]:
    """A retry goes only to the channels that did not take every reminder of its digest
    (`taken`: the channel keys that took each reminder)."""
    out = []
    for o in outgoing:
        if o.several:
            keys = [taken.get(c.id, set()) for c in o.group]
            o = replace(o, taken=frozenset(set.intersection(*keys)) if keys else frozenset())
        out.append(o)
    return out


def wanting_links(outgoing: Sequence[Outgoing[C]], people: Mapping[int, Recipient]) -> list[int]:
    """The persons a sign-in link is made for: those with a channel only they read."""
    return sorted(
        {
            o.recipient_id
            for o in outgoing
            if o.recipient_id in people and any(not is_group_channel(c) for c in o.channels)
        }
    )


def with_door(
    outgoing: Sequence[Outgoing[C]], door: str, tokens: Mapping[int, str]
) -> list[Outgoing[C]]:
    """Each digest with the web door's address, and a personal copy carrying the person's
    sign-in link (`tokens` by person id) for their own channels."""
    return [
        replace(
            o,
            digest=replace(o.digest, door=door),
            personal=replace(o.digest, door=sign_in_url(door, token))
            if (token := tokens.get(o.recipient_id))
            else None,
        )
        for o in outgoing
    ]
