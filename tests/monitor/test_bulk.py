"""Bulk writes (ooi_status.monitor.bulk): array types derived from the model, the same rows on
both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, String, Table, Text, select, text
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from ooi_status.model.monitor import (
    DeployedStream,
    ExpectedStream,
    MonitorBase,
    PendingUpdate,
    PortCount,
    ReferenceDesignator,
    StatusHistory,
)
from ooi_status.model.types import JSONDocument, UTCDateTime
from ooi_status.monitor.bulk import array_type, insert_rows, update_by_id


def test_array_types_are_the_model_column_types() -> None:
    ds, pending = DeployedStream.__table__.c, PendingUpdate.__table__.c
    assert array_type(ds.id) == "INTEGER[]"
    assert array_type(ds.particle_count) == "BIGINT[]"
    assert array_type(ds.measured_rate) == "FLOAT[]"  # double precision
    assert array_type(ds.status) == "VARCHAR[]"  # String(16): no length (see array_type)
    assert array_type(ds.last_data_time) == "TIMESTAMP WITH TIME ZONE[]"  # UTCDateTime
    assert array_type(StatusHistory.__table__.c.note) == "TEXT[]"
    assert array_type(pending.message) == "JSONB[]"  # JSON, JSONB on PostgreSQL
    assert array_type(PortCount.__table__.c.id) == "BIGINT[]"  # BIGINT, INTEGER on SQLite only


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (Integer(), "INTEGER[]"),
        (BigInteger(), "BIGINT[]"),
        (Float(), "FLOAT[]"),
        (String(), "VARCHAR[]"),
        (String(40), "VARCHAR[]"),
        (Text(), "TEXT[]"),
        (UTCDateTime(), "TIMESTAMP WITH TIME ZONE[]"),
        (JSONDocument, "JSONB[]"),
    ],
)
def test_a_column_type_changed_in_the_model_changes_its_array_type(kind: object, expected: str) -> None:
    table = Table("changed", MetaData(), Column("id", Integer, primary_key=True), Column("value", kind))
    assert array_type(table.c.value) == expected


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_every_array_type_is_that_of_the_migrated_column(monitor_db) -> None:
    """The migrations build what the model says: each derived type is the database's own."""
    with monitor_db.engine.connect() as conn:
        for table in MonitorBase.metadata.sorted_tables:
            stored = dict(
                conn.execute(
                    text(
                        "SELECT attname, format_type(atttypid, NULL) || '[]' FROM pg_attribute "
                        "WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"
                    ),
                    {"table": table.name},
                ).all()
            )
            for column in table.c:
                derived = conn.execute(text(f"SELECT CAST('{array_type(column)}' AS regtype)::text")).scalar()
                assert derived == stored[column.name], f"{table.name}.{column.name}"


def _streams(session: Session, count: int) -> list[int]:
    """Ids of ``count`` new deployed streams of one instrument, inserted in bulk."""
    refdes = ReferenceDesignator(name="CE01ISSM-MFD35-03-CTDBPC000")
    expected = [ExpectedStream(name=f"s{i}", method="streamed") for i in range(count)]
    session.add_all([refdes, *expected])
    session.flush()
    columns = ("reference_designator_id", "expected_stream_id", "status")
    rows = [dict(zip(columns, (refdes.id, e.id, "notTracked"), strict=True)) for e in expected]
    inserted = insert_rows(session, DeployedStream.__table__, columns, rows, ("expected_stream_id", "id"))
    ids = {expected_id: ident for expected_id, ident in inserted}
    return [ids[e.id] for e in expected]


def test_bulk_writes_round_trip(monitor_db, now) -> None:
    events = [
        {"deployed_stream_id": None, "asset_uid": "UID-1", "sink": "events", "state": "pending",
         "message": {"status": "failed", "notes": ["a", "é"], "n": 1.5, "nested": {"ok": True}},
         "error_count": 0, "attempts": 0, "created_at": now, "next_attempt_at": now + timedelta(seconds=1)},
        {"deployed_stream_id": None, "asset_uid": "UID-2", "sink": "https://hook.example/x", "state": "dead",
         "message": {}, "error_count": 3, "attempts": 4, "created_at": now, "next_attempt_at": now},
    ]  # fmt: skip
    with Session(monitor_db.engine) as session, session.begin():
        ids = _streams(session, 3)
        insert_rows(session, PendingUpdate.__table__, list(events[0]), events)
        update_by_id(
            session, DeployedStream.__table__, ("particle_count", "measured_rate", "last_data_time"),
            [(ids[0], 2**40, 0.25, now), (ids[2], None, None, None)], status="failed", status_time=now,
        )  # fmt: skip
    with Session(monitor_db.engine) as session:
        p = PendingUpdate.__table__.c
        stored = session.execute(select(*(p[name] for name in events[0])).order_by(p.id)).all()
        assert [row._asdict() for row in stored] == events
        d = DeployedStream.__table__.c
        streams = session.execute(
            select(d.id, d.status, d.status_time, d.particle_count, d.measured_rate, d.last_data_time)
            .order_by(d.id)
        ).all()  # fmt: skip
    assert [tuple(row) for row in streams] == [
        (ids[0], "failed", now, 2**40, 0.25, now),
        (ids[1], "notTracked", None, None, None, None),  # not in the rows: untouched
        (ids[2], "failed", now, None, None, None),
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_value_too_long_for_its_column_is_refused_not_cut(monitor_db, now) -> None:
    columns = ("deployed_stream_id", "old_status", "new_status", "changed_at")
    with Session(monitor_db.engine) as session, session.begin():
        row = dict(zip(columns, (_streams(session, 1)[0], "notTracked", "x" * 17, now), strict=True))
        with pytest.raises(DataError, match="too long"):
            insert_rows(session, StatusHistory.__table__, columns, [row])
