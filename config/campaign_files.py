"""Finding and reading the shipped and user campaign files, with the context they need."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from config.holiday_tables import load_calendar
from config.org_file import read_yaml
from config.settings import Settings
from config.spec import LoadedCampaign, OrgVocabulary, load_campaign
from models.errors import CampaignError, NotFound
from models.working_days import WorkCalendar


def campaign_path(settings: Settings, file_or_key: str) -> Path:
    """A path as given, or config/campaigns/<key>.yaml for a bare key."""
    path = Path(file_or_key)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    candidate = settings.campaigns_dir / f"{file_or_key}.yaml"
    if not candidate.exists():
        known = ", ".join(p.stem for p in shipped_campaigns(settings)) or "none"
        raise NotFound(f"no campaign file {file_or_key!r} (known keys: {known})")
    return candidate


def shipped_campaigns(settings: Settings) -> list[Path]:
    return sorted(settings.campaigns_dir.glob("*.yaml"))


@lru_cache(maxsize=32)
def _vocabulary(path: Path, mtime: float) -> OrgVocabulary | str:
    try:
        data = read_yaml(path)
    except CampaignError as exc:
        return f"organization file {path} is not valid: {str(exc).splitlines()[0]}"
    return OrgVocabulary(
        key=data.key or path.stem,
        roles=frozenset(r.code for r in data.roles),
        pairing_kinds=frozenset(k.code for k in data.pairing_kinds),
    )


def org_vocabulary(settings: Settings, key: str) -> OrgVocabulary | str:
    """The roles and pairing kinds of config/orgs/<key>.yaml, or why there are none."""
    return _vocabulary_in(settings.orgs_dir, key)


def _vocabulary_in(orgs_dir: Path, key: str) -> OrgVocabulary | str:
    path = orgs_dir / f"{key}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in orgs_dir.glob("*.yaml"))) or "none"
        return f"unknown organization {key!r}: no {path} (known: {known})"
    return _vocabulary(path, path.stat().st_mtime)


def org_names(settings: Settings, key: str) -> dict[str, str]:
    """The Chinese names of an organization's roles, pairing kinds and units, by code (empty if
    the organization file cannot be read)."""
    path = settings.orgs_dir / f"{key}.yaml"
    try:
        data = read_yaml(path)
    except CampaignError:
        return {}
    return {r.code: r.name for r in (*data.roles, *data.pairing_kinds, *data.units)}


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
    return _calendar(settings.holidays_dir, _stamp(settings.holidays_dir, "*.yaml"))


@lru_cache(maxsize=64)
def _load(
    path: Path,
    stamp: tuple[int, int],
    calendar: WorkCalendar,
    orgs_dir: Path,
    orgs_stamp: tuple[tuple[str, int, int], ...],
) -> LoadedCampaign:
    return load_campaign(
        path, calendar=calendar, org_lookup=lambda key: _vocabulary_in(orgs_dir, key)
    )


def read_campaign(
    settings: Settings, file_or_key: str, calendar: WorkCalendar | None = None
) -> LoadedCampaign:
    """The campaign file, validated. Parsed once while the file, the calendar and the
    organization files are unchanged: a rehearsal reads it thousands of times."""
    path = campaign_path(settings, file_or_key).resolve()
    calendar = calendar or calendar_for(settings)
    try:
        info = path.stat()
    except OSError:  # the loader says what is wrong with the path, in the file's terms
        return load_campaign(
            path, calendar=calendar, org_lookup=lambda key: _vocabulary_in(settings.orgs_dir, key)
        )
    return _load(
        path,
        (info.st_size, info.st_mtime_ns),
        calendar,
        settings.orgs_dir,
        _stamp(settings.orgs_dir, "*.yaml"),
    )
