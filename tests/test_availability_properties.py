"""Invariants of the availability rules over generated bins, deployments and windows."""

from __future__ import annotations

import os
import time
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ooi_status.availability.engine import (
    CATEGORIES,
    MISSING,
    NOT_EXPECTED,
    PRESENT,
    SPARSE1,
    SPARSE2,
    SPARSE3,
    Bin,
    Deployment,
    Rules,
    Span,
    Window,
    deployment_spans,
    is_dense,
    resolve_window,
    stream_spans,
)
from ooi_status.times import format_ntp

BASE = 3_700_000_000.0
DAY = 86_400.0
HOUR = 3_600.0
RULES = Rules()

fractions = st.floats(-0.2, 1.2, allow_nan=False)


@st.composite
def windows(draw: st.DrawFn) -> Window:
    start = BASE + draw(st.floats(-1e8, 1e8, allow_nan=False))
    length = draw(st.sampled_from([1_000_000.0, 31_536_000.0]) | st.floats(1.0, 1e9))
    return Window(start, start + length)


@st.composite
def scattered_bins(draw: st.DrawFn, window: Window) -> list[Bin]:
    """Bins anywhere around the window, overlapping or not, in any order."""
    length = window.stop - window.start
    counts = draw(st.sampled_from([st.integers(0, 3), st.integers(0, 200_000)]))
    bins = []
    for _ in range(draw(st.integers(0, 30))):
        first = window.start + draw(fractions) * length
        extent = draw(st.just(0.0) | st.floats(0.0, 0.3)) * length
        bins.append(Bin(first, first + extent, draw(counts)))
    return bins


@st.composite
def running_bins(draw: st.DrawFn, window: Window) -> list[Bin]:
    """Consecutive bins with holes around the gap threshold: the dense branch's territory."""
    length = window.stop - window.start
    threshold = length * RULES.gap_threshold_fraction
    cursor = window.start - draw(st.floats(0.0, 0.05)) * length
    bins = []
    for _ in range(draw(st.integers(1, 40))):
        extent = draw(st.floats(0.0, 0.05)) * length
        count = draw(st.integers(0, 100_000))
        bins.append(Bin(cursor, cursor + extent, count))
        hole = draw(st.sampled_from([0.0, threshold, 2 * threshold]) | st.floats(0.0, 3 * threshold))
        cursor += extent + hole
    return bins


@st.composite
def deployments_for(draw: st.DrawFn, window: Window) -> list[Deployment]:
    length = window.stop - window.start
    deployments = []
    for number in range(1, draw(st.integers(0, 4)) + 1):
        start = window.start + draw(st.floats(-0.5, 1.5)) * length
        stop = None if draw(st.booleans()) else start + draw(st.floats(0.0, 1.0)) * length
        deployments.append(Deployment(number, start, stop))
    return deployments


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Bin], list[Deployment], Window]:
    window = draw(windows())
    bins = draw(scattered_bins(window) | running_bins(window))
    return bins, draw(deployments_for(window)), window


def assert_well_formed(spans: list[Span], window: Window, deployments: list[Deployment] = ()) -> None:
    assert spans, "a non-empty window always gets spans"
    assert spans[0].start == window.start and spans[-1].stop == window.stop
    for span in spans:
        assert span.start < span.stop
        assert window.start <= span.start and span.stop <= window.stop
        assert span.category in CATEGORIES
    for before, after in zip(spans, spans[1:], strict=False):
        assert before.stop == after.start, "sorted, not overlapping, no hole"
        if before.category == after.category:
            boundaries = {t for d in deployments for t in (d.start, d.stop)}
            assert before.stop in boundaries, (
                "neighbours of one category merge except at a deployment boundary"
            )


def label_at(spans: list[Span], moment: float) -> str:
    return spans[bisect_right([s.start for s in spans], moment) - 1].category


