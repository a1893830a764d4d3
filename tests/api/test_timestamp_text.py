"""model.types.TimestampText: the database makes a stored timestamp's API text, and it is exactly what
times.format_timestamp makes of the value read back, on SQLite and on PostgreSQL whatever the
session's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text

from ooi_status.model.types import TimestampText, UTCDateTime
from ooi_status.times import format_timestamp

UTC_ONLY = st.just(UTC)
EDGES = [
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # the fraction truncated, never rounded up
    datetime(2024, 2, 29, 12, 0, 0, 500000, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # a DST change in Europe: UTC has none
    datetime(2026, 11, 1, 6, 30, tzinfo=timezone(timedelta(hours=-5))),  # written with another offset
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),  # the year padded to four digits
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
]


@pytest.fixture
def stamps(monitor_db):
    """A table of one UTC timestamp column in the monitor database, dropped afterwards."""
    table = Table(
        "timestamp_text_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime()),
    )
    table.create(monitor_db.engine)
    try:
        yield monitor_db.engine, table
    finally:
        table.drop(monitor_db.engine)


def _texts(engine, table, moments, zone=None):
    with engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(insert(table), [{"id": i, "at": moment} for i, moment in enumerate(moments)])
        read = table.c.at
        if zone is not None:
            conn.execute(text(f"SET LOCAL TIME ZONE '{zone}'"))
            read = None  # a value read in a zone far from UTC may be past year 9999 in Python
        rows = conn.execute(select(table.c.id, TimestampText(table.c.at), read).order_by(table.c.id))
        return [(made, value) for _, made, value in rows]


def test_the_database_text_is_the_api_text_at_the_edges(stamps):
    engine, table = stamps
    pairs = _texts(engine, table, [*EDGES, None])
    assert pairs[-1] == (None, None)
    for moment, (made, read) in zip(EDGES, pairs, strict=False):
        assert made == format_timestamp(read) == format_timestamp(moment)


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Chatham", "Asia/Kolkata"])
def test_postgresql_text_is_utc_whatever_the_session_time_zone(stamps, zone):
    engine, table = stamps
    if engine.dialect.name != "postgresql":
        pytest.skip("a session time zone is PostgreSQL's")
    for moment, (made, _) in zip(EDGES, _texts(engine, table, EDGES, zone), strict=True):
        assert made == format_timestamp(moment)


def test_sqlite_text_of_values_written_by_hand(stamps):
    """Rows written outside SQLAlchemy: CURRENT_TIMESTAMP's form, and an ISO text with a T."""
    engine, table = stamps
    if engine.dialect.name != "sqlite":
        pytest.skip("the stored text is SQLite's")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO timestamp_text_probe (id, at) VALUES (1, '2026-12-02 06:07:08')"))
        conn.execute(text("INSERT INTO timestamp_text_probe (id, at) VALUES (2, '2026-12-02T06:07:08.5')"))
        rows = conn.execute(select(TimestampText(table.c.at), table.c.at).order_by(table.c.id)).all()
    assert [made for made, _ in rows] == ["2026-12-02 06:07:08"] * 2
    assert [format_timestamp(read) for _, read in rows] == ["2026-12-02 06:07:08"] * 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.datetimes(datetime(1000, 1, 1), datetime(9999, 12, 30), timezones=UTC_ONLY), min_size=1, max_size=9
    )
)
def test_the_database_text_is_the_api_text_for_any_time(stamps, moments):
    engine, table = stamps
    for moment, (made, read) in zip(moments, _texts(engine, table, moments), strict=True):
        assert made == format_timestamp(read) == format_timestamp(moment)
