"""Coverage equals /available, label by label; the incremental upkeep equals a full rebuild.

The property tests draw streams and periods of the demo observatory (Hypothesis) and bins of
their own; the database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.api.availability import MetadataSources, build_timeline, parse_query
from ooi_status.availability.engine import Bin, Deployment, Rules, Window, stream_spans
from ooi_status.coverage import StreamBins, instrument_periods, months, period_window, present_percent
from ooi_status.db import Databases
from ooi_status.model.metadata import PartitionMetadata, StreamMetadata
from ooi_status.model.monitor import Coverage, CoverageStream
from ooi_status.reports.coverage_upkeep import CoverageSources, run_upkeep
from ooi_status.sources import deployment_source, stream_source
from ooi_status.sources.bin_cache import BinCache
from ooi_status.times import datetime_to_ntp, format_timestamp

CATEGORIES = ("present", "sparse1", "sparse2", "sparse3", "missing", "not_expected")
LABELS = {
    "Present": "present", "Sparsity Level 1": "sparse1", "Sparsity Level 2": "sparse2",
    "Sparsity Level 3": "sparse3", "Missing": "missing", "Not Expected": "not_expected",
}  # fmt: skip
BASE = 3_900_000_000.0
DAY = 86_400.0


# --- pure ------------------------------------------------------------------------------------


def test_months_are_calendar_months_utc() -> None:
    start = datetime_to_ntp(datetime.fromisoformat("2024-01-31T23:00:00+00:00"))
    stop = datetime_to_ntp(datetime.fromisoformat("2024-03-01T00:00:00+00:00"))
    periods = months(start, stop)
    assert [p.label for p in periods] == ["2024-01", "2024-02", "2024-03"]
    assert periods[1].stop - periods[1].start == 29 * DAY  # leap year
    assert periods[0].stop == periods[1].start


def test_periods_follow_deployments_and_stop_at_now() -> None:
    deployments = [Deployment(1, BASE, BASE + 40 * DAY), Deployment(2, BASE + 50 * DAY, None)]
    now = BASE + 70 * DAY
    periods = instrument_periods(deployments, None, now)
    labels = [(p.kind, p.label) for p in periods]
    assert labels[-2:] == [("deployment", "1"), ("deployment", "2")]
    open_window = period_window(periods[-1], deployments, now, None)
    assert open_window == Window(BASE + 50 * DAY, now)
    assert present_percent({c: 0.0 for c in CATEGORIES}) is None
    assert present_percent({**dict.fromkeys(CATEGORIES, 0.0), "present": 3.0, "missing": 1.0}) == 75.0


@st.composite
def stream_cases(draw: st.DrawFn) -> tuple[list[Bin], list[Deployment], Window]:
    """Bins of any length and count around a window, in any order, and up to two deployments."""
    bins = []
    for _ in range(draw(st.integers(0, 40))):
        first = BASE + draw(st.floats(-5, 65, allow_nan=False)) * DAY
        length = draw(st.sampled_from([0.0, DAY, 3 * DAY]) | st.floats(0, 10 * DAY))
        bins.append(Bin(first, first + length, draw(st.integers(0, 100_000))))
    deployments = [
        Deployment(
            n,
            BASE + draw(st.floats(-3, 60, allow_nan=False)) * DAY,
            draw(st.none() | st.just(BASE + 61 * DAY)),
        )
        for n in range(1, draw(st.integers(0, 2)) + 1)
    ]
    start = BASE + draw(st.floats(-2, 55, allow_nan=False)) * DAY
    return bins, deployments, Window(start, start + draw(st.floats(1.0, 30 * DAY)))


@given(stream_cases())
@settings(max_examples=300, deadline=None)
def test_slicing_bins_per_window_changes_no_span(case: tuple[list[Bin], list[Deployment], Window]) -> None:
    bins, deployments, window = case
    sliced = StreamBins(bins).overlapping(window)
    assert stream_spans(sliced, deployments, window, Rules()) == stream_spans(
        bins, deployments, window, Rules()
    )


_SECONDS_VALUES = st.one_of(st.none(), st.floats(0, 4e7, allow_nan=False), st.integers(0, 40_000_000))


@given(
    st.lists(st.tuples(*[_SECONDS_VALUES] * 6), min_size=1, max_size=20),
    st.sampled_from(["month", "deployment"]),
)
@settings(max_examples=200, deadline=None)
def test_report_rows_round_and_divide_as_present_percent_does(seconds: list[tuple], by: str) -> None:
    """The report's one-pass rows: each category rounded to the millisecond, present_percent of those."""
    from ooi_status.coverage import SECONDS
    from ooi_status.reports.coverage_report import _rows

    result = [("R-N-S", "7" if by == "deployment" else "2026-01", "a", "b", *values) for values in seconds]
    for row, values in zip(_rows(by, ["refdes"], result), seconds, strict=True):
        expected = {c: round(float(v or 0.0), 3) for c, v in zip(SECONDS, values, strict=True)}
        assert list(row) == ["refdes", by, "start", "stop", *SECONDS, "present_percent"]
        assert {c: row[c] for c in SECONDS} == expected
        assert row["present_percent"] == present_percent(expected)
        assert row[by] == (7 if by == "deployment" else "2026-01")


