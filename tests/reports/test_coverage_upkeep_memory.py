"""The coverage upkeep of a long-lived process, which keeps the coverage_stream rows it read between
its rounds (UpkeepMemory; PostgreSQL, and inert on SQLite): every round still equals a full
rebuild, whatever another process wrote between two rounds, and a round rolled back leaves
nothing kept that the database does not hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from test_coverage import _append_day, _assert_same, _build, _rows, _sources, _states

from ooi_status.model.metadata import StreamMetadata
from ooi_status.model.monitor import Coverage, CoverageStream
from ooi_status.reports.coverage_upkeep import CoverageSources, UpkeepMemory, run_upkeep
from ooi_status.sources.base import SourceUnavailable


def _round(databases, sources, now: datetime, settings, memory: UpkeepMemory):  # type: ignore[no-untyped-def]
    return run_upkeep(databases.monitor_session, sources, now, settings, deadline=float("inf"), memory=memory)


@contextmanager
def _monitor(settings, now: datetime) -> Iterator[tuple]:  # type: ignore[no-untyped-def]
    """A coverage table built at ``now``, and a monitor whose first round (a minute later, nothing
    moved) read the rows it keeps: its databases, sources and memory."""
    databases, sources, _ = _sources(settings)
    memory = UpkeepMemory()
    try:
        _build(databases, sources, now, settings)
        assert _round(databases, sources, now + timedelta(minutes=1), settings, memory).streams == 0
        yield databases, sources, memory
    finally:
        databases.dispose()


def _rebuilt(databases, sources, now: datetime, settings, monitor_engine) -> dict:  # type: ignore[no-untyped-def]
    """The rows of a full rebuild, by another process (its own sources), at ``now``."""
    other, other_sources, _ = _sources(settings)
    try:
        _build(other, other_sources, now, settings, everything=True)
    finally:
        other.dispose()
    return _rows(monitor_engine)


def test_rounds_of_a_process_keeping_its_rows_equal_a_full_rebuild(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    strict = db_settings.replace(COVERAGE_OPEN_DEPLOYMENT_SECONDS=0)
    later = now + timedelta(minutes=30)
    with _monitor(strict, now) as (databases, sources, memory):
        reports = []
        for minute in (10, 20, 30):
            moved = _append_day(metadata_db.engine, now + timedelta(minutes=minute), streams=minute // 10)
            reports.append(_round(databases, sources, now + timedelta(minutes=minute), strict, memory))
        incremental = _rows(monitor_db.engine)
        rebuilt = _rebuilt(databases, sources, later, strict, monitor_db.engine)
    assert [report.streams for report in reports] == [1, 2, 3]
    _assert_same(
        incremental, rebuilt, skip=lambda key: key[:3] not in moved and rebuilt[key].window_stop == later
    )


def test_a_write_of_another_process_between_rounds_is_not_missed(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    """Another process changes coverage_stream rows between two rounds of a monitor keeping them:
    a number set NULL, a row deleted with its coverage, a whole build beside it. The monitor's next
    round sees each."""
    s = CoverageStream.__table__
    with _monitor(db_settings, now) as (databases, sources, memory):
        with monitor_db.engine.begin() as conn:
            nulled, removed = conn.execute(select(s.c.id, s.c.refdes, s.c.method, s.c.stream).limit(2)).all()
            conn.execute(update(s).where(s.c.id == nulled.id).values(count=None))
            conn.execute(delete(s).where(s.c.id == removed.id))
            c = Coverage.__table__.c
            conn.execute(delete(Coverage.__table__).where(
                c.refdes == removed.refdes, c.method == removed.method, c.stream == removed.stream
            ))  # fmt: skip
        seen = _round(databases, sources, now + timedelta(minutes=2), db_settings, memory)
        idle = _round(databases, sources, now + timedelta(minutes=3), db_settings, memory)
        # A build beside the monitor rewrites every row; then new bins, then the monitor's round.
        later = now + timedelta(minutes=30)
        moved = _append_day(metadata_db.engine, later, streams=2)
        other, other_sources, _ = _sources(db_settings)
        try:
            _build(other, other_sources, later, db_settings, everything=True)
        finally:
            other.dispose()
        after_build = _round(databases, sources, later + timedelta(minutes=1), db_settings, memory)
    states = _states(monitor_db.engine)
    assert seen.streams == 2
    assert idle.streams == 0
    assert after_build.streams == 0
    assert all(states[key].computed_at == later for key in moved)
    assert states[tuple(nulled)[1:]].count is not None


class _FailingBins:
    """The stream source, whose bins cannot be read (the metadata database went away mid-round)."""

    def __init__(self, source) -> None:  # type: ignore[no-untyped-def]
        self.source = source

    def stream_points(self, excluded_prefix: str = ""):  # type: ignore[no-untyped-def]
        return self.source.stream_points(excluded_prefix)

    def streams(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.source.streams(*args, **kwargs)

    def bins_of_streams(self, requests, stop_ntp: float):  # type: ignore[no-untyped-def]
        raise SourceUnavailable("metadata database: gone")


def test_a_round_rolled_back_leaves_nothing_kept_ahead_of_the_database(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    later = now + timedelta(minutes=30)
    with _monitor(db_settings, now) as (databases, sources, memory):
        failing = CoverageSources(_FailingBins(sources.streams), sources.deployments)  # type: ignore[arg-type]
        moved = _append_day(metadata_db.engine, later, streams=3)
        with pytest.raises(SourceUnavailable):
            _round(databases, failing, later, db_settings, memory)
        report = _round(databases, sources, later + timedelta(minutes=1), db_settings, memory)
        incremental = _rows(monitor_db.engine)
        rebuilt = _rebuilt(databases, sources, later + timedelta(minutes=1), db_settings, monitor_db.engine)
    assert (report.streams, report.whole) == (3, 0)
    _assert_same(
        incremental,
        rebuilt,
        skip=lambda key: (
            rebuilt[key].window_stop == later + timedelta(minutes=1)
            and not (key[:3] in moved and key[3] == "month")
        ),
    )


def test_gone_streams_are_removed_by_a_process_keeping_its_rows(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    m = StreamMetadata.__table__
    with _monitor(db_settings, now) as (databases, sources, memory):
        with metadata_db.engine.begin() as conn:
            gone = conn.execute(select(m.c.id, m.c.subsite, m.c.node, m.c.sensor, m.c.method, m.c.stream)
                                .limit(1)).one()  # fmt: skip
            conn.execute(delete(m).where(m.c.id == gone.id))
        report = _round(databases, sources, now + timedelta(minutes=2), db_settings, memory)
        idle = _round(databases, sources, now + timedelta(minutes=3), db_settings, memory)
    assert (report.removed, report.streams) == (1, 0)
    assert (idle.removed, idle.streams) == (0, 0)
    refdes = f"{gone.subsite}-{gone.node}-{gone.sensor}"
    assert (refdes, gone.method, gone.stream) not in _states(monitor_db.engine)
