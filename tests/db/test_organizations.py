"""Two organizations in one database: imports, rollouts, reminders and permissions of one
never reach the other, though they share unit, person and role codes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from config.campaign_files import read_campaign
from config.org_file import read_org_file
from config.settings import get_settings
from models.domain.permissions import may_submit
from models.errors import ImportRejected, NotFound, SpecError
from models.store import db
from models.store.orgs import (
    find_person,
    import_org,
    load_snapshot,
    org_counts,
    org_for,
    org_id_of,
    organizations,
    orgs_with_code,
    the_org,
)
from models.store.tables import ChecklistItem, Organization, Person, Reminder, Unit
from tests.db.rollout_helpers import import_shipped_org, rollout

# A second district whose codes collide with weihai-etdz's on purpose: the same district
# code, the same role codes, a town called qiaotou.
SECOND = """\
key: second
name: 第二区
responsible_roles: [secretary]
district_roles: [org-dept-head]
roles: {secretary: 书记, org-dept-head: 组织部领导, org-committee: 组织委员}
units:
  - {code: etdz, name: 第二区, kind: district}
  - {code: qiaotou, name: 第二区桥头镇, kind: town, parent: etdz}
  - {code: s-v1, name: 一村, kind: village, parent: qiaotou}
  - {code: s-v2, name: 二村, kind: village, parent: qiaotou}
people:
  - {code: p-head, name: 二区部长, unit: etdz, roles: [org-dept-head]}
  - {code: p-oc, name: 二区组织委员, unit: qiaotou, roles: [org-committee]}
  - {code: s-v1-sec, name: 一村书记, unit: s-v1, roles: [secretary]}
  - {code: s-v2-sec, name: 二村书记, unit: s-v2, roles: [secretary]}
"""

CAMPAIGN = """\
key: second-study-2025
name: 第二区学习
organization: second
phases:
  - key: study
    name: 学习
    start: 2025-04-01
    end: 2025-04-30
    obligations:
      - key: session
        title: 开一次学习会
        subject: {units: {kinds: [village]}}
        due: 2025-04-10