def midpoints(*results: list[Span]) -> list[float]:
    """One instant inside every piece that the boundaries of all results cut the window into."""
    edges = sorted({edge for spans in results for s in spans for edge in (s.start, s.stop)})
    return [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False) if a < (a + b) / 2 < b]


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_spans_are_sorted_disjoint_inside_the_window_and_merged(scenario):
    bins, deployments, window = scenario
    assert_well_formed(stream_spans(bins, deployments, window, RULES), window, deployments)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.data())
def test_result_does_not_depend_on_the_order_of_the_bins(scenario, data):
    bins, deployments, window = scenario
    shuffled = data.draw(st.permutations(bins))
    assert stream_spans(shuffled, deployments, window, RULES) == stream_spans(
        bins, deployments, window, RULES
    )


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_not_expected_exactly_outside_deployments(scenario):
    bins, deployments, window = scenario
    spans = stream_spans(bins, deployments, window, RULES)
    assume(deployments and any(b.last > window.start and b.first < window.stop for b in bins))
    covered = deployment_spans(deployments, window)
    for moment in midpoints(spans):
        deployed = any(start <= moment < stop for start, stop, _ in covered)
        assert (label_at(spans, moment) == NOT_EXPECTED) is not deployed


@st.composite
def year_of_daily_bins(draw: st.DrawFn) -> tuple[list[Bin], list[Deployment], float]:
    """365 days of daily bins without holes; deployments on whole hours, apart or abutting.

    Bins run from 00:30 to 00:29:59 the next day (one point per count-th of a day), so neither a
    deployment boundary nor now falls on a bin edge; the bins cover the whole year.
    """
    count = draw(st.integers(1_000, 86_400))
    bins = [Bin(BASE + k * DAY + 1_800, BASE + (k + 1) * DAY + 1_799, count) for k in range(-1, 365)]
    open_last = draw(st.booleans())
    hours = draw(st.integers(30 * 24, 365 * 24))  # at least 30 days: more than 10 bins
    offset = 365 * 24 - hours if open_last else draw(st.integers(0, 365 * 24 - hours))
    inner = draw(st.lists(st.integers(1, hours - 1), unique=True, max_size=6))
    if draw(st.booleans()):  # deployments apart from each other
        edges = [0, *sorted(inner[: len(inner) // 2 * 2]), hours]
        pairs = zip(edges[::2], edges[1::2], strict=True)
    else:  # each deployment starts where the previous one stopped
        edges = [0, *sorted(inner), hours]
        pairs = zip(edges, edges[1:], strict=False)
    deployments = []
    for number, (start, stop) in enumerate(pairs, start=1):
        deployments.append(Deployment(number, BASE + (offset + start) * HOUR, BASE + (offset + stop) * HOUR))
    if open_last:
        last = deployments[-1]
        deployments[-1] = Deployment(last.number, last.start, None)
    return bins, deployments, BASE + 365 * DAY


@settings(max_examples=100, deadline=None)
@given(year_of_daily_bins())
def test_a_year_of_daily_bins_is_one_present_span_per_deployment(scenario):
    bins, deployments, now = scenario
    window = resolve_window(deployments, None, None, now, None)
    assert window is not None
    spans = stream_spans(bins, deployments, window, RULES)
    expected: list[Span] = []
    for start, stop, _ in deployment_spans(deployments, window):
        if expected and expected[-1].stop < start:
            expected.append(Span(expected[-1].stop, start, NOT_EXPECTED))
        expected.append(Span(start, stop, PRESENT))
    assert sum(span.category == PRESENT for span in expected) == len(deployments)
    assert spans == expected


# Removing bins lowers the total count, so the mean interval grows and every remaining bin's
# ratio shrinks; the Missing time of the dense branch is the window outside the bins' extents
# minus holes of at most the threshold, and that of the sparse branch the window outside the
# widened bins: both only grow as bins go. So, within one branch, every instant moves down this
# chain or stays: Sparsity Level 3 → 2 → 1 → Present → Missing. Missing time never becomes data
# time. Not Expected time does not change while some bin remains in the window. (Across a branch
# switch nothing of the kind holds: widened bins can cover what was a Missing gap.)
CHAIN = {MISSING: 0, PRESENT: 1, SPARSE1: 2, SPARSE2: 3, SPARSE3: 4}


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_removing_bins_never_turns_missing_into_data(scenario, data):
    bins, deployments, window = scenario
    keep = data.draw(st.lists(st.booleans(), min_size=len(bins), max_size=len(bins)))
    fewer = [b for b, kept in zip(bins, keep, strict=True) if kept]
    assume(any(b.last > window.start and b.first < window.stop for b in fewer))
    assume(is_dense(bins, window, RULES) == is_dense(fewer, window, RULES))
    before = stream_spans(bins, deployments, window, RULES)
    after = stream_spans(fewer, deployments, window, RULES)
    for moment in midpoints(before, after):
        was, now = label_at(before, moment), label_at(after, moment)
        assert (was == NOT_EXPECTED) == (now == NOT_EXPECTED)
        if was != NOT_EXPECTED:
            assert CHAIN[now] <= CHAIN[was], f"{was} became {now} at {moment}"
            assert was != MISSING or now == MISSING


@contextmanager
def time_zone(name: str) -> Iterator[None]:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


@settings(max_examples=50, deadline=None)
@given(scenarios())
def test_result_does_not_depend_on_the_machine_time_zone(scenario):
    bins, deployments, window = scenario

    def rendered() -> list[tuple[str, str, str]]:
        spans = stream_spans(bins, deployments, window, RULES)
        return [(format_ntp(s.start), s.category, format_ntp(s.stop)) for s in spans]

    with time_zone("UTC"):
        in_utc = rendered()
    for name in ("America/New_York", "Asia/Kolkata"):
        with time_zone(name):
            assert rendered() == in_utc


@settings(max_examples=100, deadline=None)
@given(windows(), st.data())
def test_resolved_window_is_empty_or_inside_deployments_and_before_now(window, data):
    deployments = data.draw(deployments_for(window))
    now = window.stop
    requested_start = data.draw(st.none() | st.floats(window.start - 1e7, window.stop + 1e7))
    requested_stop = data.draw(st.none() | st.floats(window.start - 1e7, window.stop + 1e7))
    resolved = resolve_window(deployments, requested_start, requested_stop, now, window.start)
    # The bounds of the window: now and the request's; with deployments their hull, without
    # them the earliest data when the request gives no start.
    lower = [] if requested_start is None else [requested_start]
    upper = [now] if requested_stop is None else [now, requested_stop]
    if deployments:
        lower.append(min(d.start for d in deployments))
        upper.append(max(now if d.stop is None else d.stop for d in deployments))
    elif requested_start is None:
        lower.append(window.start)
    if resolved is None:  # empty: no instant meets every bound
        assert max(lower) >= min(upper)
    else:
        assert (resolved.start, resolved.stop) == (max(lower), min(upper))
        assert resolved.start < resolved.stop <= now
        if deployments:
            assert resolved.start >= min(d.start for d in deployments)
            assert any(d.stop is None or d.stop >= resolved.stop for d in deployments)
        if requested_start is not None:
            assert resolved.start >= requested_start
        if requested_stop is not None:
            assert resolved.stop <= requested_stop


def test_bins_sharing_a_first_point_give_the_same_spans_in_any_order():
    """Ties on ``first`` (many one-point bins at one instant) must not make the order matter."""
    window = Window(0.0, 100_000.0)
    bins = [Bin(10.0 * i, 10.0 * i + 5, 50) for i in range(20)]
    bins += [Bin(50.0, 50.0, 3), Bin(50.0, 90.0, 700), Bin(50.0, 60.0, 1), Bin(50.0, 60.0, 9)]
    expected = stream_spans(sorted(bins, key=lambda b: (b.first, b.last, b.points)), [], window, RULES)
    for shift in range(len(bins)):
        rotated = bins[shift:] + bins[:shift]
        assert stream_spans(rotated, [], window, RULES) == expected
        assert stream_spans(rotated[::-1], [], window, RULES) == expected
