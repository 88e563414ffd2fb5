"""Settings from the environment (prefix CAMPAIGN_); nothing connects at import time."""

from __future__ import annotations

import os
from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.pydantic_zh import message_zh
from models.domain.campaign import known_timezone
from models.errors import CampaignError

CONFIG_DIR = Path(__file__).resolve().parent


class Settings(BaseSettings):
    """Where data lives, which database, who is acting, and the default timezone."""

    model_config = SettingsConfigDict(env_prefix="CAMPAIGN_", extra="ignore")

    home: Path = Path(".campaign")
    database_url: str | None = None
    user: str | None = None
    notify_default: str | None = None  # an Apprise URL for recipients without a channel
    timezone: str = "Asia/Shanghai"
    digest_max_lines: int = Field(20, ge=1, description="lines a digest lists; the rest summed")
    # a failed delivery is tried again base·2, base·4, base·8 seconds later
    retry_base_seconds: float = Field(60.0, gt=0)
    # how long one message may take on one channel, connect to last byte: a receiver that
    # trickles its answer never trips a read timeout, and must not hold a sweep or a command
    delivery_seconds: float = Field(60.0, gt=0, le=600)
    # hosts a channel may reach (comma-separated); unset: the robots' own hosts, this
    # machine, and CAMPAIGN_NOTIFY_DEFAULT's host
    channel_hosts: str | None = None
    # where `audit anchor` (and the daily sweep) writes the chain's head: outside CAMPAIGN_HOME
    audit_anchor: Path | None = None
    audit_key: str | None = Field(None, description="HMAC key that signs anchors (not in the DB)")
    max_file_mb: float = Field(
        20.0, gt=0, le=1000, allow_inf_nan=False, description="the largest evidence file accepted"
    )
    # A run without a heartbeat this long is marked Crashed (its worker died). It must exceed
    # twice the workers' PREFECT_FLOWS_HEARTBEAT_FREQUENCY (Prefect's default: 180 s), or
    # healthy long runs would be crashed; with workers beating every 30 s, 90 is enough.
    zombie_after_seconds: int = Field(450, ge=45)
    # the web door: the address people open (links in invitations and digests), how long a
    # sign-in link works; the cookie is Secure when the address is https
    web_url: str | None = None
    web_link_days: float = Field(7.0, gt=0, le=90)
    web_threads: int = Field(8, ge=1, le=32, description="request threads of a web worker")
    campaigns_dir: Path = CONFIG_DIR / "campaigns"
    orgs_dir: Path = CONFIG_DIR / "orgs"
    # holiday tables for years chinese-calendar lacks: the department's data, so they live
    # in CAMPAIGN_HOME unless named (a folder every worker reads, in the scaled set-up)
    holidays_dir: Path | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("notify_default")
    @classmethod
    def _channel_url(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError("应为 Apprise 地址，如 json://主机/路径、mailtos://… 或 file:///路径")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError("应为 sqlite:///路径 或 postgresql+psycopg://用户@主机/库名")
        return value

    @field_validator("web_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")) or value.endswith("://"):
            raise ValueError("应为大家打开的网址，如 https://door.example.cn")
        return value.rstrip("/")

    @property
    def door_url(self) -> str:
        """Where the web door is opened: CAMPAIGN_WEB_URL, else `campaign web`'s default.
        Digests carry a link to it only when CAMPAIGN_WEB_URL is set."""
        return self.web_url or "http://127.0.0.1:8000"

    @property
    def allowed_channel_hosts(self) -> frozenset[str]:
        if self.channel_hosts:
            return frozenset(h.strip().lower() for h in self.channel_hosts.split(",") if h.strip())
        hosts = {"oapi.dingtalk.com", "qyapi.weixin.qq.com", "127.0.0.1", "localhost", "::1"}
        if self.notify_default and "://" in self.notify_default:
            from urllib.parse import urlsplit

            hosts.add((urlsplit(self.notify_default).hostname or "").lower())
        return frozenset(hosts - {""})

    @property
    def rehearsal_outbox(self) -> Path:
        """Where a rehearsal's digests go (a file channel, one JSON line a digest): never to
        the people's own channels, who would be told of days long past."""
        return (self.home / "outbox" / "reminders.jsonl").resolve()

    @property
    def holiday_tables(self) -> Path:
        """The folder of holiday tables (`<year>.yaml`) the calendar reads and
        `calendar import-notice` writes."""
        return self.holidays_dir or self.home / "holidays"

    @property
    def imported_holidays(self) -> Path | None:
        """The holiday tables' folder when it holds any: a rehearsal in another data folder
        needs them too."""
        tables = self.holiday_tables
        return tables if any(tables.glob("*.yaml")) else None

    @property
    def max_file_bytes(self) -> int:
        """The largest evidence file accepted, in bytes (decimal megabytes, as people say
        them: 20 MB is 20,000,000 bytes)."""
        return int(self.max_file_mb * 1_000_000)

    @cached_property
    def resolved_database_url(self) -> str:
        # cached: resolving the home folder is a system call per part of its path, and the web
        # door asks on every request
        return self.database_url or f"sqlite:///{self.home.resolve() / 'campaign.db'}"


def os_login() -> str:
    """The operating-system account running this process: what the operators list maps to a
    person. From the process's user id, never from LOGNAME or USER (getpass reads those
    first, and anyone may set them: `LOGNAME=staff campaign evidence add …` would act as the
    department's staff)."""
    try:
        import pwd
    except ImportError:  # Windows: no user ids; the login Windows gives the process
        import getpass

        return getpass.getuser()
    return pwd.getpwuid(os.geteuid()).pw_name


class SettingsError(CampaignError):
    """An environment variable with a value we cannot use."""


@lru_cache
def get_settings() -> Settings:
    """The settings, read once; tests call `get_settings.cache_clear()` after changing env."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"CAMPAIGN_{'_'.join(map(str, e['loc'])).upper()}：{message_zh(e)}"
            for e in exc.errors(include_url=False)
        ]
        raise SettingsError("\n".join(problems)) from None


HOME_PROBLEMS: list[str] = []


def missing_database(settings: Settings) -> str | None:
    """A SQLite file outside CAMPAIGN_HOME that does not exist is a mistyped path, not a
    database to make: only `campaign db upgrade` creates one there."""
    url = settings.resolved_database_url
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url.removeprefix("sqlite:///")).resolve()
    if path.exists() or path.is_relative_to(settings.home.resolve()):
        return None
    return (
        f"CAMPAIGN_DATABASE_URL：{path} 处没有数据库（路径写错了？）；"
        "要在那里新建，请运行 campaign db upgrade"
    )


def prepare_prefect_env() -> None:
    """Point Prefect's home into CAMPAIGN_HOME unless PREFECT_HOME is set; analytics off.

    Must run before prefect is imported: Prefect reads its settings at import. It reads the
    one variable it needs itself, so that a bad setting elsewhere is reported by the command
    that uses it rather than by an import.
    """
    home = Path(os.environ.get("CAMPAIGN_HOME", ".campaign")).resolve()
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    try:
        Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        # said by the command as one line (flows.cli.main), not as a traceback at import
        HOME_PROBLEMS.append(
            f"CAMPAIGN_HOME {home}（PREFECT_HOME {os.environ['PREFECT_HOME']}）无法建立："
            f"{exc.strerror or exc}"
        )
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # A new Prefect home is migrated while the temporary server starts: on a busy 2-core
    # machine that can take longer than Prefect's default 20 s wait.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("DO_NOT_TRACK", "1")