"""


@pytest.fixture
def two_orgs(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import_shipped_org(db_url)
    path = tmp_path / "second.yaml"
    path.write_text(SECOND, encoding="utf-8")
    with db.session_for(db_url) as session:
        import_org(session, read_org_file(path))
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / "second-study-2025.yaml").write_text(CAMPAIGN, encoding="utf-8")
    monkeypatch.setenv("CAMPAIGN_CAMPAIGNS_DIR", str(campaigns))
    get_settings.cache_clear()
    return campaigns


def test_imports_stay_apart_though_codes_collide(db_url: str, two_orgs: Path) -> None:
    with db.session_for(db_url) as session:
        assert [o.key for o in organizations(session)] == ["second", "weihai-etdz"]
        second = org_counts(session, org_id_of(session, "second"))
        weihai = org_counts(session, org_id_of(session, "weihai-etdz"))
        assert second.units == {"district": 1, "town": 1, "village": 2}
        assert (second.people, second.roles) == (4, 3)
        assert weihai.units["village"] == 100 and weihai.roles == 13
        # two units coded etdz, one in each
        assert session.execute(
            select(func.count()).where(col(Unit.code) == "etdz")
        ).scalar_one() == 2  # fmt: skip
        org = session.execute(
            select(Organization).where(col(Organization.key) == "second")
        ).scalar_one()
        assert (org.responsible_roles, org.district_roles) == (["secretary"], ["org-dept-head"])
        # which organization a code names, for the commands that take a person or a unit
        assert orgs_with_code(session, unit="qiaotou") == ["second", "weihai-etdz"]
        assert orgs_with_code(session, person="s-v1-sec") == ["second"]
        assert orgs_with_code(session, person="p-qiaotou-v01-sec") == ["weihai-etdz"]
        assert orgs_with_code(session, person="nobody") == []
        with pytest.raises(NotFound, match=r"^已导入多个组织（second、weihai-etdz），请用 --org"):
            the_org(session, None)
        # a command given a code finds the organization from it; a shared code needs --org
        assert org_for(session, None, person="s-v1-sec").key == "second"
        assert find_person(session, "p-qiaotou-v01-sec", None).org_id == org_id_of(
            session, "weihai-etdz"
        )
        with pytest.raises(NotFound, match=r"^单位 qiaotou 在多个组织中（second、weihai-etdz）"):
            org_for(session, None, unit="qiaotou")
        assert org_for(session, "second", unit="qiaotou").key == "second"
        with pytest.raises(
            NotFound, match=r"^没有人员 nobody（已导入的组织：second、weihai-etdz）$"
        ):
            find_person(session, "nobody", None)
        with pytest.raises(NotFound, match=r"^组织 second 中没有人员 p-qiaotou-v01-sec$"):
            find_person(session, "p-qiaotou-v01-sec", "second")
        with pytest.raises(NotFound, match=r"^组织 third 尚未导入（已导入：second、weihai-etdz）"):
            find_person(session, "s-v1-sec", "third")
        snapshot = load_snapshot(session, "second")
        assert (
            snapshot.person_coded("s-v1-sec").name and snapshot.unit_coded("qiaotou").kind == "town"
        )
        with pytest.raises(NotFound, match=r"^组织 second 中没有单位 etdz-v1$"):
            snapshot.unit_coded("etdz-v1")
        # a name typed where the code goes (a clerk's 录入人): whose it is, never a guess
        name = snapshot.person_coded("s-v1-sec").name
        with pytest.raises(
            NotFound, match=rf"^组织 second 中没有人员编码 {name}；姓名为{name}的是 s-v1-sec"
        ):
            snapshot.person_coded(name)


def test_no_organization_yet_says_to_import_one(db_url: str) -> None:
    with db.session_for(db_url) as session, pytest.raises(NotFound) as refused:
        the_org(session, None)
    assert str(refused.value) == "还没有导入组织：先运行 campaign orgs import 组织文件"


def test_a_rollout_and_its_reminders_stay_in_their_organization(
    db_url: str, two_orgs: Path
) -> None:
    assert rollout(db_url, "second-study-2025", dt.date(2025, 4, 1)) == 2  # its two villages
    with db.session_for(db_url) as session:
        second = org_id_of(session, "second")
        units = set(
            session.execute(select(col(Unit.id)).where(col(Unit.org_id) == second)).scalars()
        )
        people = set(
            session.execute(select(col(Person.id)).where(col(Person.org_id) == second)).scalars()
        )
        items = session.execute(select(col(ChecklistItem.unit_id))).scalars().all()
        recipients = set(session.execute(select(col(Reminder.recipient_id))).scalars())
    assert len(items) == 2 and set(items) <= units
    assert recipients and recipients <= people


def test_permissions_are_judged_within_the_campaigns_organization(
    db_url: str, two_orgs: Path
) -> None:
    rollout(db_url, "second-study-2025", dt.date(2025, 4, 1))
    with db.session_for(db_url) as session:
        second = load_snapshot(session, "second")
        weihai = load_snapshot(session, "weihai-etdz")
        item = session.execute(select(ChecklistItem)).scalars().first()
    assert item is not None
    # the second district's own secretary of that village may report it ...
    secretary = next(p for p in second.persons.values() if p.unit_id == item.unit_id)
    assert may_submit(second, secretary, item)
    # ... nobody of weihai-etdz is in the snapshot the campaign is judged with
    assert not set(weihai.persons) & set(second.persons)
    assert item.unit_id not in weihai.units


def test_a_campaign_of_an_organization_not_imported_is_refused(db_url: str, tmp_path: Path) -> None:
    import_shipped_org(db_url)
    path = tmp_path / "c.yaml"
    path.write_text(CAMPAIGN, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        read_campaign(get_settings(), str(path))
    assert "没有组织 second：数据库中没有导入" in caught.value.problems[0]
    with db.session_for(db_url) as session, pytest.raises(NotFound):
        load_snapshot(session, "second")


def test_sheets_without_a_key_need_one_when_several_organizations_exist(
    db_url: str, two_orgs: Path, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("编码,姓名,单位,角色\nnew-1,新人,s-v1,secretary\n", encoding="utf-8")
    with db.session_for(db_url) as session, pytest.raises(ImportRejected) as caught:
        import_org(session, read_org_file(people))
    assert any("这是哪个组织的？请用 --org 组织编码 指明" in p for p in caught.value.problems)
    with db.session_for(db_url) as session:
        result = import_org(session, read_org_file(people), "second")
    assert (result.org, result.people_new) == ("second", 1)
    with db.session_for(db_url) as session:
        again = import_org(session, read_org_file(people), "second")
    assert not again.changed
