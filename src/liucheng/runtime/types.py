"""Column types that keep times and numbers exactly, on SQLite and PostgreSQL alike.

Both databases must give back what the engine stored:

* ``UtcDateTime``: times are timezone-aware everywhere in Liucheng.  PostgreSQL has
  ``timestamptz``; SQLite has no time type at all, so there the value is converted to UTC and
  stored as fixed-width text (``2026-03-02 01:00:00.000000``, which sorts and compares in time
  order), then read back as an aware UTC datetime.  A naive datetime is refused rather than
  guessed at.  The instant is kept, not the zone: a row's times come back in UTC (the case's
  JSON, which the engine resumes from, keeps zones by name).
* ``ExactNumber``: PostgreSQL ``NUMERIC`` holds a ``Decimal`` exactly.  SQLite's ``NUMERIC``
  column affinity keeps integers exactly and other numbers as 64-bit floats; SQLAlchemy's own
  ``Numeric`` would first turn every value into a Python float (and warn), so on SQLite the
  value is handed over as text and SQLite applies its affinity.  These columns are query
  indexes only: the exact value is always in the JSON stored next to it.

The migrations import these types, so they are part of the stored schema: change them only
with a migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine, UserDefinedType


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as UTC; read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a stored time must carry a time zone: {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _SqliteNumeric(UserDefinedType[Any]):
    """``NUMERIC`` affinity on SQLite, without SQLAlchemy converting values to float first."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "NUMERIC"


class ExactNumber(TypeDecorator[Decimal]):
    """A number for comparisons in queries: exact on PostgreSQL, SQLite's best on SQLite."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SqliteNumeric())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return str(value)  # SQLite's NUMERIC affinity turns the text into INTEGER or REAL

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))
