"""The availability rules on PostgreSQL's path (the database prunes the bins) give the same spans
as the Python path over every bin, over the property tests' inputs and over ooi-10y."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert
from test_availability_properties import scenarios

from ooi_status import demo
from ooi_status.api.availability import engine_deployments
from ooi_status.availability.engine import Rules, Window, resolve_window, stream_spans, summary_spans
from ooi_status.model.metadata import PartitionMetadata
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


def write_bins(engine, bins, copies, shuffled=False) -> None:  # type: ignore[no-untyped-def]
    """One stream's bins in store "cass", numbered in first-point order (as real bins are) or,
    ``shuffled``, in their order in ``bins``; ``copies``: a different row for some bins in store
    "san" (the reader keeps "cass")."""
    rows = []
    lowest = math.floor(min((b.first for b in bins), default=0.0))
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


def sql_spans(source, deployments, window, rules=RULES):  # type: ignore[no-untyped-def]
    found = source.summaries(REFDES, [KEY], window, rules)
    return summary_spans(found.get(KEY), deployments, window, rules)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(scenario=scenarios(), copies=st.sets(st.integers(0, 40), max_size=5), shuffled=st.booleans())
def test_sql_and_python_paths_give_identical_spans(pg_metadata, scenario, copies, shuffled):
    bins, deployments, window = scenario
    write_bins(pg_metadata.engine, bins, copies, shuffled)
    source = PostgresStreamSource(pg_metadata.engine)
    # The Python path: every bin the reader returns (a copy in another store may overlap the
    # window where the first store's row does not: then the reader keeps the copy, both paths do).
    read = source.bins(REFDES, [KEY], window.start, window.stop).get(KEY, [])
    python = stream_spans(read, deployments, window, RULES)
    assert sql_spans(source, deployments, window) == python
    if not copies:
        assert python == stream_spans(bins, deployments, window, RULES)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_identical_spans_on_ooi_10y_whole_and_cut_windows_and_other_rules(pg_metadata):
    obs = demo.ten_year_observatory()
    demo.write_observatory(pg_metadata.engine, obs)
    source = PostgresStreamSource(pg_metadata.engine)
    keys = sorted({(row.method, row.stream) for row in source.streams(refdes=[demo.TEN_YEAR_REFDES])})
    now = datetime_to_ntp(datetime(2025, 1, 1, tzinfo=UTC))
    deployments = engine_deployments(
        PostgresDeploymentSource(pg_metadata.engine).deployments(demo.TEN_YEAR_REFDES)
    )
    windows = [
        resolve_window(deployments, None, None, now, None),
        Window(now - 400 * 86_400 + 0.5, now - 30 * 86_400 - 0.25),
        Window(now - 12 * 86_400, now),
    ]
    for rules in (RULES, Rules(gap_threshold_fraction=0.0001, sparse_min=0.8), Rules(min_bins_for_gaps=5000)):
        for window in windows:
            assert window is not None
            found = source.summaries(demo.TEN_YEAR_REFDES, keys, window, rules)
            every = source.bins(demo.TEN_YEAR_REFDES, keys, window.start, window.stop)
            assert set(found) == set(every) == set(keys)
            for key in keys:
                expected = stream_spans(every[key], deployments, window, rules)  # columns (BinTable)
                assert stream_spans(list(every[key]), deployments, window, rules) == expected  # rows
                assert summary_spans(found[key], deployments, window, rules) == expected, (key, window, rules)
                assert len(expected) > 1
            dense = [key for key in keys if not found[key].complete]
            if rules == RULES and window.stop - window.start > 300 * 86_400:
                # the point of the path: a dense stream comes back as a small fraction of its bins
                assert dense and all(len(found[key].bins) < len(every[key]) / 5 for key in dense)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_dense_stream_without_gap_or_sparse_bin_is_one_present_span(pg_metadata):
    from ooi_status.availability.engine import PRESENT, Bin, Span

    start = 3_700_000_000.0
    bins = [Bin(start + k * 86_400 + 10, start + (k + 1) * 86_400 - 10, 86_000) for k in range(100)]
    write_bins(pg_metadata.engine, bins, set())
    window = Window(start, start + 100 * 86_400)
    found = PostgresStreamSource(pg_metadata.engine).summaries(REFDES, [KEY], window, RULES)
    assert len(found[KEY].bins) == 1 and not found[KEY].complete
    spans = summary_spans(found[KEY], [], window, RULES)
    assert spans == stream_spans(bins, [], window, RULES)
    assert Span(bins[0].first, bins[-1].last, PRESENT) in spans
