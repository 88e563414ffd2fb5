"""A moved deadline moves its pending reminders; sent ones stay as they were."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from config.org_file import read_org_file
from models.store import db
from models.store.tables import ChecklistItem, Reminder
from tests.db.rollout_helpers import rolled_out, rollout

D = dt.date


def reminders_of(url: str, obligation: str) -> list[tuple[str, dt.date, str]]:
    with db.session_for(url) as session:
        rows = session.execute(
            select(col(Reminder.rule), col(Reminder.send_on), col(Reminder.status))
            .join(ChecklistItem, col(ChecklistItem.id) == col(Reminder.item_id))
            .where(col(ChecklistItem.obligation_key) == obligation)
        ).all()
    return sorted(tuple(r) for r in rows)


def test_a_moved_deadline_moves_its_pending_reminders(
    db_url: str, campaigns_elsewhere: Path
) -> None:
    folder = campaigns_elsewhere
    rolled_out(db_url, "mass-line-2013", D(2013, 9, 3))
    assert reminders_of(db_url, "study-materials") == [
        ("before", D(2013, 9, 5), "pending"),
        ("due", D(2013, 9, 10), "pending"),
    ]
    path = folder / "mass-line-2013.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "due: 5 working days after start", "due: 8 working days after start"
        ),
        encoding="utf-8",
    )
    rollout(db_url, "mass-line-2013", D(2013, 9, 3))
    # due Sept 13 now: three working days before is the 10th
    assert reminders_of(db_url, "study-materials") == [
        ("before", D(2013, 9, 5), "cancelled"),
        ("before", D(2013, 9, 10), "pending"),
        ("due", D(2013, 9, 10), "cancelled"),
        ("due", D(2013, 9, 13), "pending"),
    ]


def test_a_new_secretary_gets_the_reminders_not_yet_sent(db_url: str) -> None:
    # 东村's secretary hands over mid-year: the department's roster takes the role from the
    # one who left and gives it to the new one; what is still to be sent goes to the new one
    from dataclasses import replace

    from config.campaign_files import read_campaign
    from config.settings import get_settings
    from models.store.orgs import import_org, load_snapshot
    from models.store.reminders import readdress_pending
    from models.store.rollout import campaign_id
    from models.store.tables import Person

    key, village = "village-meetings-2013", "gushan-dongcun"
    rolled_out(db_url, key, D(2013, 1, 4))
    org = read_org_file(get_settings().orgs_dir / "weihai-etdz.yaml")
    old = next(p for p in org.people if p.code == f"p-{village}-sec")
    new = replace(old, code=f"p-{village}-sec2", name="新书记")
    handover = replace(org, people=[replace(old, roles=()), new], units=[], pairings=[])

    def pending_to() -> dict[str, int]:
        with db.session_for(db_url) as session:
            return dict(
                Counter(
                    session.execute(
                        select(col(Person.code))
                        .join(Reminder, col(Reminder.recipient_id) == col(Person.id))
                        .where(
                            col(Reminder.status) == "pending",
                            col(Person.code).like(f"p-{village}%"),
                        )
                    ).scalars()
                )
            )

    before = pending_to()
    assert before.get(old.code, 0) > 0 and new.code not in before
    with db.session_for(db_url) as session:
        import_org(session, handover, "weihai-etdz")
        session.flush()
        done = readdress_pending(
            session,
            spec=read_campaign(get_settings(), key).spec,
            campaign=campaign_id(session, key),
            org=load_snapshot(session, "weihai-etdz"),
        )
    assert done.moved == before[old.code] and done.cancelled == 0
    assert pending_to() == {new.code: before[old.code]}
