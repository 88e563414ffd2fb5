"""`make demo`: the main job on the embedded default, from a fresh data folder.

Until rollouts exist it validates every shipped campaign, imports the shipped organization
and shows it, and prints each campaign's phases on the working-day calendar.
"""

from __future__ import annotations

from rich.console import Console

from config.campaign_files import calendar_for, read_campaign, shipped_campaigns
from config.org_file import read_org_file
from config.settings import Settings, get_settings
from flows import console as view
from models import db
from models.org_store import import_org, org_counts, org_tree


def run_demo(settings: Settings, out: Console) -> None:
    calendar = calendar_for(settings)
    out.rule("1. 校验活动方案")
    campaigns = [
        read_campaign(settings, str(path), calendar) for path in shipped_campaigns(settings)
    ]
    for campaign in campaigns:
        out.print(view.phase_table(campaign))
    out.rule("2. 导入组织机构")
    org_file = settings.orgs_dir / "weihai-etdz.yaml"
    with db.session_for(settings.resolved_database_url) as session:
        result = import_org(session, read_org_file(org_file))
        nodes = org_tree(session)
        counts = org_counts(session)
    out.print(
        f"{org_file.name}: 新增单位{result.units_new}个、更新{result.units_updated}个；"
        f"新增人员{result.people_new}人、更新{result.people_updated}人"
    )
    out.print(view.org_tree(nodes, depth=2))
    out.print(view.org_counts_line(counts))
    out.rule("完成")
    out.print(f"数据目录：{settings.home.resolve()}；数据库：{settings.resolved_database_url}")


if __name__ == "__main__":
    run_demo(get_settings(), view.make_console())
