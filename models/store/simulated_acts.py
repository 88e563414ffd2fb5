"""What a rehearsal's simulated people do, recorded as real people's acts are (through the
same writers, with the same checks): submissions and sign-offs on the days the behaviour
model drew, inspection results, rectifications before their deadlines. Who acts and whether
a check passes are `models/domain/simulation.py`'s."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session

from models.domain.campaign import LoadedCampaign
from models.domain.org_snapshot import OrgSnapshot
from models.domain.simulation import (
    PlannedSubmission,
    acting_doer,
    acting_inspector,
    acting_signer,
    check_passes,
    rectified_on,
)
from models.domain.vocabulary import ItemStatus
from models.domain.working_days import WorkCalendar, to_date
from models.errors import CampaignError
from models.store import rehearsal
from models.store.evidence import Submission, sign, store_bytes, submit
from models.store.inspections import InspectedCampaign, SampleRef, record_result, run_inspections
from models.store.tables import ChecklistItem


def record_simulated_day(
    session: Session,
    *,
    loaded: LoadedCampaign,
    org: OrgSnapshot,
    day: dt.date,
    submissions: Sequence[tuple[int, PlannedSubmission]],
    signs: Sequence[int],
    now: dt.datetime,
    files_home: Path,
    calendar: WorkCalendar,
) -> Counter[str]:
    """The day's submissions, then its sign-offs (five hours later); an item that moved on
    since the plan was drawn is passed over."""
    obligations = loaded.spec.obligations_by_key()
    done: Counter[str] = Counter()
    for item_id, planned in submissions:
        item = session.get(ChecklistItem, item_id)
        if item is None or item.status not in (ItemStatus.OPEN, ItemStatus.REJECTED):
            continue
        doer = acting_doer(org, item)
        if doer is None:
            done["no-doer"] += 1
            continue
        files = [_simulated_file(files_home, item, n) for n in range(planned.files)]
        try:
            submit(
                session,
                org=org,
                item=item,
                obligation=obligations[item.obligation_key],
                person=doer,
                submission=Submission(planned.counts, planned.note, files, to_date(day)),
                calendar=calendar,
                now=now,
            )
        except CampaignError:
            done["refused"] += 1
            continue
        done["submitted"] += 1
        session.refresh(item)
    for item_id in signs:
        item = session.get(ChecklistItem, item_id)
        if item is None or item.status != ItemStatus.SUBMITTED:
            continue
        obligation = obligations[item.obligation_key]
        signer = acting_signer(org, item, obligation.evidence.sign_off)
        if signer is None:
            done["no-signer"] += 1
            continue
        sign(
            session,
            org=org,
            item=item,
            obligation=obligation,
            signer=signer,
            approve=True,
            reason=None,
            dated=day,
            now=now + dt.timedelta(hours=5),
        )
        done["signed"] += 1
    return done


def _simulated_file(home: Path, item: ChecklistItem, n: int) -> dict[str, Any]:
    """A small stand-in document, stored like a real upload."""
    body = (
        f"模拟材料 {item.obligation_key} {item.subject_type}:{item.subject_id} "
        f"{item.occurrence} #{n + 1}\n"
    ).encode()
    return store_bytes(home, body, f"{item.obligation_key}-{n + 1}.txt")


def record_simulated_checks(
    session: Session, *, scope: InspectedCampaign, day: dt.date, seed: int, now: dt.datetime
) -> Counter[str]:
    """A working day of inspections: the checks due are made, inspectors record every result
    the same day (seeded pass or fail), and subjects record their rectifications on a seeded
    day before the deadline; re-inspections follow the deadlines."""
    loaded, org, calendar = scope.loaded, scope.org, scope.calendar
    spec = loaded.spec
    done: Counter[str] = Counter()
    run_inspections(
        session, loaded=loaded, campaign=scope.id, calendar=calendar, as_of=day, now=now
    )
    for key, label, sample in rehearsal.unchecked_samples(session, scope.id):
        inspection = next(i for i in spec.inspections if i.key == key)
        inspector = acting_inspector(org, inspection.inspectors)
        if inspector is None:
            done["no-inspector"] += 1
            continue
        passed = check_passes(seed, key, label, sample.subject_type, sample.subject_id)
        record_result(
            session,
            scope=scope,
            ref=SampleRef(key, label, sample.subject_type, sample.subject_id),
            passed=passed,
            findings=None if passed else "（模拟）未按要求落实，责令限期整改。",
            inspector=inspector,
            dated=day,
            now=now,
        )
        done["checked"] += 1
        done["check-failed"] += not passed
    for item in rehearsal.open_rectification_items(session, scope.id):
        on = rectified_on(
            seed, item.obligation_key, item.subject_id, item.occurrence, to_date(item.due), calendar
        )
        doer = acting_doer(org, item)
        if on != day or doer is None:
            continue
        obligation = next(o for _, o in spec.obligations() if o.key == item.obligation_key)
        submit(
            session,
            org=org,
            item=item,
            obligation=obligation,
            person=doer,
            submission=Submission({}, "（模拟）已按要求整改到位。", [], day),
            calendar=calendar,
            now=now,
            check_permission=False,
        )
        done["rectified"] += 1
    return done
