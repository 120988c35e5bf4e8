"""Column types: tz-aware UTC datetimes on every backend, and string-valued enums."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """A wall-clock instant, always tz-aware UTC in Python.

    PostgreSQL stores ``timestamp with time zone``; SQLite has no time zones, so the value is
    stored as naive UTC text and given ``tzinfo=UTC`` again when read. Naive datetimes are refused
    on the way in (they are ambiguous), aware ones in any zone are converted to UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use a tz-aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A :class:`StrEnum` stored as its string value in a ``VARCHAR`` (checked by a constraint)."""

    impl = String(20)
    cache_ok = True

    def __init__(self, enum_cls: type[E], **kw: Any) -> None:
        super().__init__(**kw)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_cls(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        if value is None:
            return None
        return self.enum_cls(value)

    def copy(self, **kw: Any) -> StrEnumType[E]:
        return StrEnumType(self.enum_cls)


def utcnow() -> datetime:
    """The current wall-clock instant, tz-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None, what: str = "time") -> datetime:
    """``value`` (``None``: now) as tz-aware UTC; a naive datetime is an :class:`InvalidRecordError`."""
    from agent_monitor.errors import InvalidRecordError

    if value is None:
        return utcnow()
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecordError(f"{what} {value.isoformat()} has no time zone; give a tz-aware UTC time")
    return value.astimezone(UTC)
