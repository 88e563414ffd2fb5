"""Who is acting, when a command acts for a person. Pure: the caller passes the login the
process runs as and the organization's operators.

The command line runs as the operating-system user. The organization maps operators
(logins) to persons; `--by` names someone else only for an operator allowed to enter
records on others' behalf (the department's staff typing in a paper record), and what is
recorded says both: the person it is for, and who entered it. The web door signs people in
and then asks the same permission rules about the person; this module only says who that is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from models.errors import PermissionRefused


@dataclass(frozen=True)
class Operator:
    login: str
    person: str  # a person code of the organization
    proxy: bool = False  # may enter records for others


@dataclass(frozen=True)
class Acting:
    person: str  # whom the record is of: the permission rules judge this person
    entered_by: str | None = None  # the operator's login, when entering for someone else


def operators_of(rows: Iterable[Mapping[str, Any]]) -> dict[str, Operator]:
    return {
        str(r["login"]): Operator(str(r["login"]), str(r["person"]), bool(r.get("proxy")))
        for r in rows
    }


def acting_for(login: str, operators: Mapping[str, Operator], org: str, by: str | None) -> Acting:
    """The person a command acts for, run by `login`, with `--by` (or None)."""
    operator = operators.get(login)
    if operator is None:
        raise PermissionRefused(
            f"操作员 {login} 未在组织 {org} 中登记，不能代表任何人操作：在组织文件的 operators"
            f"（操作员表：登录名、人员编码、代录）中写上 login: {login} 与其人员编码，再导入"
        )
    if by is None or by == operator.person:
        return Acting(operator.person)
    if not operator.proxy:
        raise PermissionRefused(
            f"操作员 {login}（{operator.person}）不能代他人录入（--by {by}）：只有组织文件中"
            "标为代录（proxy: true）的操作员可以"
        )
    return Acting(by, entered_by=login)


def _proxy_only(login: str, operators: Mapping[str, Operator], refusal: str) -> None:
    """Only an operator allowed to enter records for others (proxy) may go on."""
    operator = operators.get(login)
    if operator is None or not operator.proxy:
        raise PermissionRefused(refusal)


def may_change_organization(login: str, operators: Mapping[str, Operator], org: str) -> None:
    """Units, people, roles and operators are changed by the department's staff: an
    operator allowed to enter for others. An organization with no operators yet is changed
    by whoever imports it (the import that names its first operators)."""
    if operators:
        _proxy_only(
            login,
            operators,
            f"操作员 {login} 不能修改组织 {org} 的单位、人员、角色和操作员：只有标为代录"
            "（proxy: true）的操作员可以",
        )


def may_print_sign_ins(login: str, operators: Mapping[str, Operator], org: str) -> None:
    """A printed sign-in link lets whoever holds it act as that person, like `--by`: only
    an operator allowed to enter for others may print one, or end people's sessions."""
    _proxy_only(
        login,
        operators,
        f"操作员 {login} 不能打印登录链接或结束他人的登录：只有组织 {org} 中标为代录"
        "（proxy: true）的操作员可以；邀请（campaign web invite）只发到本人的渠道",
    )


def may_invite(login: str, operators: Mapping[str, Operator], org: str) -> None:
    """Invitations go only to each person's own channel: any operator may send them."""
    if login not in operators:
        raise PermissionRefused(
            f"操作员 {login} 未在组织 {org} 中登记，不能发送邀请：在组织文件的操作员表中登记"
        )
