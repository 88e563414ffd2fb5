"""A moved deadline moves its pending reminders; sent ones stay as they were."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from config.org_file import read_org_file
from models.store import db
from models.store.tables import ChecklistItem, Reminder, Unit
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


def test_a_post_vacant_at_rollout_gets_its_reminders_when_it_is_filled(db_url: str) -> None:
    # 东村's secretary left before the weekly meetings were rolled out: its items had nobody
    # to remind, and the first sweeps found two weeks overdue with only the town told. The
    # roster that names the new secretary plans what was missed, and no rule twice.
    from dataclasses import replace

    from config.campaign_files import calendar_for, read_campaign
    from config.settings import get_settings
    from models.store.orgs import import_org, load_snapshot
    from models.store.reminders import mark_overdue
    from models.store.rollout import campaign_id
    from models.store.tables import Person
    from tasks.context import task_context
    from tasks.org_tasks import readdress_reminders
    from tests.db.rollout_helpers import import_shipped_org

    key, village = "village-meetings-2013", "gushan-dongcun"
    org = read_org_file(get_settings().orgs_dir / "weihai-etdz.yaml")
    old = next(p for p in org.people if p.code == f"p-{village}-sec")
    vacant = replace(org, people=[replace(old, roles=("party-member",))], units=[], pairings=[])
    import_shipped_org(db_url)
    with db.session_for(db_url) as session:
        import_org(session, vacant, "weihai-etdz")
    rollout(db_url, key, D(2013, 1, 4))
    settings = get_settings()
    with db.session_for(db_url) as session:
        found = mark_overdue(
            session,
            spec=read_campaign(settings, key).spec,
            campaign=campaign_id(session, key),
            org=load_snapshot(session, "weihai-etdz"),
            calendar=calendar_for(settings),
            today=D(2013, 1, 21),
        )
        notes = readdress_reminders(task_context(), session, "weihai-etdz").unreached
    assert found
    assert any(n.startswith(f"{key}：有 ") and "东村没有担任" in n for n in notes), notes

    def village_reminders() -> list[tuple[str, str, str]]:
        with db.session_for(db_url) as session:
            rows = session.execute(
                select(col(ChecklistItem.occurrence), col(Reminder.rule), col(Person.code))
                .join(Reminder, col(Reminder.item_id) == col(ChecklistItem.id))
                .join(Person, col(Person.id) == col(Reminder.recipient_id))
                .join(Unit, col(Unit.id) == col(ChecklistItem.unit_id))
                .where(
                    col(Unit.code) == village,
                    col(ChecklistItem.obligation_key) == "weekly-committee",
                    col(ChecklistItem.occurrence).in_(("2013-W02", "2013-W05")),
                )
            ).all()
        return sorted(tuple(r) for r in rows)

    town = [("2013-W02", "district", "p-org-head-1"), ("2013-W02", "escalate", "p-gushan-oc")]
    assert village_reminders() == town  # the town was told, nobody in the village
    new = replace(old, code=f"p-{village}-sec2", name="新书记")
    with db.session_for(db_url) as session:
        import_org(session, replace(org, people=[new], units=[], pairings=[]), "weihai-etdz")
        done = readdress_reminders(task_context(), session, "weihai-etdz")
    notes = done.unreached
    sec2 = f"p-{village}-sec2"
    assert village_reminders() == sorted(
        [
            *town,  # not planned again
            ("2013-W02", "overdue-1", sec2),  # the campaign repeats once
            ("2013-W05", "before", sec2),
            ("2013-W05", "due", sec2),
        ]
    )
    assert done.planned > 0 and done.moved == 0
    assert not any("东村" in n for n in notes), notes
    with db.session_for(db_url) as session:  # nothing more to plan
        assert readdress_reminders(task_context(), session, "weihai-etdz").planned == 0
