"""Finding and reading the shipped and user campaign files, with the context they need."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from config.holiday_tables import load_calendar
from config.org_file import NamedRow, UnitRow, read_yaml
from config.settings import Settings
from config.spec import format_loc, parse_campaign
from config.yaml_lines import YamlLoadError, load_yaml_text, read_text_file
from models.domain.campaign import LoadedCampaign, OrgVocabulary
from models.domain.working_days import WorkCalendar
from models.errors import CampaignError, NotFound, SpecError

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.store.catalog import StoredCampaign


def shipped_campaigns(settings: Settings) -> list[Path]:
    return sorted(settings.campaigns_dir.glob("*.yaml"))


@lru_cache(maxsize=32)
def _vocabulary(path: Path, mtime: float) -> OrgVocabulary | str:
    try:
        data = read_yaml(path)
    except CampaignError as exc:
        return f"组织文件 {path} 未通过检查：{str(exc).splitlines()[0]}"
    return OrgVocabulary(
        key=data.key or path.stem,
        roles=frozenset(r.code for r in data.roles),
        pairing_kinds=frozenset(k.code for k in data.pairing_kinds),
        responsible_roles=tuple(data.responsible_roles or ()),
        district_roles=tuple(data.district_roles or ()),
    )


def database_exists(settings: Settings) -> bool:
    """Whether there is a database to read (a SQLite file is not made just to look)."""
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).exists()
    return True


def org_vocabulary(
    settings: Settings, key: str, session: Session | None = None
) -> OrgVocabulary | str:
    """The roles and pairing kinds of the organization as imported into the database (as
    `session` sees it, when given), else of config/orgs/<key>.yaml (CAMPAIGN_ORGS_DIR), or
    why there are none."""
    if session is not None:
        from models.store.catalog import stored_vocabulary

        found = stored_vocabulary(session, key)
        if found is not None:
            return found
    elif database_exists(settings):
        from models.store import db
        from models.store.catalog import stored_vocabulary

        with db.read_session_for(settings.resolved_database_url) as reading:
            found = stored_vocabulary(reading, key)
        if found is not None:
            return found
    return _vocabulary_in(settings.orgs_dir, key)


def _vocabulary_in(orgs_dir: Path, key: str) -> OrgVocabulary | str:
    path = orgs_dir / f"{key}.yaml"
    if not path.exists():
        known = "、".join(sorted(p.stem for p in orgs_dir.glob("*.yaml"))) or "无"
        return (
            f"没有组织 {key}：数据库中没有导入，也没有 {path}（那里的文件：{known}；"
            f"导入它：campaign orgs import 组织文件 --org {key}）"
        )
    return _vocabulary(path, path.stat().st_mtime)


def org_names(settings: Settings, key: str) -> dict[str, str]:
    """The Chinese names of an organization's roles, pairing kinds and units, by code: as
    imported, else from its shipped file (empty if neither can be read)."""
    if database_exists(settings):
        from models.store import db
        from models.store.catalog import stored_org_names

        with db.read_session_for(settings.resolved_database_url) as session:
            names = stored_org_names(session, key)
        if names:
            return names
    path = settings.orgs_dir / f"{key}.yaml"
    try:
        data = read_yaml(path)
    except CampaignError:
        return {}
    rows: list[NamedRow | UnitRow] = [*data.roles, *data.pairing_kinds, *data.units]
    return {r.code: r.name for r in rows}


def org_role_names(settings: Settings, key: str) -> dict[str, str]:
    """An organization's roles, code to Chinese name ('' where it has none); empty when the
    organization can be read from neither the database nor its file."""
    vocabulary = org_vocabulary(settings, key)
    if not isinstance(vocabulary, OrgVocabulary):
        return {}
    names = org_names(settings, key)
    return {role: names.get(role, "") for role in sorted(vocabulary.roles)}


def shipped_org_files(settings: Settings, key: str) -> list[Path]:
    """An organization as shipped: config/orgs/<key>.yaml, then the .csv and .xlsx files of
    the folder beside it (people and pairings kept as spreadsheets), in name order."""
    folder = settings.orgs_dir / key
    extra = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".csv", ".xlsx"))
    return [settings.orgs_dir / f"{key}.yaml", *extra]


def _stamp(folder: Path, pattern: str) -> tuple[tuple[str, int, int], ...]:
    """What changes when any file of the folder does: names, sizes, modification times."""
    if not folder.is_dir():
        return ()
    return tuple(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob(pattern))
    )


@lru_cache(maxsize=8)
def _calendar(folder: Path, stamp: tuple[tuple[str, int, int], ...]) -> WorkCalendar:
    return load_calendar(folder)


def calendar_for(settings: Settings) -> WorkCalendar:
    """The working-day calendar; the same object while the holiday tables are unchanged, so
    its day caches last."""
    folder = settings.holiday_tables.resolve()
    return _calendar(folder, _stamp(folder, "*.yaml"))


_ORGANIZATION = re.compile(r"^organization:\s*['\"]?([A-Za-z0-9][A-Za-z0-9._-]*)", re.M)


@lru_cache(maxsize=64)
def _parse(
    text: str, path: Path, calendar: WorkCalendar, vocabulary: OrgVocabulary | str
) -> LoadedCampaign:
    try:
        loaded = load_yaml_text(text, path)
    except YamlLoadError as exc:
        raise SpecError([f"{path}:{exc.line}: {format_loc(())}: {exc}"]) from None
    return parse_campaign(loaded, calendar=calendar, org_lookup=lambda _: vocabulary, text=text)


def parse_text(
    settings: Settings,
    text: str,
    path: Path,
    calendar: WorkCalendar,
    session: Session | None = None,
) -> LoadedCampaign:
    """A campaign's text, validated against its organization (as `session` sees it, when
    given). Parsed once while the text, the calendar and the organization are unchanged: a
    rehearsal reads it thousands of times."""
    named = _ORGANIZATION.search(text)
    if named is None:  # no organization line the quick look can read: the loader says why
        try:
            loaded = load_yaml_text(text, path)
        except YamlLoadError as exc:
            raise SpecError([f"{path}:{exc.line}: {format_loc(())}: {exc}"]) from None
        return parse_campaign(
            loaded,
            calendar=calendar,
            org_lookup=lambda key: org_vocabulary(settings, key, session),
            text=text,
        )
    return _parse(text, path, calendar, org_vocabulary(settings, named.group(1), session))


def parse_stored(
    settings: Settings,
    stored: StoredCampaign,
    calendar: WorkCalendar,
    session: Session | None = None,
) -> LoadedCampaign:
    """A campaign version as its rollout stored it. What it says is wrong is placed in that
    version, not in the file it came from: the file may have changed since, or be gone."""
    where = Path(f"{stored.source_path}（已推行的第 {stored.version} 版）")
    return parse_text(settings, stored.text, where, calendar, session)


def read_stored_in(
    settings: Settings, session: Session, key: str, calendar: WorkCalendar
) -> LoadedCampaign:
    """The campaign the database holds, read in `session` against the organization as that
    session sees it: an import's own transaction sees the roles it has just written, which
    another session would see only after it commits."""
    from models.store.catalog import stored_campaign

    stored = stored_campaign(session, key)
    if stored is None:
        raise NotFound(f"没有活动 {key}（{_known_keys(settings)}）")
    return parse_stored(settings, stored, calendar, session)


def _is_file(file_or_key: str) -> bool:
    path = Path(file_or_key)
    return path.suffix in (".yaml", ".yml") or "/" in file_or_key or path.exists()


def read_campaign(
    settings: Settings,
    file_or_key: str,
    calendar: WorkCalendar | None = None,
    *,
    prefer_file: bool = False,
) -> LoadedCampaign:
    """A campaign, validated: a path is read from its file, anywhere; a key is the version
    the database holds (what was rolled out; the file is never needed again), else
    config/campaigns/<key>.yaml (CAMPAIGN_CAMPAIGNS_DIR). `prefer_file`: a key reads its
    file when there is one (a rollout reloading it)."""
    calendar = calendar or calendar_for(settings)
    if _is_file(file_or_key):
        path = Path(file_or_key).resolve()
        try:
            text = read_text_file(path)
        except YamlLoadError as exc:
            raise SpecError([f"{path}:{exc.line}: {format_loc(())}: {exc}"]) from None
        return parse_text(settings, text, path, calendar)
    stored = _stored(settings, file_or_key)
    shipped = settings.campaigns_dir / f"{file_or_key}.yaml"
    if stored is not None and not prefer_file:
        return parse_stored(settings, stored, calendar)
    if prefer_file:
        source = Path(stored.source_path) if stored is not None else None
        for candidate in (shipped, source):  # the campaigns folder, then where it came from
            if candidate is not None and candidate.is_file():
                return read_campaign(settings, str(candidate), calendar)
    if stored is not None:
        return parse_stored(settings, stored, calendar)
    if shipped.is_file():
        return read_campaign(settings, str(shipped), calendar)
    raise NotFound(f"没有活动 {file_or_key}（{_known_keys(settings)}）")


def _stored(settings: Settings, key: str) -> StoredCampaign | None:
    if not database_exists(settings):
        return None
    from models.store import db
    from models.store.catalog import stored_campaign

    with db.read_session_for(settings.resolved_database_url) as session:
        return stored_campaign(session, key)


def read_stored_version(settings: Settings, key: str, version: int) -> LoadedCampaign:
    """Version `version` of a campaign exactly as its rollout stored it (a batch on a worker
    plans what the rollout stored, whatever file that machine has)."""
    from models.store import db
    from models.store.catalog import stored_campaign

    with db.read_session_for(settings.resolved_database_url) as session:
        stored = stored_campaign(session, key, version)
    if stored is None:
        raise NotFound(f"活动 {key} 没有第 {version} 版")
    return parse_stored(settings, stored, calendar_for(settings))


def rolled_out_keys(settings: Settings) -> list[str]:
    """The keys of the campaigns rolled out in the database (none where there is none yet)."""
    if not database_exists(settings):
        return []
    from models.store import db
    from models.store.catalog import stored_campaign_keys

    with db.read_session_for(settings.resolved_database_url) as session:
        return stored_campaign_keys(session)


def _known_keys(settings: Settings) -> str:
    rolled = rolled_out_keys(settings)
    files = [p.stem for p in shipped_campaigns(settings)]
    return (
        f"已下发：{'、'.join(rolled) or _nothing_here(settings)}；{settings.campaigns_dir} 中的"
        f"文件：{'、'.join(files) or '无'}；也可给出活动文件的路径"
    )


def _nothing_here(settings: Settings) -> str:
    """Nothing rolled out in the database read: most often a command run from another
    folder than the usual one (the default data folder is ./.campaign), so say which."""
    if settings.database_url:
        from sqlalchemy.engine import make_url

        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        return f"无（查的是数据库 {shown}，见 CAMPAIGN_DATABASE_URL）"
    return (
        f"无（查的是数据文件夹 {settings.home.resolve()}；在别处下发过的，"
        "请在那里运行，或把 CAMPAIGN_HOME 设为那里的数据文件夹）"
    )
