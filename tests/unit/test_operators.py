"""Who a command acts for: the login's person; --by only for a 代录 operator."""

from __future__ import annotations

import os
import pwd

import pytest

from config.settings import os_login
from models.domain.operators import (
    Acting,
    acting_for,
    may_change_organization,
    operators_of,
)
from models.errors import PermissionRefused

OPS = operators_of(
    [
        {"login": "wangli", "person": "p-org-01", "proxy": True},
        {"login": "zhaoyu", "person": "p-qiaotou-oc", "proxy": False},
    ]
)


def test_an_operator_acts_as_their_person_and_a_proxy_for_others() -> None:
    assert acting_for("zhaoyu", OPS, "weihai-etdz", None) == Acting("p-qiaotou-oc")
    assert acting_for("zhaoyu", OPS, "weihai-etdz", "p-qiaotou-oc") == Acting("p-qiaotou-oc")
    assert acting_for("wangli", OPS, "weihai-etdz", "p-qiaotou-oc") == Acting(
        "p-qiaotou-oc", entered_by="wangli"
    )


def test_a_stranger_and_a_non_proxy_naming_someone_else_are_refused() -> None:
    with pytest.raises(PermissionRefused, match="操作员 nobody 未在组织 weihai-etdz 中登记"):
        acting_for("nobody", OPS, "weihai-etdz", "p-org-01")
    with pytest.raises(PermissionRefused, match="不能代他人录入"):
        acting_for("zhaoyu", OPS, "weihai-etdz", "p-org-01")


def test_only_a_proxy_changes_an_organization_once_it_has_operators() -> None:
    may_change_organization("anyone", {}, "new-org")  # the first import names them
    may_change_organization("wangli", OPS, "weihai-etdz")
    for login in ("zhaoyu", "nobody"):
        with pytest.raises(PermissionRefused, match="不能修改组织 weihai-etdz"):
            may_change_organization(login, OPS, "weihai-etdz")


def test_the_login_is_the_process_account_not_what_the_environment_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = pwd.getpwuid(os.geteuid()).pw_name
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "department-staff")
    assert os_login() == real != "department-staff"