# --- the database: coverage equals /available ------------------------------------------------


def _sources(settings) -> tuple[Databases, CoverageSources, MetadataSources]:  # type: ignore[no-untyped-def]
    databases = Databases(settings)
    streams = stream_source(settings, databases)
    deployments = deployment_source(databases)
    return (
        databases,
        CoverageSources(streams, deployments),
        MetadataSources(streams, deployments, BinCache(0, 0)),
    )


def _build(databases: Databases, sources: CoverageSources, now: datetime, settings, everything: bool = False):  # type: ignore[no-untyped-def]
    return run_upkeep(
        databases.monitor_session, sources, now, settings, deadline=float("inf"), everything=everything
    )


def _rows(engine) -> dict[tuple, tuple]:  # type: ignore[no-untyped-def]
    c = Coverage.__table__.c
    with engine.connect() as conn:
        return {
            (r.refdes, r.method, r.stream, r.kind, r.period): r
            for r in conn.execute(select(c.refdes, c.method, c.stream, c.kind, c.period, c.window_start,
                                         c.window_stop, *(c[name] for name in CATEGORIES)))
        }  # fmt: skip


def _available_seconds(
    metadata: MetadataSources, settings, key: tuple, row, now: datetime
) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The durations of the spans /available answers for one stream over the row's window."""
    refdes, method, stream, _, _ = key
    args = {
        "method": [method], "stream": [stream],
        "start_time": [row.window_start.isoformat()], "stop_time": [row.window_stop.isoformat()],
    }  # fmt: skip
    query = parse_query(refdes, _Args(args))
    timeline = build_timeline(query, metadata, settings, now)
    (line,) = timeline.streams
    seconds = dict.fromkeys(CATEGORIES, 0.0)
    for span in line.spans:
        seconds[span.category] += span.stop - span.start
    return seconds


class _Args:
    def __init__(self, values: dict[str, list[str]]) -> None:
        self.values = values

    def getlist(self, key: str) -> list[str]:
        return self.values.get(key, [])


