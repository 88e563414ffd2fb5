"""The one column type for instants: UTC-aware in, UTC-aware out, naive refused.

SQLite keeps no offset, so a naive value written there would be read back as if it were UTC
whatever it meant; refusing naive values at the boundary is the only safe rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class NaiveDatetimeError(ValueError):
    """A datetime without a timezone reached the database."""


class UtcDateTime(TypeDecorator[dt.datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise NaiveDatetimeError(f"naive datetime {value.isoformat()} refused: give a timezone")
        utc = value.astimezone(dt.UTC)
        # SQLite stores the text without an offset: store UTC wall time, restore UTC on read.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def today_in(timezone: str) -> dt.date:
    """Today's date in a timezone; like utc_now, read only at the edges."""
    now = dt.datetime.now(ZoneInfo(timezone))
    return now.date()


def utc_now() -> dt.datetime:
    """The current instant; only edges (CLI, tasks) call this, domain code takes `now`."""
    return dt.datetime.now(dt.UTC)
