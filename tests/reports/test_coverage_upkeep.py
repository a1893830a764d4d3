"""The coverage upkeep's round: what it compares each round and how it writes, on SQLite and PostgreSQL.

The incremental round equals a full rebuild (tests/reports/test_coverage.py); here the cases
that take the other paths: a round into a new month (rows updated in place and inserted),
numbers the database cannot hand over as a block (NULLs, names that do not split back).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, update
from test_coverage import CATEGORIES, _append_day, _build, _rows, _sources, _states

from ooi_status.model.metadata import PartitionMetadata, StreamMetadata
from ooi_status.model.monitor import CoverageStream
from ooi_status.times import datetime_to_ntp

# A subsite holding a dash: the refdes does not split back into it.
ODD = {
    "subsite": "CE02-SHBP", "node": "LJ01D", "sensor": "06-CTDBPN106", "method": "streamed", "stream": "odd",
}  # fmt: skip


def test_a_round_into_a_new_month_updates_its_months_and_adds_the_new_one(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    """Moved streams recomputed from their new bins across a month's end: the month computed
    before is updated in place, the new one inserted, both as a full rebuild has them."""
    patient = db_settings.replace(
        COVERAGE_REFRESH_SECONDS=60 * 86_400, COVERAGE_OPEN_DEPLOYMENT_SECONDS=60 * 86_400
    )
    databases, sources, _ = _sources(patient)
    later = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, 6, tzinfo=UTC)
    try:
        _build(databases, sources, now, patient)
        before = _rows(monitor_db.engine)
        moved = _append_day(metadata_db.engine, later, streams=3)
        report = _build(databases, sources, later, patient)
        incremental = _rows(monitor_db.engine)
        _build(databases, sources, later, patient, everything=True)
        rebuilt = _rows(monitor_db.engine)
    finally:
        databases.dispose()
    assert (report.streams, report.whole) == (3, 0)
    months = (f"{now:%Y-%m}", f"{later:%Y-%m}")
    for stream in moved:
        assert (*stream, "month", months[0]) in before
        assert (*stream, "month", months[1]) not in before
        for month in months:
            key = (*stream, "month", month)
            mine, whole = incremental[key], rebuilt[key]
            assert (mine.window_start, mine.window_stop) == (whole.window_start, whole.window_stop), key
            assert [getattr(mine, c) for c in CATEGORIES] == pytest.approx(
                [getattr(whole, c) for c in CATEGORIES]
            ), key
    # The streams that did not move keep their rows as they were.
    assert {k: v for k, v in incremental.items() if k[:3] not in moved} == {
        k: v for k, v in before.items() if k[:3] not in moved
    }


def test_a_stream_whose_stored_numbers_are_null_is_recomputed(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    databases, sources, _ = _sources(db_settings)
    try:
        _build(databases, sources, now, db_settings)
        s = CoverageStream.__table__
        with monitor_db.engine.begin() as conn:
            chosen = conn.execute(select(s.c.id, s.c.refdes, s.c.method, s.c.stream).limit(1)).one()
            conn.execute(update(s).where(s.c.id == chosen.id).values(count=None))
        report = _build(databases, sources, now + timedelta(minutes=1), db_settings)
        again = _build(databases, sources, now + timedelta(minutes=2), db_settings)
    finally:
        databases.dispose()
    assert report.streams == 1
    assert again.streams == 0
    assert _states(monitor_db.engine)[tuple(chosen)[1:]].count is not None


def _add_odd_stream(engine, now: datetime) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    first = datetime_to_ntp(now - timedelta(days=3))
    last = first + 86_000
    with engine.begin() as conn:
        ids = [conn.execute(select(func.max(t.c.id))).scalar_one() + 1 for t in (StreamMetadata.__table__,
               PartitionMetadata.__table__)]  # fmt: skip
        conn.execute(insert(StreamMetadata.__table__).values(
            id=ids[0], **ODD, count=100, first=first, last=last,
        ))  # fmt: skip
        conn.execute(insert(PartitionMetadata.__table__).values(
            id=ids[1], **ODD, store="cass", bin=int(first), count=100, first=first, last=last,
        ))  # fmt: skip
    return (f"{ODD['subsite']}-{ODD['node']}-{ODD['sensor']}", ODD["method"], ODD["stream"])


def test_streams_whose_names_do_not_split_back_are_kept_up_to_date(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    databases, sources, _ = _sources(db_settings)
    try:
        _build(databases, sources, now, db_settings)
        odd = _add_odd_stream(metadata_db.engine, now)
        added = _build(databases, sources, now + timedelta(minutes=1), db_settings)
        idle = _build(databases, sources, now + timedelta(minutes=2), db_settings)
        moved = _append_day(metadata_db.engine, now + timedelta(minutes=30), streams=2)
        later = _build(databases, sources, now + timedelta(minutes=30), db_settings)
    finally:
        databases.dispose()
    assert (added.streams, added.whole) == (1, 1)
    assert idle.streams == 0
    assert (later.streams, later.whole) == (len(moved), 0)
    assert any(key[:3] == odd for key in _rows(monitor_db.engine))
