"""Evidence: submissions, sign-offs and rejections, append-only, moving an item's status.

open → submitted (when a sign-off is required) → accepted, or rejected with a reason and then
submitted again; open → accepted when no sign-off is required. A new submission supersedes
the previous one; nothing is updated in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from models.domain.campaign import EvidenceRule, Obligation
from models.domain.counts import by_key
from models.domain.date_rules import first_record_day
from models.domain.file_checks import (
    ACCEPTED_TYPES,
    is_polyglot,
    name_problem,
    sniff,
    strip_metadata,
)
from models.domain.org_snapshot import OrgSnapshot, PersonInfo
from models.domain.permissions import (
    FALLBACK_RESPONSIBLE_ROLES,
    may_sign,
    may_submit,
)
from models.domain.planning import in_window
from models.domain.text_safety import written
from models.domain.vocabulary import EvidenceKind, ItemStatus, SubjectType
from models.domain.wording import STATUS_ZH, SUBJECT_ZH, obligation_zh, occurrence_ref, sign_off_zh
from models.domain.working_days import WorkCalendar
from models.errors import EvidenceError, NotFound, PermissionRefused
from models.store import audit
from models.store.db import execute_plain, one_or_not_found
from models.store.reminders import cancel_pending
from models.store.tables import CampaignVersion, ChecklistItem, Evidence, PhaseState, core
from models.store.tables import Obligation as ObligationRow


@dataclass(frozen=True)
class Submission:
    counts: dict[str, int]
    note: str | None
    files: list[dict[str, Any]]
    dated: dt.date


def _named(obligation: Obligation) -> str:
    return obligation_zh(obligation.title, obligation.key)


def missing_parts(rule: EvidenceRule, submission: Submission) -> list[str]:
    """What the submission lacks against the rule; empty when it satisfies it."""
    problems = []
    known = {c.key: c for c in rule.counts}
    for name in submission.counts:
        if name not in known:
            expected = "、".join(f"{c.key}（{c.name}）" for c in known.values()) or "无"
            problems.append(f"没有计数项{name!r}（应为：{expected}）")
    if rule.note and not (submission.note or "").strip():
        problems.append("需要填写说明")
    for key, count in known.items():
        if count.min is not None:
            value = submission.counts.get(key)
            if value is None:
                problems.append(f"需要填写{count.name}（{key}）")
            elif value < count.min:
                problems.append(f"{count.name}（{key}）至少为{count.min}，填的是{value}")
    if len(submission.files) < rule.files:
        problems.append(f"需要{rule.files}个附件，收到{len(submission.files)}个")
    return problems


def store_bytes(home: Path, data: bytes, name: str) -> dict[str, Any]:
    """Keep content in the content-addressed store (sha256), once however often it comes;
    the user's file name is kept only as a label."""
    digest = hashlib.sha256(data).hexdigest()
    target = home / "files" / digest[:2] / digest
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)  # atomic: a reader never sees half a file
    return {"sha256": digest, "size": len(data), "name": name}


def read_evidence_file(path: Path, max_bytes: int) -> tuple[bytes, dict[str, Any]]:
    """A file from disk checked before anything is written (see `check_document`). The size
    is the bytes read, never what stat says: a special file reports 0 and a growing one
    grows after the check."""
    if not path.is_file():
        raise EvidenceError(f"没有这个文件：{path}")
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    return check_document(data, path.name, max_bytes, str(path))


def check_document(
    data: bytes, name: str, max_bytes: int, shown: str | None = None
) -> tuple[bytes, dict[str, Any]]:
    """A document checked before anything is written: it fits the limit, its name is plain,
    its content an accepted type and not also an archive; a photo's location data is
    stripped (models/domain/file_checks.py). Returns the bytes to store and what the
    evidence row records of them. `shown`: how the file is named in a refusal."""
    shown = shown or name
    if len(data) > max_bytes:
        raise EvidenceError(
            f"{shown}：超过{max_bytes / 1_000_000:g} MB的大小限制（CAMPAIGN_MAX_FILE_MB）"
        )
    if problem := name_problem(name):
        raise EvidenceError(f"{shown}：{problem}")
    kind = sniff(data)
    if kind is None:
        raise EvidenceError(f"{shown}：按内容看不是可接受的文件（{ACCEPTED_TYPES}）")
    if is_polyglot(data, kind):
        raise EvidenceError(
            f"{shown}：这个{kind}文件同时是一个ZIP压缩包，不予接收，请直接提交文件本身"
        )
    data, removed = strip_metadata(data, kind)
    meta = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "name": name,  # a label only: the store never uses it as a path
        "type": kind,
    }
    if removed:
        meta["stripped"] = removed  # e.g. a phone photo's EXIF, with its GPS position
    return data, meta


