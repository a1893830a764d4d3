"""Column types shared by both schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from ooi_status.times import as_utc

# JSON everywhere, JSONB where PostgreSQL offers it.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend.

    PostgreSQL stores ``timestamp with time zone``; SQLite stores text without a
    zone. Values are written as UTC and always read back as aware UTC datetimes,
    so no code ever sees a naive or local time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to the database: use aware UTC datetimes")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class TimestampText(FunctionElement[str]):
    """A stored timestamp as the API's text, made by the database: UTC ``YYYY-MM-DD HH:MM:SS``,
    the fraction truncated (``times.format_timestamp``), or NULL.

    For reads of tens of thousands of timestamps (the API's lists, the coverage report): made into
    aware datetimes and formatted again in Python they were about a third of a fleet list's time.
    PostgreSQL formats them with ``to_char`` in UTC; SQLite stores UTC text without a zone
    (``YYYY-MM-DD HH:MM:SS.ffffff`` as written through ``model.types.UTCDateTime``, or without the
    fraction as ``CURRENT_TIMESTAMP`` writes it), of which the first 19 characters are the text,
    with a ``T`` separator made a space.
    """

    type = String()
    inherit_cache = True


@compiles(TimestampText, "postgresql")
def _timestamp_text_postgresql(element: TimestampText, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"


@compiles(TimestampText)
def _timestamp_text_sqlite(element: TimestampText, compiler: Any, **kw: Any) -> str:
    return f"replace(substr({compiler.process(element.clauses, **kw)}, 1, 19), 'T', ' ')"
