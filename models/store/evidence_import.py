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
from models.domain.counts import parse_count
from models.domain.date_rules import not_after_today, read_day
from models.domain.org_snapshot import OrgSnapshot
from models.domain.working_days import WorkCalendar, local_day
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
        if (count := parse_count(part, blank_allowed=True)) is not None:
            counts[count[0]] = count[1]
    return counts


def _file_inside(folder: Path, name: str) -> Path:
    """A file the sheet names, which must lie in the sheet's folder or below it, reached
    without a symbolic link (a link in a folder sent in could point at anything readable)."""
    given = folder / name
    path = given.resolve()
    if not path.is_relative_to(folder.resolve()):
        raise EvidenceError(f"文件 {name} 不在表格所在的文件夹中")
    step = given
    while step != folder and step != step.parent:
        if step.is_symlink():
            raise EvidenceError(f"文件 {name}：{step.name} 是符号链接，不予接收")
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
    calendar: WorkCalendar,
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
        raise ImportRejected([f"{sheet_dir}：没有填写的行可导入"])
    today = local_day(now, spec.timezone)
    for row in rows:
        try:
            dated = not_after_today(read_day(row.date, "日期"), today, "日期")
            who = row.by or default_by
            if not who:
                raise EvidenceError("这一行没有填录入人，命令也没有给 --by")
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
                calendar=calendar,
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
