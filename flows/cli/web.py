"""`campaign web`: serve the web door, and hand out its sign-in links."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from config.settings import os_login
from flows.cli.app import RECORD, app, context, err, say, settings
from flows.cli.params import OrgOption, PersonArg
from models.domain.digest import invitation
from models.domain.door import is_group_channel, sign_in_url
from models.domain.operators import may_invite, may_print_sign_ins, operators_of
from models.errors import CampaignError
from models.store import audit, db
from models.store import door as store
from models.store.instant import today_in, utc_now
from models.store.orgs import load_snapshot, org_for, person_in

web_app = typer.Typer(
    help="给活动涉及的人员使用的网页：`campaign web` 启动服务；link、invite、sessions "
    "发放和结束登录。",
)
app.add_typer(web_app, name="web", rich_help_panel=RECORD)


@web_app.callback(invoke_without_command=True)
def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="工作进程数")] = 1,
) -> None:
    """Serve the web door (CAMPAIGN_WEB_URL is the address people open)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    # migrated here, before the workers start; each worker then only checks the revision
    config = settings()
    db.ensure_schema(db.get_engine(config.resolved_database_url))
    served = f"http://{host}:{port}"
    say(f"网页服务在 {served}（大家打开的地址：{config.door_url}）")
    if config.web_url is None and config.door_url != served:
        # the links `web link` and `web invite` hand out lead to door_url: say it before
        # someone opens one that leads nowhere
        say(
            f"注意：没有设置 CAMPAIGN_WEB_URL，登录链接指向 {config.door_url}，"
            f"而不是本服务 {served}；请把 CAMPAIGN_WEB_URL 设为大家实际打开的地址"
        )
    uvicorn.run(
        "flows.web.server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="warning",
    )


def _org_and_operators(
    session, org: str | None, *, person: str | None = None, unit: str | None = None
):
    """The organization (`org_for`) and who may enter for others in it."""
    found = org_for(session, org, person=person, unit=unit)
    return found.key, operators_of(found.operators or [])


def _link(session, person_id: int, purpose: str) -> tuple[str, str]:
    """A new one-time link: (its token, the sign-in address that carries it)."""
    config = settings()
    token = store.create_link(
        session,
        person_id=person_id,
        purpose=purpose,
        now=utc_now(),
        lifetime=dt.timedelta(days=config.web_link_days),
    )
    return token, sign_in_url(config.door_url, token)


def _operator_event(session, action: str, person: str, payload: dict, org: str) -> None:
    """An operator's act on a person, who is named by code and organization (codes may
    repeat between organizations)."""
    audit.append(
        session,
        actor=f"os:{os_login()}",
        action=action,
        entity="person",
        entity_key=person,
        payload={**payload, "org": org},
        now=utc_now(),
    )


@web_app.command("link")
def link(person: PersonArg, org: OrgOption = None) -> None:
    """输出某人的一次性登录链接（仅限可代录的操作员：持有链接者即以此人身份办事）。"""
    with context().session() as session:
        key, operators = _org_and_operators(session, org, person=person)
        may_print_sign_ins(os_login(), operators, key)
        person_id = person_in(session, org_key=key, code=person).id
        assert person_id is not None  # a stored row
        _, url = _link(session, person_id, "printed")
        _operator_event(session, "web.link-printed", person, {}, key)
    typer.echo(url)


@web_app.command("invite")
def invite(
    person: Annotated[str | None, typer.Argument(metavar="人员", help="人员编码")] = None,
    unit: Annotated[str | None, typer.Option(help="此单位及其下级的所有人")] = None,
    org: OrgOption = None,
) -> None:
    """把一次性登录链接发到每人自己的渠道（从不发到全群可见的群机器人）。"""
    # Each invitation stands alone: its link is written before the message leaves and voided
    # if no channel takes it, and no transaction is held open while a message travels (the
    # door's sign-ins would wait on it).
    from tasks.channels import deliver_in_time

    if (person is None) == (unit is None):
        raise CampaignError("请给出一个人员编码，或 --unit 单位编码（二者取一）")
    run = context()
    with run.read_session() as session:
        key, operators = _org_and_operators(session, org, person=person, unit=unit)
        may_invite(os_login(), operators, key)
        snapshot = load_snapshot(session, key)
        if person is not None:
            ids = [snapshot.person_coded(person).id]
        else:
            snapshot.unit_coded(unit or "")  # NotFound when the organization has none
            ids = store.persons_of_unit(session, org_key=key, unit_code=unit or "")
    today = today_in(run.settings.timezone)
    invitees = [
        (someone, [c for c in someone.channels if not is_group_channel(c)])
        for someone in (snapshot.persons[i] for i in ids)
    ]
    skipped = [someone.code for someone, own in invitees if not own]
    sent, failed = 0, []
    with Progress(
        TextColumn("邀请"), BarColumn(), MofNCompleteColumn(), console=err, transient=True
    ) as bar:
        for someone, own in bar.track([i for i in invitees if i[1]]):
            with run.session() as session:
                token, url = _link(session, someone.id, "invite")
            message = invitation(someone.name, today, url, run.settings.web_link_days)
            deadline = run.settings.delivery_seconds
            delivered = [deliver_in_time(channel, message, deadline) for channel in own]
            with run.session() as session:
                if any(d.ok for d in delivered):
                    event = {"channels": sum(d.ok for d in delivered)}
                    _operator_event(session, "web.invited", someone.code, event, key)
                    sent += 1
                else:
                    store.void_link(session, token=token, now=utc_now())
                    errors = "; ".join(d.error or "" for d in delivered)
                    failed.append(f"{someone.code}（{errors}）")
    say(f"已发送邀请 {sent} 人")
    if skipped:
        say(
            f"{len(skipped)} 人没有本人的渠道（只有群机器人或没有），未发送："
            f"{_first(skipped, '、')}；"
            "可由代录操作员用 campaign web link 打印链接后当面交给本人"
        )
    if failed:
        say(f"{len(failed)} 人的邀请未能送达，其链接已作废：{_first(failed, '；')}")
        raise typer.Exit(1)


def _first(names: list[str], between: str, shown: int = 20) -> str:
    return between.join(names[:shown]) + (" 等" if len(names) > shown else "")


@web_app.command("sessions")
def sessions(
    org: OrgOption = None,
    revoke: Annotated[str | None, typer.Option(help="结束此人的所有会话和未用的链接")] = None,
) -> None:
    """列出已登录的会话，或结束某人的会话。"""
    now = utc_now()
    with context().session() as session:
        key, operators = _org_and_operators(session, org, person=revoke)
        if revoke is not None:
            may_print_sign_ins(os_login(), operators, key)
            person_id = person_in(session, org_key=key, code=revoke).id
            assert person_id is not None  # a stored row
            ended = store.revoke_sessions(session, person_ids=[person_id], now=now)
            _operator_event(session, "web.sessions-revoked", revoke, {"sessions": ended}, key)
            say(f"{revoke}：已结束 {ended} 个登录")
            return
        live = store.live_sessions(session, org_key=key, now=now)
    for row in live:
        say(
            f"{row.person_code} {row.person_name} 登录于 {row.created_at:%Y-%m-%d %H:%M} UTC，"
            f"到期 {row.expires_at:%Y-%m-%d %H:%M} UTC"
        )
    say(f"共 {len(live)} 个有效登录")
