"""Inspections in the database: making the checks that are due, recording their results,
and the rectification loop a failed check starts.

fail → a rectification item for the subject, due `rectify_within` days later, with its
reminders → the subject records what it did (evidence on `rectification-<inspection>`) → after the
deadline a re-inspection (`<check>-recheck`) samples it → pass: the rectification is
accepted; fail: it is replaced by a new round with a new deadline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from models.domain.campaign import RECTIFY_PREFIX, Inspection, LoadedCampaign
from models.domain.inspections import (
    RECHECK,
    Candidate,
    CheckOutcome,
    check_day,
    check_windows,
    draw,
    previous_label,
)
from models.domain.org_snapshot import OrgSnapshot, PersonInfo
from models.domain.permissions import may_inspect
from models.domain.planning import rectification_due
from models.domain.text_safety import written
from models.domain.vocabulary import OPEN_ITEM, CheckResult, ItemStatus
from models.domain.wording import RESULT_ZH, role_zh
from models.domain.working_days import WorkCalendar
from models.errors import EvidenceError, NotFound, PermissionRefused
from models.store import audit
from models.store.db import insert_ignore, one_or_not_found
from models.store.evidence import accept_after_recheck
from models.store.reminders import plan_initial_reminders
from models.store.rollout import ItemRow, write_item
from models.store.tables import (
    Campaign,
    ChecklistItem,
    InspectionSample,
    Person,
    columns,
    core,
)
from models.store.tables import Inspection as InspectionRow

OPEN_RECTIFICATION = (ItemStatus.PENDING, *OPEN_ITEM)


@dataclass(frozen=True)
class InspectedCampaign:
    """A rolled-out campaign as inspections read it: its file, its stored id, the
    organization and the working-day calendar."""

    loaded: LoadedCampaign
    id: int
    org: OrgSnapshot
    calendar: WorkCalendar


@dataclass(frozen=True)
class SampleRef:
    """One sampled subject of one check of an inspection."""

    inspection_key: str
    label: str
    subject_type: str
    subject_id: int


@dataclass(frozen=True)
class CheckMade:
    inspection: str
    label: str
    sampled: int
    on: dt.date


def spec_inspection(loaded: LoadedCampaign, key: str) -> Inspection:
    found = next((i for i in loaded.spec.inspections if i.key == key), None)
    if found is None:
        known = "、".join(i.key for i in loaded.spec.inspections) or "无"
        raise NotFound(f"活动 {loaded.spec.key} 没有抽查 {key}（抽查：{known}）")
    return found


def made_checks(session: Session, campaign: int) -> set[tuple[str, str]]:
    """(inspection key, check label) of every check made for the campaign."""
    return {
        (r.key, r.occurrence)
        for r in session.execute(
            select(col(InspectionRow.key), col(InspectionRow.occurrence)).where(
                col(InspectionRow.campaign_id) == campaign
            )
        )
    }


def _check_id(session: Session, campaign: int, key: str, label: str) -> int | None:
    return session.execute(
        select(col(InspectionRow.id)).where(
            col(InspectionRow.campaign_id) == campaign,
            col(InspectionRow.key) == key,
            col(InspectionRow.occurrence) == label,
        )
    ).scalar_one_or_none()


def _make_check(
    session: Session,
    *,
    campaign: int,
    key: str,
    label: str,
    chosen: list[Candidate],
    now: dt.datetime,
) -> int:
    insert_ignore(
        session,
        core(InspectionRow),
        [{"campaign_id": campaign, "key": key, "occurrence": label, "created_at": now}],
        key=["campaign_id", "key", "occurrence"],
    )
    check = _check_id(session, campaign, key, label)
    assert check is not None
    added = insert_ignore(
        session,
        core(InspectionSample),
        [
            {"inspection_id": check, "subject_type": c.subject_type, "subject_id": c.subject_id}
            for c in chosen
        ],
        key=["inspection_id", "subject_type", "subject_id"],
    )
    if added:
        audit.append(
            session,
            actor="system",
            action="inspection.sampled",
            entity="inspection",
            entity_key=f"{campaign}:{key}:{label}",
            payload={"subjects": [f"{c.subject_type}:{c.subject_id}" for c in chosen]},
            now=now,
        )
    return added


def run_inspections(
    session: Session,
    *,
    loaded: LoadedCampaign,
    campaign: int,
    calendar: WorkCalendar,
    as_of: dt.date,
    now: dt.datetime,
) -> list[CheckMade]:
    """Make every check due by `as_of` that is not made yet, and the re-inspection of every
    rectification whose deadline has passed. Running it again makes nothing twice."""
    spec = loaded.spec
    made: list[CheckMade] = []
    for inspection in spec.inspections:
        phase, obligation = spec.inspected(inspection)
        windows_ = check_windows(inspection, loaded.phase_dates[phase.key], calendar)
        for window in windows_:
            if window.on > as_of or _check_id(session, campaign, inspection.key, window.label):
                continue
            population = [
                Candidate(r.subject_type, r.subject_id, r.town_id)
                for r in session.execute(
                    select(
                        col(ChecklistItem.subject_type),
                        col(ChecklistItem.subject_id),
                        col(ChecklistItem.town_id),
                    )
                    .where(
                        col(ChecklistItem.campaign_id) == campaign,
                        col(ChecklistItem.obligation_key) == obligation.key,
                        col(ChecklistItem.status) != ItemStatus.CANCELLED,
                        col(ChecklistItem.due) <= window.ends,  # what was due by the check
                    )
                    .distinct()
                )
            ]
            before = previous_label(windows_, window.label)
            previous = _sampled(session, campaign, inspection.key, before) if before else set()
            chosen = draw(inspection, window.label, population, previous)
            _make_check(
                session,
                campaign=campaign,
                key=inspection.key,
                label=window.label,
                chosen=chosen,
                now=now,
            )
            made.append(CheckMade(inspection.key, window.label, len(chosen), window.on))
        made += _rechecks(session, loaded, campaign, inspection, as_of, now)
    return made


def _sampled(session: Session, campaign: int, key: str, label: str) -> set[tuple[str, int]]:
    check = _check_id(session, campaign, key, label)
    if check is None:
        return set()
    rows = session.execute(
        select(col(InspectionSample.subject_type), col(InspectionSample.subject_id)).where(
            col(InspectionSample.inspection_id) == check
        )
    ).all()
    return {(r[0], r[1]) for r in rows}


def _rechecks(
    session: Session,
    loaded: LoadedCampaign,
    campaign: int,
    inspection: Inspection,
    as_of: dt.date,
    now: dt.datetime,
) -> list[CheckMade]:
    due = session.execute(
        select(
            *columns(ChecklistItem, "occurrence subject_type subject_id town_id"),
        ).where(
            col(ChecklistItem.campaign_id) == campaign,
            col(ChecklistItem.obligation_key) == f"{RECTIFY_PREFIX}{inspection.key}",
            col(ChecklistItem.status).in_(OPEN_RECTIFICATION),
            col(ChecklistItem.due) <= as_of,
        )
    ).all()
    by_label: dict[str, list[Candidate]] = {}
    for row in due:
        by_label.setdefault(f"{row.occurrence}{RECHECK}", []).append(
            Candidate(row.subject_type, row.subject_id, row.town_id)
        )
    made = []
    for label, subjects in sorted(by_label.items()):
        added = _make_check(
            session, campaign=campaign, key=inspection.key, label=label, chosen=subjects, now=now
        )
        if added:
            made.append(CheckMade(inspection.key, label, added, as_of))
    return made


def record_result(
    session: Session,
    *,
    scope: InspectedCampaign,
    ref: SampleRef,
    passed: bool,
    findings: str | None,
    inspector: PersonInfo,
    dated: dt.date,
    now: dt.datetime,
    files: list[dict[str, Any]] | None = None,
) -> CheckOutcome:
    """Record one sampled subject's result (with the files the inspector kept, by hash, in
    the audit trail); returns what followed."""
    loaded, campaign, org = scope.loaded, scope.id, scope.org
    inspection_key, label = ref.inspection_key, ref.label
    subject_type, subject_id = ref.subject_type, ref.subject_id
    spec = loaded.spec
    inspection = spec_inspection(loaded, inspection_key)
    if not may_inspect(inspector, inspection.inspectors):
        raise PermissionRefused(
            f"{inspector.code}（{inspector.name}）不能记录{inspection_key!r}的抽查结果：须由"
            f"{'、'.join(role_zh(r, org.role_names) for r in inspection.inspectors)}记录"
        )
    findings = written(findings)
    if not passed and findings is None:
        raise EvidenceError("未通过须写明发现的问题（--findings）")
    check = _check_id(session, campaign, inspection_key, label)
    if check is None:
        made = session.execute(
            select(col(InspectionRow.occurrence)).where(
                col(InspectionRow.campaign_id) == campaign, col(InspectionRow.key) == inspection_key
            )
        ).scalars()
        raise NotFound(
            f"{inspection_key!r}没有{label!r}这次抽查（已有：{', '.join(made) or '无'}）"
        )
    sample: InspectionSample = one_or_not_found(
        session,
        select(InspectionSample).where(
            col(InspectionSample.inspection_id) == check,
            col(InspectionSample.subject_type) == subject_type,
            col(InspectionSample.subject_id) == subject_id,
        ),
        f"这个对象不在{inspection_key!r} {label!r}的抽查样本中",
    )
    if sample.result is not None:
        raise EvidenceError(f"已记录过：{sample.checked_on} {RESULT_ZH[sample.result]}")
    phase, _ = spec.inspected(inspection)
    drawn = check_day(inspection, label, loaded.phase_dates[phase.key], scope.calendar)
    if drawn is not None and dated < drawn:
        # a year typed wrong would raise a rectification whose deadline is long past
        raise EvidenceError(
            f"检查日期{dated}早于这次抽查的日期{drawn}：抽中之前不会检查，请核对日期"
        )
    result = CheckResult.PASS if passed else CheckResult.FAIL
    session.execute(
        update(InspectionSample)
        .where(col(InspectionSample.id) == sample.id)
        .values(
            result=result,
            findings=findings,
            inspector_id=inspector.id,
            recorded_at=now,
            checked_on=dated,
        )
    )
    audit.append(
        session,
        actor=inspector.code,
        action=f"inspection.{result}",
        entity="check",
        entity_key=f"{subject_type}:{subject_id}",
        payload={
            "campaign": spec.key,
            "inspection": inspection_key,
            "check": label,
            "findings": findings,
            "on": dated.isoformat(),
            "files": [{"sha256": f["sha256"], "name": f["name"]} for f in files or []],
        },
        now=now,
    )
    rectification = spec.rectification(inspection)
    earlier = None
    if label.endswith(RECHECK):
        earlier = session.execute(
            select(ChecklistItem).where(
                col(ChecklistItem.campaign_id) == campaign,
                col(ChecklistItem.obligation_key) == rectification.key,
                col(ChecklistItem.subject_type) == subject_type,
                col(ChecklistItem.subject_id) == subject_id,
                col(ChecklistItem.occurrence) == label.removesuffix(RECHECK),
            )
        ).scalar_one_or_none()
    if passed:
        if earlier is not None and earlier.status in OPEN_RECTIFICATION:
            accept_after_recheck(
                session,
                item=earlier,
                obligation=rectification,
                inspector=inspector,
                findings=findings,
                dated=dated,
                now=now,
            )
            return CheckOutcome(result, rectified=True)
        return CheckOutcome(result)
    if earlier is not None and earlier.status in OPEN_RECTIFICATION:
        session.execute(
            update(ChecklistItem)
            .where(col(ChecklistItem.id) == earlier.id)
            .values(status=ItemStatus.CANCELLED)
        )
    due = _raise_rectification(
        session, scope, inspection, ref, dated=dated, now=now, actor=inspector.code,
        findings=findings or "",
    )  # fmt: skip
    return CheckOutcome(result, rectify_by=due)


def _raise_rectification(
    session: Session,
    scope: InspectedCampaign,
    inspection: Inspection,
    ref: SampleRef,
    *,
    dated: dt.date,
    now: dt.datetime,
    actor: str,
    findings: str,
) -> dt.date:
    """The rectification item of a failed check, with its reminders; returns its deadline."""
    spec, campaign, org, calendar = scope.loaded.spec, scope.id, scope.org, scope.calendar
    label, subject_type, subject_id = ref.label, ref.subject_type, ref.subject_id
    phase, _ = spec.inspected(inspection)
    key = f"{RECTIFY_PREFIX}{inspection.key}"
    unit_id = org.unit_of(subject_type, subject_id)
    deadline = rectification_due(dated, inspection.rectify_within)
    version = session.execute(
        select(col(Campaign.current_version)).where(col(Campaign.id) == campaign)
    ).scalar_one()
    due = calendar.roll(deadline, spec.deadline_roll)
    item_id = write_item(
        session,
        ItemRow(
            campaign_id=campaign,
            phase_key=phase.key,
            obligation_key=key,
            subject_type=subject_type,
            subject_id=subject_id,
            occurrence=label,
            due=due.isoformat(),
            status=ItemStatus.OPEN,
            wave=None,
            version=version,
            unit_id=unit_id,
            town_id=org.units[unit_id].town_id,
            opens_on=None,
            closes_on=None,
        ),
    )
    plan_initial_reminders(
        session,
        spec=spec,
        campaign=campaign,
        org=org,
        calendar=calendar,
        where=(col(ChecklistItem.id) == item_id,),
    )
    audit.append(
        session,
        actor=actor,
        action="rectification.raised",
        entity="item",
        entity_key=str(item_id),
        payload={"inspection": inspection.key, "check": label, "findings": findings},
        now=now,
    )
    return due


def open_rectifications(session: Session, campaign: int) -> tuple[int, int]:
    """(open, closed) rectifications of a campaign."""
    rows = dict(
        session.execute(
            select(col(ChecklistItem.status), func.count())
            .where(
                col(ChecklistItem.campaign_id) == campaign,
                col(ChecklistItem.obligation_key).like(f"{RECTIFY_PREFIX}%"),
            )
            .group_by(col(ChecklistItem.status))
        ).all()
    )
    return sum(rows.get(s, 0) for s in OPEN_RECTIFICATION), rows.get(ItemStatus.ACCEPTED, 0)


@dataclass(frozen=True)
class SampleRow:
    id: int
    campaign_key: str
    inspection_key: str
    label: str
    subject_type: str
    subject_id: int
    result: str | None
    findings: str | None
    checked_on: dt.date | None
    inspector: str | None  # the name of who recorded the result


def samples_of(
    session: Session,
    *,
    campaign_keys: list[str],
    sample_id: int | None = None,
    label: str | None = None,
) -> list[SampleRow]:
    """The sampled subjects of these campaigns' checks (or the one sample, or those of one
    check), by check."""
    query = (
        select(
            col(InspectionSample.id),
            col(Campaign.key),
            col(InspectionRow.key),
            col(InspectionRow.occurrence),
            *columns(InspectionSample, "subject_type subject_id result findings checked_on"),
            col(Person.name),
        )
        .join(InspectionRow, col(InspectionRow.id) == col(InspectionSample.inspection_id))
        .join(Campaign, col(Campaign.id) == col(InspectionRow.campaign_id))
        .outerjoin(Person, col(Person.id) == col(InspectionSample.inspector_id))
        .where(col(Campaign.key).in_(campaign_keys))
        .order_by(col(InspectionRow.id), col(InspectionSample.subject_id))
    )
    if sample_id is not None:
        query = query.where(col(InspectionSample.id) == sample_id)
    if label is not None:
        query = query.where(col(InspectionRow.occurrence) == label)
    return [SampleRow(*r) for r in session.execute(query).all()]
