"""The availability rules on PostgreSQL's path (the database does the per-bin work that needs no
neighbour and returns each bin's points and the candidates) give the same spans as the Python path
over every bin, or decline (then the bins are read): over the property tests' inputs, edge cases
and ooi-10y."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert
from test_availability_properties import scenarios

from ooi_status import demo
from ooi_status.api.availability import engine_deployments
from ooi_status.availability.engine import (
    NOT_EXPECTED,
    PRESENT,
    Bin,
    Rules,
    Span,
    Window,
    resolve_window,
    stream_spans,
    summary_spans,
)
from ooi_status.model.metadata import PartitionMetadata
from ooi_status.sources.base import StreamRow
from ooi_status.sources.postgres import PostgresDeploymentSource, PostgresStreamSource
from ooi_status.times import datetime_to_ntp

REFDES = "CE02SHBP-LJ01D-06-CTDBPN106"
PARTS = {"subsite": "CE02SHBP", "node": "LJ01D", "sensor": "06-CTDBPN106"}
KEY = ("streamed", "ctdbp_no_sample")
RULES = Rules()

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_metadata(empty_metadata_db):  # type: ignore[no-untyped-def]
    """The metadata tables on PostgreSQL (the path exists only there; see the parametrize marks)."""
    return empty_metadata_db


def write_bins(engine, bins, copies=(), shuffled=False) -> None:  # type: ignore[no-untyped-def]
    """One stream's bins in store "cass", numbered in first-point order (as real bins are) or,
    ``shuffled``, in their order in ``bins``; ``copies``: a different row for some bins in store
    "san" (the reader keeps "cass")."""
    rows = []
    finite = [b.first for b in bins if math.isfinite(b.first)]
    lowest = math.floor(min(finite, default=0.0))
    order = (
        list(range(len(bins)))
        if shuffled
        else sorted(range(len(bins)), key=lambda i: (bins[i].first, bins[i].last, bins[i].points))
    )
    for rank, index in enumerate(order):
        b = bins[index]
        number = lowest - len(bins) + rank  # unique, and before every first point: in the reader's range
        row = {**PARTS, "method": KEY[0], "stream": KEY[1], "bin": number}
        rows.append({**row, "store": "cass", "count": b.points, "first": b.first, "last": b.last})
        if index in copies:
            rows.append({**row, "store": "san", "count": b.points + 5, "first": b.first - 1, "last": b.last})
    with engine.begin() as conn:
        conn.execute(delete(PartitionMetadata))
        if rows:
            conn.execute(insert(PartitionMetadata), rows)


def stream_row(points: int | None) -> StreamRow:
    return StreamRow(PARTS["subsite"], PARTS["node"], PARTS["sensor"], *KEY, points, None, None)


def sql_spans(source, points, deployments, window, rules=RULES):  # type: ignore[no-untyped-def]
    """The SQL path's spans, or None when it declines."""
    found = source.summaries(REFDES, [stream_row(points)], window, rules)
    return summary_spans(found[KEY], deployments, window, rules)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    scenario=scenarios(),
    copies=st.sets(st.integers(0, 40), max_size=5),
    shuffled=st.booleans(),
    metadata=st.sampled_from(["sum", "third", "tenfold", "one", "none"]),
    rules=st.sampled_from([RULES, Rules(sparse_min=0.8, sparse_mid=1.2), Rules(min_bins_for_gaps=3)]),
)
def test_sql_and_python_paths_give_identical_spans(pg_metadata, scenario, copies, shuffled, metadata, rules):
    bins, deployments, window = scenario
    copies = {index for index in copies if index < len(bins)}
    write_bins(pg_metadata.engine, bins, copies, shuffled)
    source = PostgresStreamSource(pg_metadata.engine)
    # The Python path: every bin the reader returns (a copy in another store may overlap the
    # window where the first store's row does not: then the reader keeps the copy).
    read = source.bins(REFDES, [KEY], window.start, window.stop).get(KEY, [])
    python = stream_spans(read, deployments, window, rules)
    # The stream row's count: the bins' (as the metadata agree), or one that is not.
    total = sum(b.points for b in bins)
    points = {"sum": total, "third": total // 3, "tenfold": 10 * total, "one": 1, "none": None}[metadata]
    decided = sql_spans(source, points, deployments, window, rules)
    event("declined" if decided is None else "decided")
    assert decided is None or decided == python
    if not copies and (metadata in ("sum", "tenfold", "none") or points == 0):
        assert decided == python, "a stream from one store that the metadata count bounds is decided"
    if not copies:
        assert python == stream_spans(bins, deployments, window, rules)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_identical_spans_on_ooi_10y_whole_and_cut_windows_and_other_rules(pg_metadata):
    obs = demo.ten_year_observatory()
    demo.write_observatory(pg_metadata.engine, obs)
    source = PostgresStreamSource(pg_metadata.engine)
    rows = sorted(source.streams(refdes=[demo.TEN_YEAR_REFDES]), key=lambda row: (row.method, row.stream))
    keys = [(row.method, row.stream) for row in rows]
    now = datetime_to_ntp(datetime(2025, 1, 1, tzinfo=UTC))
    deployments = engine_deployments(
        PostgresDeploymentSource(pg_metadata.engine).deployments(demo.TEN_YEAR_REFDES)
    )
    whole = resolve_window(deployments, None, None, now, None)
    windows = [
        whole,
        Window(now - 400 * 86_400 + 0.5, now - 30 * 86_400 - 0.25),
        Window(now - 12 * 86_400, now),
    ]
    for rules in (RULES, Rules(gap_threshold_fraction=0.0001, sparse_min=0.8), Rules(min_bins_for_gaps=5000)):
        for window in windows:
            assert window is not None
            found = source.summaries(demo.TEN_YEAR_REFDES, rows, window, rules)
            every = source.bins(demo.TEN_YEAR_REFDES, keys, window.start, window.stop)
            assert set(found) == set(every) == set(keys)
            for key in keys:
                expected = stream_spans(every[key], deployments, window, rules)  # columns (BinTable)
                assert stream_spans(list(every[key]), deployments, window, rules) == expected  # rows
                # the metadata agree (one store, stream counts bounding the bins'): always decided
                assert summary_spans(found[key], deployments, window, rules) == expected, (key, window, rules)
                assert found[key].kept == len(every[key]) and len(expected) > 1
            if rules == RULES and window == whole:
                # the point of the path: over the whole time only a small fraction of the bins comes
                # back whole (the others as their first and last point)
                assert all(len(found[key].candidates.firsts) < len(every[key]) / 10 for key in keys)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_dense_stream_without_gap_or_sparse_bin_is_one_present_span(pg_metadata):
    start = 3_700_000_000.0
    bins = [Bin(start + k * 86_400 + 10, start + (k + 1) * 86_400 - 10, 86_000) for k in range(100)]
    write_bins(pg_metadata.engine, bins)
    window = Window(start, start + 100 * 86_400)
    found = PostgresStreamSource(pg_metadata.engine).summaries(REFDES, [stream_row(8_600_000)], window, RULES)
    assert found[KEY].kept == 100 and len(found[KEY].candidates.firsts) == 0
    spans = summary_spans(found[KEY], [], window, RULES)
    assert spans == stream_spans(bins, [], window, RULES)
    assert Span(bins[0].first, bins[-1].last, PRESENT) in spans


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_gaps_at_exactly_the_threshold_and_zero_count_bins_across_deployments(pg_metadata):
    """A hole of exactly the threshold is no gap, one a second longer is; zero-count bins; a
    deployment boundary inside the data and an open deployment."""
    from ooi_status.availability.engine import Deployment

    start, day = 3_700_000_000.0, 86_400.0
    window = Window(start, start + 1000 * day)
    threshold = (window.stop - window.start) * RULES.gap_threshold_fraction
    bins, cursor = [], start - day / 2  # the first bin straddles the window's start
    for k in range(200):
        bins.append(Bin(cursor, cursor + day, 0 if k % 7 == 3 else 50_000))
        hole = threshold if k == 50 else threshold + 1.0 if k == 120 else 0.0
        cursor += day + hole
    write_bins(pg_metadata.engine, bins)
    deployments = [Deployment(1, start, start + 100 * day), Deployment(2, start + 100 * day, None)]
    source = PostgresStreamSource(pg_metadata.engine)
    decided = sql_spans(source, sum(b.points for b in bins), deployments, window)
    expected = stream_spans(bins, deployments, window, RULES)
    assert decided == expected
    gaps = [span for span in expected if span.category == "missing" and span.stop < bins[-1].last]
    assert [(g.start, g.stop) for g in gaps] == [(bins[120].last, bins[121].first)]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_one_bin_and_no_bin_in_the_window(pg_metadata):
    start = 3_700_000_000.0
    window = Window(start, start + 86_400)
    source = PostgresStreamSource(pg_metadata.engine)
    for bins in ([Bin(start + 100, start + 200, 5)], [Bin(start - 100, start + 50_000, 5)]):
        write_bins(pg_metadata.engine, bins)  # one bin (the sparse branch), inside or across the start
        decided = sql_spans(source, 5, [], window)
        assert decided == stream_spans(bins, [], window, RULES) and len(decided) > 1
    write_bins(pg_metadata.engine, [Bin(start - 500, start - 100, 5)])
    found = source.summaries(REFDES, [stream_row(5)], window, RULES)
    assert found[KEY].kept == 0
    assert summary_spans(found[KEY], [], window, RULES) == [Span(window.start, window.stop, NOT_EXPECTED)]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_what_the_summary_cannot_decide_is_declined(pg_metadata):
    start = 3_700_000_000.0
    bins = [Bin(start + k * 3_600, start + k * 3_600 + 3_000, 3_000) for k in range(48)]
    window = Window(start, start + 48 * 3_600)
    source = PostgresStreamSource(pg_metadata.engine)
    points = sum(b.points for b in bins)
    write_bins(pg_metadata.engine, bins)
    assert sql_spans(source, points, [], window) == stream_spans(bins, [], window, RULES)
    # rows of some bins in a second store
    write_bins(pg_metadata.engine, bins, copies={3, 9})
    found = source.summaries(REFDES, [stream_row(points)], window, RULES)
    assert found[KEY].stores == 2 and summary_spans(found[KEY], [], window, RULES) is None
    # a point that is not a number
    write_bins(pg_metadata.engine, [*bins[:-1], Bin(bins[-1].first, math.nan, 3_000)])
    assert sql_spans(source, points, [], window) is None
    # a stream row whose count is below the bins': a bin left out could be sparse
    write_bins(pg_metadata.engine, bins)
    assert sql_spans(source, points // 2, [], window) is None
    # no count in the stream row: every bin of several points is a candidate
    for points in (None, 0, -4):
        found = source.summaries(REFDES, [stream_row(points)], window, RULES)
        assert found[KEY].floor == 0.0 and len(found[KEY].candidates.firsts) == len(bins)
        assert summary_spans(found[KEY], [], window, RULES) == stream_spans(bins, [], window, RULES)
    assert source.summaries(REFDES, [stream_row(points)], Window(window.start, window.start), RULES) == {}
