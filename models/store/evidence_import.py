"""Evidence from a spreadsheet: every row checked and recorded in one transaction, or none.

A row is what `campaign evidence add` takes. Each is submitted in turn inside the transaction
(so a later row sees what an earlier one did: two visits to one pairing count twice), and
any problem in any row rolls back all of them; files are read and checked first and stored
only when every row has passed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from config.evidence_sheet import EvidenceRow
from models.domain.campaign import LoadedCampaign
from models.domain.org_snapshot import OrgSnapshot
from models.errors import CampaignError, EvidenceError, ImportRejected
from models.store.evidence import (
    Submission,
    locate_item,
    read_evidence_file,
    store_bytes,
    submit,
)
from models.store.rollout import campaign_id
from models.store.tables import Campaign


def parse_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for part in (p.strip() for p in text.replace("；", ";").split(";")):
        if not part:
            continue
        name, sep, number = part.partition("=")
        if not sep or not name.strip():
            raise EvidenceError(f"count {part!r}: expected NAME=NUMBER")
        if not number.strip():
            continue  # the template's `key=` left blank: not reported
        try:
            value = int(number)
        except ValueError:
            raise EvidenceError(f"count {part!r}: {number!r} is not a whole number") from None
        if value < 0:
            raise EvidenceError(f"count {part!r}: a count cannot be negative")
        counts[name.strip()] = value
    return counts


def _file_inside(folder: Path, name: str) -> Path:
    """A file the sheet names, which must lie in the sheet's folder or below it, reached
    without a symbolic link (a link in a folder sent in could point at anything readable)."""
    given = folder / name
    path = given.resolve()
    if not path.is_relative_to(folder.resolve()):
        raise EvidenceError(f"file {name!r} is outside the sheet's folder")
    step = given
    while step != folder and step != step.parent:
        if step.is_symlink():
            raise EvidenceError(f"file {name!r}: {step.name} is a symbolic link, refused")
        step = step.parent
    return path


def import_rows(
    session: Session,
    *,
    loaded: LoadedCampaign,
    org: OrgSnapshot,
    rows: list[EvidenceRow],
    default_by: str | None,
    sheet_dir: Path,
    home: Path,
    max_bytes: int,
    now: dt.datetime,
) -> Counter[str]:
    """Record every row, or raise ImportRejected with `FILE:ROW: message` for each bad one."""
    spec = loaded.spec
    cid = campaign_id(session, spec.key)
    version = session.execute(
        select(col(Campaign.current_version)).where(col(Campaign.id) == cid)
    ).scalar_one()
    assert version is not None  # a rolled-out campaign has a current version
    problems: list[str] = []
    documents: list[tuple[bytes, dict[str, Any]]] = []
    done: Counter[str] = Counter()
    if not rows:
        raise ImportRejected([f"{sheet_dir}: no filled-in rows to import"])
    for row in rows:
        try:
            try:
                dated = dt.date.fromisoformat(row.date)
            except ValueError:
                raise EvidenceError(f"date: expected YYYY-MM-DD, got {row.date!r}") from None
            who = row.by or default_by
            if not who:
                raise EvidenceError("no 录入人 (by) in the row and no --by")
            person = org.person_coded(who)
            rule, item = locate_item(
                session,
                campaign=cid,
                version=version,
                org=org,
                obligation_key=row.obligation,
                subject_code=row.subject,
                occurrence=row.occurrence,
                dated=dated,
            )
            files = [read_evidence_file(_file_inside(sheet_dir, f), max_bytes) for f in row.files]
            status = submit(
                session,
                org=org,
                item=item,
                obligation=rule,
                person=person,
                submission=Submission(
                    parse_counts(row.counts), row.note, [m for _, m in files], dated
                ),
                now=now,
                supervising=spec.supervising(rule),
            )
            session.expire_all()  # the next row reads what this one wrote
            documents += files
            done[status] += 1
        except CampaignError as exc:
            problems.append(f"{row.where}: {exc}")
    if problems:
        raise ImportRejected(problems)
    for data, meta in documents:
        store_bytes(home, data, meta["name"])
    return done
