"""The availability rules over bins given as columns (BinColumns, numpy arrays: the PostgreSQL
reader's form) give the same spans, float for float, as over the same bins one by one (the
SQLite and Cassandra readers' form): on the property tests' inputs, on inputs made to hit the
edges of the array code, and on ooi-10y."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_availability_properties import RULES, deployments_for, scenarios, windows

from ooi_status import demo
from ooi_status.api.availability import engine_deployments
from ooi_status.availability.engine import (
    NOT_EXPECTED,
    PRESENT,
    Bin,
    BinColumns,
    Deployment,
    Rules,
    Span,
    Window,
    is_dense,
    resolve_window,
    stream_spans,
)
from ooi_status.sources.base import DeploymentRow
from ooi_status.times import datetime_to_ntp

OTHER_RULES = [
    RULES,
    Rules(gap_threshold_fraction=0.0001, sparse_min=0.8),
    Rules(min_bins_for_gaps=5000),
    Rules(min_bins_for_gaps=0, sparse_min=1.2, sparse_mid=1.3, sparse_max=1.4),
]


def assert_same(bins: list[Bin], deployments: list[Deployment], window: Window, rules: Rules = RULES) -> None:
    expected = stream_spans(bins, deployments, window, rules)
    assert stream_spans(BinColumns.of(bins), deployments, window, rules) == expected
    assert is_dense(BinColumns.of(bins), window, rules) == is_dense(bins, window, rules)


@settings(max_examples=400, deadline=None)
@given(scenarios(), st.sampled_from(OTHER_RULES), st.data())
def test_columns_and_rows_give_identical_spans(scenario, rules, data):
    bins, deployments, window = scenario
    assert_same(bins, deployments, window, rules)
    assert_same(data.draw(st.permutations(bins)), deployments, window, rules)


@st.composite
def crowded(draw: st.DrawFn) -> tuple[list[Bin], list[Deployment], Window]:
    """Bins on a coarse grid of instants, so that first points, last points and whole bins tie
    (the rules' order (first, last, points) decides), with counts 0, 1, 2 or large, some bins of
    no extent, some reaching across the window's ends; both branches."""
    window = draw(windows())
    length = window.stop - window.start
    grid = st.integers(-3, 23).map(lambda k: window.start + k * length / 20)
    bins = []
    for _ in range(draw(st.integers(0, 60))):
        first = draw(grid)
        extent = draw(st.sampled_from([0.0, length / 1e4, length / 20, length / 3]))
        bins.append(Bin(first, first + extent, draw(st.sampled_from([0, 1, 2, 3, 500, 100_000]))))
    return bins, draw(deployments_for(window)), window


@settings(max_examples=400, deadline=None)
@given(crowded(), st.sampled_from(OTHER_RULES))
def test_ties_zero_and_one_point_bins_and_bins_across_the_window_ends(scenario, rules):
    assert_same(*scenario, rules)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.lists(st.integers(2**62, 2**63 - 1), min_size=2, max_size=8))
def test_counts_whose_int64_sum_would_overflow_are_added_exactly(scenario, huge):
    bins, deployments, window = scenario
    inside = [
        Bin(window.start + (i + 1) * 1e-3, window.start + (i + 2) * 1e-3, c) for i, c in enumerate(huge)
    ]
    assert_same(bins + inside, deployments, window)


def test_the_edges_one_by_one():
    window = Window(1_000.0, 101_000.0)
    dense = [Bin(1_000.0 + 100 * k, 1_000.0 + 100 * k + 90, 90) for k in range(1000)]
    cases = [
        [],  # no bin at all
        [Bin(500.0, 900.0, 5)],  # none in the window
        [Bin(5_000.0, 5_000.0, 1)],  # one bin, one point
        [Bin(5_000.0, 9_000.0, 0)],  # one bin, no point: an infinite mean interval
        [Bin(0.0, 200_000.0, 10)],  # one bin around the whole window
        dense,
        dense[:500] + dense[520:],  # a gap
        dense[::-1],  # unsorted
        [*dense, Bin(50_000.0, 50_090.0, 2)],  # a sparse bin sharing its first point with another
        [b if k % 97 else Bin(b.first, b.last, 0) for k, b in enumerate(dense)],  # zero counts
        [Bin(b.first - 1_000, b.last - 1_000, b.points) for b in dense],  # cut by the window's start
    ]
    deployments = [[], [Deployment(1, 0.0, 40_000.0), Deployment(2, 40_000.0, None)]]
    for bins in cases:
        for deployed in deployments:
            for rules in OTHER_RULES:
                assert_same(bins, deployed, window, rules)
    assert stream_spans(BinColumns.of([]), [], window, RULES) == [Span(1_000.0, 101_000.0, NOT_EXPECTED)]
    # A dense bin whose ratio is exactly 1 is Present (reading 4): 1,024 bins of 128 points in 2**17 s.
    exact = [Bin(k * 128.0, k * 128.0 + (128.0 if k in (500, 1023) else 100.0), 128) for k in range(1024)]
    spans = stream_spans(BinColumns.of(exact), [], Window(0.0, 131_072.0), RULES)
    assert spans == stream_spans(exact, [], Window(0.0, 131_072.0), RULES) == [Span(0.0, 131_072.0, PRESENT)]
    assert stream_spans(BinColumns.of(dense), [], Window(5.0, 5.0), RULES) == []


def test_columns_of_other_dtypes_are_taken_as_float64_and_int64():
    columns = BinColumns(
        np.array([1, 2]), np.array([1.5, 2.5], dtype=np.float32), np.array([3, 4], dtype=np.int32)
    )
    assert (columns.firsts.dtype, columns.lasts.dtype, columns.counts.dtype) == (
        np.float64,
        np.float64,
        np.int64,
    )
    with pytest.raises(ValueError, match="one entry per bin"):
        BinColumns(np.zeros(2), np.zeros(3), np.zeros(2, dtype=np.int64))


def test_identical_spans_on_ooi_10y():
    obs = demo.ten_year_observatory(other_instruments=0)
    rows = [r for r in obs.partitions if f"{r['subsite']}-{r['node']}-{r['sensor']}" == demo.TEN_YEAR_REFDES]
    streams: dict[tuple[str, str], list[Bin]] = {}
    for r in rows:
        streams.setdefault((r["method"], r["stream"]), []).append(Bin(r["first"], r["last"], r["count"]))
    events = {e["eventid"]: e for e in obs.events}
    deployed = engine_deployments(
        [
            DeploymentRow(
                d["deploymentnumber"],
                events[d["eventid"]]["eventstarttime"],
                events[d["eventid"]]["eventstoptime"],
            )
            for d in obs.deployments
            if f"{d['subsite']}-{d['node']}-{d['sensor']}" == demo.TEN_YEAR_REFDES
        ]
    )
    now = datetime_to_ntp(datetime(2025, 1, 1, tzinfo=UTC))
    whole = resolve_window(deployed, None, None, now, None)
    assert whole is not None and len(streams) == 8
    windows = [
        whole,
        Window(now - 400 * 86_400 + 0.5, now - 30 * 86_400 - 0.25),
        Window(now - 12 * 86_400, now),
    ]
    for rules in OTHER_RULES:
        for window in windows:
            for bins in streams.values():
                assert len(stream_spans(bins, deployed, window, rules)) > 1
                assert_same(bins, deployed, window, rules)