def obligation_rule(session: Session, campaign: int, version: int, key: str) -> Obligation:
    stmt = (
        select(col(ObligationRow.rule))
        .join(CampaignVersion, col(CampaignVersion.id) == col(ObligationRow.version_id))
        .where(
            col(CampaignVersion.campaign_id) == campaign,
            col(CampaignVersion.version) == version,
            col(ObligationRow.key) == key,
        )
    )
    return Obligation.model_validate(one_or_not_found(session, stmt, f"本活动没有事项{key!r}"))


def subject_id(org: OrgSnapshot, subject_type: str, code: str) -> int:
    tables: dict[str, Mapping[str, Any]] = {
        SubjectType.UNIT: org.unit_by_code,
        SubjectType.PERSON: org.person_by_code,
        SubjectType.PAIRING: org.pairing_by_code,
    }
    table = tables[subject_type]
    found = table.get(code)
    if found is None:
        raise NotFound(f"没有编码为{code!r}的{SUBJECT_ZH.get(subject_type, subject_type)}")
    return found.id


def find_item(
    session: Session,
    *,
    campaign: int,
    obligation: Obligation,
    subject: int,
    occurrence: str | None,
    dated: dt.date,
) -> ChecklistItem:
    """The item for a subject and obligation; without --occurrence, the earliest one not yet
    accepted whose due date is on or after the evidence date (else the last one open)."""
    subject_type = obligation.subject.kind
    items = (
        session.execute(
            select(ChecklistItem)
            .where(
                col(ChecklistItem.campaign_id) == campaign,
                col(ChecklistItem.obligation_key) == obligation.key,
                col(ChecklistItem.subject_type) == subject_type,
                col(ChecklistItem.subject_id) == subject,
                col(ChecklistItem.status) != ItemStatus.CANCELLED,
            )
            .order_by(col(ChecklistItem.due))
            # two submissions at once must count each other (at_least: 2): PostgreSQL locks
            # the rows here, as SQLite's BEGIN IMMEDIATE locks the database (it renders none)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    if not items:
        raise NotFound(
            f"这个对象没有{_named(obligation)}的事项（不是该事项的对象，或其批次尚未下发）"
        )
    if occurrence is not None:
        for item in items:
            if item.occurrence == occurrence:
                return item
        raise NotFound(
            f"没有周期{occurrence!r}；这个对象的周期有：{', '.join(i.occurrence for i in items)}"
        )
    if items[0].opens_on is not None:
        # a recurring obligation: the evidence belongs to the window its date falls in
        for item in items:
            if in_window(dated, item.opens_on, item.closes_on):
                return item
        raise EvidenceError(
            f"{_named(obligation)}没有哪个周期包含{dated}：各周期从{items[0].opens_on}到"
            f"{items[-1].closes_on}"
        )
    if len(items) == 1:
        return items[0]
    candidates = [i for i in items if i.status != ItemStatus.ACCEPTED]
    later = [i for i in candidates if i.due >= dated]
    if later:
        return later[0]
    if candidates:
        return candidates[-1]
    raise EvidenceError(f"{_named(obligation)}的每个周期都已完成")


def locate_item(
    session: Session,
    *,
    campaign: int,
    version: int,
    org: OrgSnapshot,
    obligation_key: str,
    subject_code: str,
    occurrence: str | None,
    dated: dt.date,
) -> tuple[Obligation, ChecklistItem]:
    """The obligation (as the campaign's current version states it) and the item that
    evidence for this subject code and date goes to."""
    rule = obligation_rule(session, campaign, version, obligation_key)
    item = find_item(
        session,
        campaign=campaign,
        obligation=rule,
        subject=subject_id(org, rule.subject.kind, subject_code),
        occurrence=occurrence,
        dated=dated,
    )
    return rule, item


_EVIDENCE = core(Evidence)
_ITEMS = core(ChecklistItem)
# the statements every report runs, built once, on the tables (plain rows back)
_LATEST = (
    select(_EVIDENCE.c.id, _EVIDENCE.c.person_id, _EVIDENCE.c.dated)
    .where(
        _EVIDENCE.c.item_id == bindparam("item"),
        _EVIDENCE.c.kind == EvidenceKind.SUBMISSION,
    )
    .order_by(_EVIDENCE.c.id.desc())
    .limit(1)
)
_MOVE_ITEM = (
    update(_ITEMS).where(_ITEMS.c.id == bindparam("item_id")).values(status=bindparam("to"))
)
_ACCEPT_ITEM = _MOVE_ITEM.values(completed_on=bindparam("on"))


class Latest(NamedTuple):
    id: int
    person_id: int
    dated: dt.date


def _latest(session: Session, item_id: int) -> Latest | None:
    """An item's latest submission: its id, who made it and the day it was dated."""
    row = execute_plain(session, _LATEST, {"item": item_id}).first()
    return Latest._make(row) if row else None


def latest_submitter(session: Session, item_id: int) -> int | None:
    """Who made an item's latest submission (four eyes: they may not sign it)."""
    latest = _latest(session, item_id)
    return latest.person_id if latest else None


def _latest_submission(session: Session, item_id: int) -> int | None:
    latest = _latest(session, item_id)
    return latest.id if latest else None


def submit(
    session: Session,
    *,
    org: OrgSnapshot,
    item: ChecklistItem,
    obligation: Obligation,
    person: PersonInfo,
    submission: Submission,
    calendar: WorkCalendar,
    now: dt.datetime,
    check_permission: bool = True,
    supervising: frozenset[str] | None = None,
) -> str:
    """Record a submission; returns the item's new status. `supervising`: the roles that
    answer for units below their own (default: the obligation's or the default policy's)."""
    assert item.id is not None  # a stored item
    submission = replace(
        submission,
        note=written(submission.note),
        counts=by_key(submission.counts, obligation.evidence.counts),
    )
    if item.status == ItemStatus.PENDING:
        raise EvidenceError(
            f"{_named(obligation)}所在的环节（{item.phase_key}）尚未开始，开始后才能登记"
        )
    if item.status == ItemStatus.ACCEPTED:
        raise EvidenceError(
            f"{_named(obligation)}{occurrence_ref(item.occurrence)}已于{item.completed_on}完成"
        )
    if supervising is None:
        roles = obligation.reminders.responsible_roles if obligation.reminders else None
        supervising = frozenset(roles or FALLBACK_RESPONSIBLE_ROLES)
    if check_permission and not may_submit(org, person, item, supervising):
        raise PermissionRefused(
            f"{person.code}（{person.name}）不能为这个对象报送：不是本人单位的事项，"
            "其角色也不负责下级单位"
        )
    problems = missing_parts(obligation.evidence, submission)
    if problems:
        raise EvidenceError("；".join(problems))
    if not in_window(submission.dated, item.opens_on, item.closes_on):
        raise EvidenceError(
            f"日期{submission.dated}不在{_named(obligation)}{occurrence_ref(item.occurrence)}"
            f"的周期内（{item.opens_on}至{item.closes_on}）：只计入所在的周期"
        )
    opened = _phase_opened_on(session, item)
    if opened is not None and submission.dated < first_record_day(opened, calendar):
        raise EvidenceError(
            f"日期{submission.dated}早于{_named(obligation)}所在环节（{item.phase_key}）"
            f"开始的{opened}：环节开始前的事不计入，请核对办理日期"
        )
    needed = obligation.submissions_needed
    status = ItemStatus.SUBMITTED if obligation.evidence.sign_off else ItemStatus.ACCEPTED
    supersedes = None
    if needed == 1:
        supersedes = _latest_submission(session, item.id)
    elif _submissions(session, item.id) + 1 < needed:
        status = ItemStatus.OPEN  # counted; the window needs more before the item is done
    _record(
        session,
        item=item,
        obligation=obligation,
        person=person,
        kind=EvidenceKind.SUBMISSION,
        status=status,
        dated=submission.dated,
        now=now,
        note=submission.note,
        counts=submission.counts,
        files=submission.files,
        supersedes=supersedes,
    )
    return status


def _phase_opened_on(session: Session, item: ChecklistItem) -> dt.date | None:
    """The day the item's phase opened (None: no record of it)."""
    return session.execute(
        select(col(PhaseState.opened_on)).where(
            col(PhaseState.campaign_id) == item.campaign_id,
            col(PhaseState.phase_key) == item.phase_key,
        )
    ).scalar_one_or_none()


def _submissions(session: Session, item_id: int) -> int:
    """Submissions that count towards an item: each one at least N asks for is a new row."""
    return session.execute(
        select(func.count())
        .select_from(Evidence)
        .where(col(Evidence.item_id) == item_id, col(Evidence.kind) == EvidenceKind.SUBMISSION)
    ).scalar_one()


def sign(
    session: Session,
    *,
    org: OrgSnapshot,
    item: ChecklistItem,
    obligation: Obligation,
    signer: PersonInfo,
    approve: bool,
    reason: str | None,
    dated: dt.date,
    now: dt.datetime,
) -> str:
    """Sign off (accept) or reject a submitted item; returns its new status."""
    rule = obligation.evidence.sign_off
    if rule is None:
        raise EvidenceError(f"{_named(obligation)}不需要签字")
    if item.status != ItemStatus.SUBMITTED:
        raise EvidenceError(
            f"{_named(obligation)}{occurrence_ref(item.occurrence)}"
            f"{STATUS_ZH.get(item.status, item.status)}，"
            "不在待签字状态"
        )
    assert item.id is not None  # a stored item
    latest = _latest(session, item.id)
    submitter = latest.person_id if latest else None
    if latest is not None and dated < latest.dated:
        raise EvidenceError(f"签字日期{dated}早于所签报送的日期{latest.dated}")
    if submitter == signer.id:
        raise PermissionRefused(
            f"{signer.code}（{signer.name}）不能为自己报送的事项签字，须由另一位有签字角色的人签"
        )
    if not may_sign(org, signer, item, rule, submitter):
        raise PermissionRefused(
            f"{signer.code}（{signer.name}）不能签字：须由{sign_off_zh(rule, org.role_names)}签"
        )
    reason = written(reason)
    if not approve and reason is None:
        raise EvidenceError("退回需要写明理由")
    status = ItemStatus.ACCEPTED if approve else ItemStatus.REJECTED
    _record(
        session,
        item=item,
        obligation=obligation,
        person=signer,
        kind=EvidenceKind.SIGN_OFF if approve else EvidenceKind.REJECTION,
        status=status,
        dated=dated,
        now=now,
        note=reason,
    )
    return status


def accept_after_recheck(
    session: Session,
    *,
    item: ChecklistItem,
    obligation: Obligation,
    inspector: PersonInfo,
    findings: str | None,
    dated: dt.date,
    now: dt.datetime,
) -> None:
    """A passing re-inspection closes a rectification, whether or not the subject recorded
    what it did: the inspector's word is the sign-off."""
    _record(
        session,
        item=item,
        obligation=obligation,
        person=inspector,
        kind=EvidenceKind.SIGN_OFF,
        status=ItemStatus.ACCEPTED,
        dated=dated,
        now=now,
        note=findings or "复查通过",
    )


def _record(
    session: Session,
    *,
    item: ChecklistItem,
    obligation: Obligation,
    person: PersonInfo,
    kind: str,
    status: str,
    dated: dt.date,
    now: dt.datetime,
    note: str | None = None,
    counts: dict[str, int] | None = None,
    files: list[dict[str, Any]] | None = None,
    supersedes: int | None = None,
) -> None:
    """Append the evidence row, move the item, and audit both, in the caller's transaction."""
    assert item.id is not None  # a stored item
    execute_plain(
        session,
        insert(_EVIDENCE),
        [
            {
                "item_id": item.id,
                "kind": kind,
                "person_id": person.id,
                "recorded_at": now,
                "dated": dated,
                "note": note,
                "counts": counts or {},
                "files": files or [],
                "supersedes_id": supersedes,
            }
        ],
    )
    accepted = status == ItemStatus.ACCEPTED
    if accepted:
        cancel_pending(session, [item.id])  # a done item is reminded of nothing more
    execute_plain(
        session,
        _ACCEPT_ITEM if accepted else _MOVE_ITEM,
        {"item_id": item.id, "to": status, "on": dated},
    )
    # the caller's item as the row now is, without marking it changed (to be written again)
    set_committed_value(item, "status", status)
    if accepted:
        set_committed_value(item, "completed_on", dated)
    audit.append(
        session,
        actor=person.code,
        action="evidence.counted" if status == ItemStatus.OPEN else f"evidence.{status}",
        entity="item",
        entity_key=str(item.id),
        now=now,
        payload={
            "obligation": obligation.key,
            "occurrence": item.occurrence,
            "dated": dated.isoformat(),  # the day it was done: the claim a backdating changes
            "note": note,
            "counts": counts or {},
            "files": [f["sha256"] for f in files or []],
        },
    )