def test_coverage_of_every_period_equals_available(
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:  # type: ignore[no-untyped-def]
    databases, sources, metadata = _sources(db_settings)
    try:
        report = _build(databases, sources, now, db_settings)
        rows = _rows(monitor_db.engine)
        assert report.streams == len({key[:3] for key in rows}) > 0
        assert {key[3] for key in rows} == {"month", "deployment"}

        @given(st.sampled_from(sorted(rows)))
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def same(key: tuple) -> None:
            row = rows[key]
            expected = _available_seconds(metadata, db_settings, key, row, now)
            got = {name: getattr(row, name) for name in CATEGORIES}
            assert got == pytest.approx(expected, abs=1e-3), key
            assert sum(got.values()) == pytest.approx(
                (row.window_stop - row.window_start).total_seconds(), abs=1e-3
            )

        same()
    finally:
        databases.dispose()


def test_a_month_of_an_instrument_without_data_is_not_expected(
    metadata_db, monitor_db, db_settings, now
) -> None:  # type: ignore[no-untyped-def]
    databases, sources, _ = _sources(db_settings)
    try:
        _build(databases, sources, now, db_settings)
    finally:
        databases.dispose()
    rows = _rows(monitor_db.engine)
    months_of = defaultdict(set)
    for refdes, method, stream, kind, period in rows:
        if kind == "month":
            months_of[(refdes, method, stream)].add(period)
    # The demo's history is two years: every stream has about 25 months, the current one included.
    # Instruments deployed now have the current month; every stream has consecutive months.
    assert any(f"{now:%Y-%m}" in labels for labels in months_of.values())
    for labels in months_of.values():
        ordered = sorted(labels)
        assert all(_next_month(a) == b for a, b in zip(ordered, ordered[1:], strict=False))
    for row in rows.values():
        assert row.window_start < row.window_stop <= now


def _next_month(label: str) -> str:
    year, month = map(int, label.split("-"))
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


# --- incremental upkeep ----------------------------------------------------------------------


def _append_day(metadata_engine, now: datetime, streams: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    """A new bin after the last one of the first ``streams`` streamed streams, as ingest adds it."""
    s = StreamMetadata.__table__.c
    moved = []
    with metadata_engine.begin() as conn:
        chosen = conn.execute(select(s.id, s.subsite, s.node, s.sensor, s.method, s.stream, s.count, s.last)
                              .where(s.method == "streamed").order_by(s.id).limit(streams)).all()  # fmt: skip
        for row in chosen:
            first, last = row.last + 60, datetime_to_ntp(now - timedelta(minutes=5))
            conn.execute(insert(PartitionMetadata.__table__).values(
                id=_next_id(conn), subsite=row.subsite, node=row.node, sensor=row.sensor, method=row.method,
                stream=row.stream,
                store="cass", bin=int(first), count=3000, first=first, last=last,
            ))  # fmt: skip
            conn.execute(
                update(StreamMetadata.__table__)
                .where(s.id == row.id)
                .values(count=row.count + 3000, last=last)
            )
            moved.append((f"{row.subsite}-{row.node}-{row.sensor}", row.method, row.stream))
    return moved


def _next_id(conn) -> int:  # type: ignore[no-untyped-def]
    """The demo writes its ids itself: PostgreSQL's sequence never moved."""
    return conn.execute(select(func.max(PartitionMetadata.__table__.c.id))).scalar_one() + 1


def _backfill(metadata_engine, now: datetime) -> tuple:  # type: ignore[no-untyped-def]
    """Recovered points filled in a year back: the count grows, the last point does not move."""
    s = StreamMetadata.__table__.c
    with metadata_engine.begin() as conn:
        row = conn.execute(select(s.id, s.subsite, s.node, s.sensor, s.method, s.stream, s.count)
                           .where(s.method == "streamed").order_by(s.id.desc()).limit(1)).one()  # fmt: skip
        first = datetime_to_ntp(now - timedelta(days=365, hours=7))
        conn.execute(insert(PartitionMetadata.__table__).values(
            id=_next_id(conn), subsite=row.subsite, node=row.node, sensor=row.sensor, method=row.method,
            stream=row.stream,
            store="zz-backup", bin=int(first) + 1, count=500, first=first, last=first + 3600,
        ))  # fmt: skip
        conn.execute(update(StreamMetadata.__table__).where(s.id == row.id).values(count=row.count + 500))
    return (f"{row.subsite}-{row.node}-{row.sensor}", row.method, row.stream)


def _assert_same(incremental: dict, rebuilt: dict, skip=lambda key: False) -> None:  # type: ignore[no-untyped-def]
    assert set(incremental) == set(rebuilt)
    for key, row in rebuilt.items():
        if skip(key):
            continue
        mine = incremental[key]
        assert (mine.window_start, mine.window_stop) == (row.window_start, row.window_stop), key
        assert [getattr(mine, c) for c in CATEGORIES] == pytest.approx(
            [getattr(row, c) for c in CATEGORIES]
        ), key


def test_incremental_upkeep_after_new_bins_equals_a_full_rebuild(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    databases, sources, _ = _sources(db_settings)
    later = now + timedelta(minutes=30)
    try:
        _build(databases, sources, now, db_settings)
        moved = _append_day(metadata_db.engine, later, streams=3)
        report = _build(databases, sources, later, db_settings)
        # Only the moved streams, from the current month on; open deployments follow within the hour.
        assert (report.streams, report.whole) == (3, 0)
        incremental = _rows(monitor_db.engine)
        _build(databases, sources, later, db_settings, everything=True)
        rebuilt = _rows(monitor_db.engine)
    finally:
        databases.dispose()
    states = _states(monitor_db.engine)
    assert all(states[key].computed_at == later for key in moved)

    def lagging(key: tuple) -> bool:
        """Periods still open (they end at now): the moved streams' months are recomputed; their
        open deployment and every open period of the other streams follow at their refresh."""
        still_open = rebuilt[key].window_stop == later
        return still_open and not (key[:3] in moved and key[3] == "month")

    _assert_same(incremental, rebuilt, skip=lagging)
    behind = [key for key in rebuilt if lagging(key)]
    assert any(key[:3] in moved for key in behind)
    assert all(incremental[key].window_stop == now for key in behind)


def test_with_no_lag_allowed_open_deployments_are_recomputed_too(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    strict = db_settings.replace(COVERAGE_OPEN_DEPLOYMENT_SECONDS=0)
    databases, sources, _ = _sources(strict)
    later = now + timedelta(hours=1)
    try:
        _build(databases, sources, now, strict)
        moved = _append_day(metadata_db.engine, later, streams=2)
        backfilled = _backfill(metadata_db.engine, now)
        moved.append(backfilled)
        report = _build(databases, sources, later, strict)
        assert report.streams == 3
        incremental = _rows(monitor_db.engine)
        _build(databases, sources, later, strict, everything=True)
        rebuilt = _rows(monitor_db.engine)
    finally:
        databases.dispose()
    # Every row of the moved streams; the open periods of the others follow at their refresh.
    _assert_same(
        incremental, rebuilt, skip=lambda key: key[:3] not in moved and rebuilt[key].window_stop == later
    )
    assert any(key[:3] == backfilled and incremental[key].window_stop == later for key in incremental)


def test_backfilled_bins_recompute_the_stream_whole(metadata_db, monitor_db, db_settings, now) -> None:  # type: ignore[no-untyped-def]
    databases, sources, _ = _sources(db_settings)
    try:
        _build(databases, sources, now, db_settings)
        before = _rows(monitor_db.engine)
        backfilled = _backfill(metadata_db.engine, now)
        report = _build(databases, sources, now, db_settings)
        assert (report.streams, report.whole) == (1, 1)
        incremental = _rows(monitor_db.engine)
        _build(databases, sources, now, db_settings, everything=True)
        rebuilt = _rows(monitor_db.engine)
    finally:
        databases.dispose()
    _assert_same(incremental, rebuilt)
    month = format_timestamp(now - timedelta(days=365, hours=7))[:7]
    key = (*backfilled, "month", month)
    assert incremental[key].missing < before[key].missing or incremental[key].present != before[key].present


def _long_bin(metadata_engine, now: datetime) -> tuple:  # type: ignore[no-untyped-def]
    """A new bin longer than any before, from 100 days back to now: it ends after the stream's last
    point, but starts long before the months an incremental read looks at."""
    s = StreamMetadata.__table__.c
    with metadata_engine.begin() as conn:
        row = conn.execute(select(s.id, s.subsite, s.node, s.sensor, s.method, s.stream, s.count)
                           .where(s.method == "streamed").order_by(s.id).limit(1)).one()  # fmt: skip
        first, last = datetime_to_ntp(now - timedelta(days=100)), datetime_to_ntp(now - timedelta(minutes=1))
        conn.execute(insert(PartitionMetadata.__table__).values(
            id=_next_id(conn), subsite=row.subsite, node=row.node, sensor=row.sensor, method=row.method,
            stream=row.stream, store="zz-recovered", bin=int(first), count=700, first=first, last=last,
        ))  # fmt: skip
        conn.execute(
            update(StreamMetadata.__table__).where(s.id == row.id).values(count=row.count + 700, last=last)
        )
    return (f"{row.subsite}-{row.node}-{row.sensor}", row.method, row.stream)


def test_a_new_bin_reaching_back_further_than_any_before_is_found(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    """The incremental read skips bins that start too early to reach its months (on PostgreSQL,
    by the longest bin span seen); a new longer one is still counted: the stream is recomputed whole."""
    strict = db_settings.replace(COVERAGE_OPEN_DEPLOYMENT_SECONDS=3600)
    databases, sources, _ = _sources(strict)
    later = now + timedelta(minutes=10)
    try:
        _build(databases, sources, now, strict)
        states = _states(monitor_db.engine)
        spans = [state.longest_bin for state in states.values()]
        if monitor_db.engine.dialect.name == "postgresql":
            assert all(span is not None and 0 < span < 100 * DAY for span in spans)
        moved = _long_bin(metadata_db.engine, later)
        report = _build(databases, sources, later, strict)
        assert (report.streams, report.whole) == (1, 1)
        incremental = _rows(monitor_db.engine)
        after = _states(monitor_db.engine)[moved]
        _build(databases, sources, later, strict, everything=True)
        rebuilt = _rows(monitor_db.engine)
    finally:
        databases.dispose()
    _assert_same(incremental, rebuilt, skip=lambda key: key[:3] != moved)
    if monitor_db.engine.dialect.name == "postgresql":
        assert after.longest_bin == pytest.approx(100 * DAY - 60, abs=1)


def test_a_round_reads_and_writes_in_the_same_statements_for_one_moved_stream_or_many(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    """Set-based: the bins of every moved stream in one read, their rows in one write. (On SQLite
    the metadata reads go per instrument, in-process: only the monitor's statements are counted.)"""
    databases, sources, _ = _sources(db_settings)
    statements: list[str] = []
    counted_engines = [databases.monitor]
    if databases.metadata.dialect.name == "postgresql":
        counted_engines.append(databases.metadata)

    def count(*args) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    try:
        _build(databases, sources, now, db_settings)
        counted = []
        for n, streams in enumerate((1, 4)):
            later = now + timedelta(minutes=10 * (n + 1))
            _append_day(metadata_db.engine, later, streams=streams)
            statements.clear()
            for engine in counted_engines:
                event.listen(engine, "before_cursor_execute", count)
            try:
                report = _build(databases, sources, later, db_settings)
            finally:
                for engine in counted_engines:
                    event.remove(engine, "before_cursor_execute", count)
            assert report.streams == streams
            counted.append(len(statements))
    finally:
        databases.dispose()
    assert counted[0] == counted[1]


def test_the_upkeep_moves_the_data_revision_when_it_writes(  # type: ignore[no-untyped-def]
    metadata_db, monitor_db, db_settings, now: datetime
) -> None:
    databases, sources, _ = _sources(db_settings)
    try:
        with Session(monitor_db.engine) as session:
            before = revision.current(session)
        _build(databases, sources, now, db_settings)
        with Session(monitor_db.engine) as session:
            built = revision.current(session)
        assert _build(databases, sources, now + timedelta(minutes=1), db_settings).streams == 0
        with Session(monitor_db.engine) as session:
            idle = revision.current(session)
        _append_day(metadata_db.engine, now + timedelta(minutes=2), streams=1)
        _build(databases, sources, now + timedelta(minutes=2), db_settings)
        with Session(monitor_db.engine) as session:
            moved = revision.current(session)
    finally:
        databases.dispose()
    assert before < built == idle < moved


def test_nothing_moved_nothing_done_and_gone_streams_are_removed(
    metadata_db, monitor_db, db_settings, now
) -> None:  # type: ignore[no-untyped-def]
    databases, sources, _ = _sources(db_settings)
    try:
        _build(databases, sources, now, db_settings)
        assert _build(databases, sources, now + timedelta(minutes=1), db_settings).streams == 0
        s = StreamMetadata.__table__.c
        with metadata_db.engine.begin() as conn:
            gone = conn.execute(select(s.subsite, s.node, s.sensor, s.method, s.stream).limit(1)).one()
            conn.execute(
                StreamMetadata.__table__.delete().where(s.stream == gone.stream, s.sensor == gone.sensor)
            )
        report = _build(databases, sources, now + timedelta(minutes=2), db_settings)
        # A day later every stream is due for its refresh.
        refreshed = _build(databases, sources, now + timedelta(days=1, minutes=3), db_settings)
    finally:
        databases.dispose()
    assert report.removed == 1 and report.streams == 0
    assert refreshed.streams == refreshed.whole > 0
    refdes = f"{gone.subsite}-{gone.node}-{gone.sensor}"
    assert not [key for key in _rows(monitor_db.engine) if key[:3] == (refdes, gone.method, gone.stream)]


def test_the_budget_bounds_a_round(metadata_db, monitor_db, db_settings, now: datetime) -> None:  # type: ignore[no-untyped-def]
    databases, sources, _ = _sources(db_settings)
    try:
        report = run_upkeep(databases.monitor_session, sources, now, db_settings, deadline=0.0)
        assert (report.instruments, report.remaining) == (0, 12)
        rest = _build(databases, sources, now, db_settings)
        assert rest.instruments == 12
    finally:
        databases.dispose()


def _states(engine) -> dict[tuple, CoverageStream]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return {(s.refdes, s.method, s.stream): s for s in session.scalars(select(CoverageStream))}
