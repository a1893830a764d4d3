"""Data availability: bin metadata and deployments → timeline spans (spec/AVAILABILITY.md).

Pure rules: no I/O, no clock, no time zone. Every time here is NTP seconds (float), the unit
bins are stored in, so that the ~29,000 bins of one request are handled without conversions;
callers convert at the boundary with ``ooi_status.times``. Categories are keys (``present``,
``missing``, ``not_expected``, ``sparse1``-``sparse3``); display labels come from the setting
AVAILABILITY_LABELS when serialized.

Readings of the spec where it leaves room (tests/test_availability.py holds an example of each):

1. Bins. Only bins overlapping the window (``last > start`` and ``first < stop``) are used, in
   any order (sorted by first here). The "total count in the window" of rule 1 counts a bin
   lying partly outside in proportion to its time inside, so that a window cutting through
   bins (a start_time or stop_time inside a bin) does not shrink the mean interval and make
   evenly sampled data look sparse. A bin's own separation, and its count towards
   MIN_BINS_FOR_GAPS, are whole. Spans are clipped to the window at the end.
2. Ratio. ``r = ((last - first) / count) / mean_interval``. A bin with count 0 or 1 has no
   separation: r = 0, never sparse. A stream whose bins hold no point at all has an infinite
   mean interval, which puts it in the sparse branch with every bin Present.
3. Levels. Level 1 for SPARSE_DATA_MIN ≤ r < SPARSE_DATA_MID, Level 2 up to SPARSE_DATA_MAX,
   Level 3 from there; below SPARSE_DATA_MIN the label is Present.
4. Dense branch (``mean_interval < threshold`` and more than MIN_BINS_FOR_GAPS bins). A bin is
   sparse when its separation is *greater than* the mean interval (r > 1 strictly) and is then
   labelled by the level table, so r == 1.0 is Present here but Level 1 in the sparse branch.
   A gap is measured from the latest ``last`` seen so far to the next ``first`` and is Missing
   when strictly greater than the threshold. A gap therefore never overlaps a bin: a sparse bin
   next to a gap keeps its whole span and the Missing span starts or ends at its edge.
5. Sparse branch. One span per bin, labelled by r (Present below SPARSE_DATA_MIN). A bin shorter
   than 2 × threshold becomes ``[first - threshold, max(last, first + threshold)]``: "first ±
   threshold", never shorter than the bin itself. Time covered by no (widened) bin, including
   before the first and after the last, is Missing, so that holes stay visible.
6. Overlaps. Where pieces overlap (overlapping bins, widened bins reaching into neighbours) the
   most severe label wins: Not Expected > Missing gap > Level 3 > Level 2 > Level 1 > Present >
   Missing by default. The result does not depend on the order of the input.
7. Deployments (rule 4). Intervals are united (overlaps allowed; an open deployment runs to the
   window's stop); window time outside the union is Not Expected and overrides every other
   label. With no deployment at all rule 4 does not apply: no Not Expected time.
8. A stream with no bin in the window gets one Not Expected span over the whole window, with or
   without deployments.
9. Rule 4 cuts spans at every deployment boundary inside the window, also where two
   deployments abut, and rule 5's merging never crosses such a cut: continuous data gives one
   Present span per deployment, as the Deployments row shows them.
10. An empty window (start ≥ stop) has no spans; ``resolve_window`` returns None for it.

Bins come one object per bin (any ``BinLike``) or as columns (``BinColumns``: numpy arrays, as the
PostgreSQL reader decodes them). Columns take the same rules with array operations instead of a
Python step per bin, and give the same spans, float for float: every per-bin quantity is one
elementwise IEEE operation (subtraction, division, comparison), computed alike by numpy and by
Python; the one sum over floats, rule 1's total count, is done by the same Python code on both
paths (the counts of the bins wholly inside are integers, summed exactly); only the few pieces
that come out (gaps, sparse bins) go through the same overlay. tests/test_availability_columns.py
compares both paths on generated inputs and on ooi-10y.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Floats = NDArray[np.float64]
    Counts = NDArray[np.int64]

PRESENT = "present"
MISSING = "missing"
NOT_EXPECTED = "not_expected"
SPARSE1 = "sparse1"
SPARSE2 = "sparse2"
SPARSE3 = "sparse3"
CATEGORIES = (PRESENT, MISSING, NOT_EXPECTED, SPARSE1, SPARSE2, SPARSE3)

# Overlay ranks: where pieces overlap the highest rank wins (reading 6 of the docstring).
_BACKGROUND, _PRESENT, _SPARSE1, _SPARSE2, _SPARSE3, _GAP, _NOT_EXPECTED = range(7)
_RANK_CATEGORY = (MISSING, PRESENT, SPARSE1, SPARSE2, SPARSE3, MISSING, NOT_EXPECTED)

_BY_TIME = attrgetter("first", "last", "points")  # a total order: ties never depend on input order


class BinLike(Protocol):
    """What the rules read of a bin: a Bin, or a source's row (ooi_status.sources.base.BinRow)."""

    @property
    def first(self) -> float: ...
    @property
    def last(self) -> float: ...
    @property
    def points(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Bin:
    """Metadata of one bin of one stream: its first and last point and how many points (the
    metadata's ``count``)."""

    first: float
    last: float
    points: int


class BinColumns:
    """A stream's bins as columns, in any order: ``firsts``, ``lasts`` (float64) and ``counts``
    (int64) of equal length, one entry per bin. ``stream_spans`` takes them (or a subclass that is
    also a sequence of rows, as ooi_status.sources.columns.BinTable) without a Python object per bin.
    """

    __slots__ = ("firsts", "lasts", "counts")

    def __init__(self, firsts: Floats, lasts: Floats, counts: Counts) -> None:
        if not len(firsts) == len(lasts) == len(counts):
            raise ValueError("the columns of bins must have one entry per bin each")
        self.firsts: Floats = np.asarray(firsts, dtype=np.float64)
        self.lasts: Floats = np.asarray(lasts, dtype=np.float64)
        self.counts: Counts = np.asarray(counts, dtype=np.int64)

    @classmethod
    def of(cls, bins: Sequence[BinLike]) -> BinColumns:
        """The columns of bins given one by one."""
        return cls(
            np.array([b.first for b in bins], dtype=np.float64),
            np.array([b.last for b in bins], dtype=np.float64),
            np.array([b.points for b in bins], dtype=np.int64),
        )


@dataclass(frozen=True, slots=True)
class Deployment:
    number: int
    start: float
    stop: float | None  # None: still deployed


@dataclass(frozen=True, slots=True)
class Window:
    start: float
    stop: float


class Span(NamedTuple):
    """One span of a timeline: [start, stop) of one category (a tuple with names: a request makes
    thousands of them)."""

    start: float
    stop: float
    category: str


_span = partial(tuple.__new__, Span)  # a Span from a 3-sequence, without a Python-level call


@dataclass(frozen=True, slots=True)
class Rules:
    gap_threshold_fraction: float = 0.001
    min_bins_for_gaps: int = 10
    sparse_min: float = 1.0
    sparse_mid: float = 1.5
    sparse_max: float = 2.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Rules:
        return cls(
            gap_threshold_fraction=float(settings["GAP_THRESHOLD_FRACTION"]),
            min_bins_for_gaps=int(settings["MIN_BINS_FOR_GAPS"]),
            sparse_min=float(settings["SPARSE_DATA_MIN"]),
            sparse_mid=float(settings["SPARSE_DATA_MID"]),
            sparse_max=float(settings["SPARSE_DATA_MAX"]),
        )


@dataclass(frozen=True, slots=True)
class StreamTimeline:
    method: str
    stream: str
    spans: Sequence[Span]

    @property
    def measure(self) -> str:
        return f"{self.method} {self.stream}"


@dataclass(frozen=True, slots=True)
class Timeline:
    """What one availability request answers: the window, the deployments row, one row per stream.

    ``window`` is None when nothing of the instrument lies in the requested window; then
    every row is empty. ``deployments`` are (start, stop, number), clipped and sorted.
    """

    refdes: str
    window: Window | None
    deployments: Sequence[tuple[float, float, int]]
    streams: Sequence[StreamTimeline]


def resolve_window(
    deployments: Sequence[Deployment],
    requested_start: float | None,
    requested_stop: float | None,
    now: float,
    earliest_data: float | None,
) -> Window | None:
    """The window of an availability request, or None when it is empty.

    stop: the request's, clamped to ``now`` (``now`` when absent). start: the request's, else the
    earliest deployment start, else ``earliest_data``. With deployments the window is narrowed to
    [earliest deployment start, latest deployment stop (``now`` when open)].
    """
    stop = now if requested_stop is None else min(requested_stop, now)
    start: float | None
    if deployments:
        first_start = min(d.start for d in deployments)
        last_stop = max(now if d.stop is None else d.stop for d in deployments)
        start = first_start if requested_start is None else max(requested_start, first_start)
        stop = min(stop, last_stop)
    else:
        start = earliest_data if requested_start is None else requested_start
    if start is None or not start < stop:
        return None
    return Window(start, stop)


def deployment_spans(deployments: Sequence[Deployment], window: Window) -> list[tuple[float, float, int]]:
    """(start, stop, number) of each deployment clipped to the window, sorted; open ones end at stop.

    Deployments that do not reach into the window are left out; overlapping ones are kept apart.
    """
    spans = []
    for deployment in deployments:
        start = max(deployment.start, window.start)
        stop = window.stop if deployment.stop is None else min(deployment.stop, window.stop)
        if start < stop:
            spans.append((start, stop, deployment.number))
    spans.sort()
    return spans


def sparsity_category(ratio: float, rules: Rules) -> str:
    """The level table: ``present`` below sparse_min, then ``sparse1``, ``sparse2``, ``sparse3``."""
    return _RANK_CATEGORY[_level_rank(ratio, rules)]


def separation_ratio(b: BinLike, mean_interval: float) -> float:
    """r = bin separation / mean interval; 0 for a bin of fewer than two points."""
    if b.points <= 1:
        return 0.0
    return (b.last - b.first) / b.points / mean_interval


def is_dense(bins: Sequence[BinLike] | BinColumns, window: Window, rules: Rules) -> bool:
    """Whether the stream's bins in the window take the dense-data branch (rule 2)."""
    if isinstance(bins, BinColumns):
        columns, total = _columns_in_window(bins, window)
        return _branch(len(columns[0]), total, window, rules)[0]
    kept, total = _bins_in_window(bins, window)
    return _branch(len(kept), total, window, rules)[0]


def stream_spans(
    bins: Sequence[BinLike] | BinColumns, deployments: Sequence[Deployment], window: Window, rules: Rules
) -> list[Span]:
    """Rules 1-5: the timeline of one stream over the window.

    Returns spans sorted, not overlapping, with start < stop, inside the window, covering all of
    it, with no two neighbours of the same category. Empty for an empty window. Bins given as
    ``BinColumns`` give the same spans with array operations.
    """
    if not window.start < window.stop:
        return []
    if isinstance(bins, BinColumns):
        return _column_spans(bins, deployments, window, rules)
    kept, total = _bins_in_window(bins, window)
    if not kept:
        return [Span(window.start, window.stop, NOT_EXPECTED)]
    dense, mean_interval, threshold = _branch(len(kept), total, window, rules)
    if dense:
        pieces = _dense_pieces(kept, mean_interval, threshold, rules)
    else:
        pieces = _sparse_pieces(kept, mean_interval, threshold, rules)
    pieces.append((window.start, window.stop, _BACKGROUND))
    pieces.extend(_not_expected_pieces(deployments, window))
    return _overlay(pieces, window, _deployment_cuts(deployments, window))


@dataclass(frozen=True, slots=True)
class BinSummary:
    """A stream's bins in a window after a database did the per-bin work that needs no neighbour
    (ooi_status.sources.postgres_summary): what rules 2 and 3 need of them, not every bin whole.

    ``kept``: the bins overlapping the window; ``inside_count``: the exact sum of the counts of
    those wholly inside it; ``firsts`` and ``lasts``: the first and last point of each of them, in
    any order (for the gaps and the Present stretch); ``candidates``: every bin reaching outside
    the window and every bin whose separation (last - first) / count is above ``floor``, whole.
    ``stores``: how many stores the rows came from (the rows of one bin held in several stores
    cannot be told apart here).
    """

    kept: int
    inside_count: int
    firsts: Floats
    lasts: Floats
    floor: float
    candidates: BinColumns
    stores: int = 1


def summary_spans(
    summary: BinSummary | None, deployments: Sequence[Deployment], window: Window, rules: Rules
) -> list[Span] | None:
    """``stream_spans`` from a summary (None: no bin in the window), or None when the summary
    cannot decide them exactly: its rows come from several stores, a point is not a finite number,
    or a bin left out of the candidates could have a level above Present. Then the bins must be
    read and given to ``stream_spans``.

    Every quantity is the one ``stream_spans`` computes, by the same float operations: rule 1's
    total from the same integer sum and the same partial bins (all among the candidates); the
    gaps and the Present stretch from every bin's first and last point in the same order; the
    levels from the candidates (a bin left out has a separation at most ``floor``, and the tests
    are monotonic: when a bin at ``floor`` would get no level, none left out does)."""
    if not window.start < window.stop:
        return []
    if summary is None or summary.kept == 0:
        return [Span(window.start, window.stop, NOT_EXPECTED)]
    candidates, starts, ends = summary.candidates, summary.firsts, summary.lasts
    firsts, lasts, counts = candidates.firsts, candidates.lasts, candidates.counts
    finite = np.isfinite(starts).all() and np.isfinite(ends).all()
    if summary.stores != 1 or len(starts) != summary.kept or not finite:
        return None
    outside = ~((window.start <= firsts) & (lasts <= window.stop))
    columns = (firsts[outside].tolist(), lasts[outside].tolist(), counts[outside].tolist())
    partial = [Bin(first, last, points) for first, last, points in zip(*columns, strict=True)]
    total = _total(summary.inside_count, partial, window)
    dense, mean_interval, threshold = _branch(summary.kept, total, window, rules)
    ratio = summary.floor / mean_interval  # at least the ratio of every bin left out
    if dense:
        if _may_be_sparse(ratio, rules):
            return None
        # The rules' order (first, last, points): the order of points alone decides the gaps, as
        # bins with the same first and last point reach equally far.
        if len(starts) > 1 and not (starts[1:] > starts[:-1]).all():
            order = np.lexsort((ends, starts))
            starts, ends = starts[order], ends[order]
        pieces = _dense_column_pieces_of(starts, ends, firsts, lasts, counts, mean_interval, threshold, rules)
    else:
        # Rule 3: every bin a Present piece (its level when it is a candidate: the same extent
        # with a higher rank wins the overlay), which a bin left out is when its ratio is below
        # the first level.
        if _level_rank(ratio, rules) != _PRESENT or _level_rank(0.0, rules) != _PRESENT:
            return None
        present = _sparse_column_pieces(
            starts, ends, np.zeros(len(starts), dtype=np.int64), mean_interval, threshold, rules
        )
        levels = _sparse_column_pieces(firsts, lasts, counts, mean_interval, threshold, rules)
        pieces = (
            np.concatenate((present[0], levels[0])),
            np.concatenate((present[1], levels[1])),
            np.concatenate((present[2], levels[2])),
        )
    return _finish_column_spans(pieces, deployments, window)


def _may_be_sparse(ratio: float, rules: Rules) -> bool:
    """Whether a bin of this ratio, or of a higher one, would get a sparse span in rule 2 (the test is
    monotonic: r > 1 and a level above Present)."""
    return ratio > 1.0 and _level_rank(ratio, rules) != _PRESENT


def _deployment_cuts(deployments: Sequence[Deployment], window: Window) -> set[float]:
    """Deployment starts and stops strictly inside the window: rule 4 cuts spans there."""
    cuts: set[float] = set()
    for start, stop, _ in deployment_spans(deployments, window):
        cuts.update(t for t in (start, stop) if window.start < t < window.stop)
    return cuts


def _bins_in_window(bins: Sequence[BinLike], window: Window) -> tuple[list[BinLike], float]:
    """The bins overlapping the window, ordered by first, and how many of their points lie in it."""
    start, stop = window.start, window.stop
    kept = list(bins)
    firsts = [b.first for b in kept]
    # Readers return bins in order; sorting is needed when they are not, or when two share a first
    # point (then the full key decides, so that the input order never matters).
    if firsts != sorted(firsts) or len(set(firsts)) != len(firsts):
        kept.sort(key=_BY_TIME)
        firsts = [b.first for b in kept]
    # Sorted by first: bins starting at or after the stop are a suffix; bins ending at or before
    # the start can only be among those starting at or before it.
    head = bisect_right(firsts, start)
    tail = bisect_left(firsts, stop, lo=head)
    kept = [b for b in kept[:head] if b.last > start] + kept[head:tail]
    inside = sum([b.points for b in kept if start <= b.first and b.last <= stop])
    return kept, _total(inside, [b for b in kept if not (start <= b.first and b.last <= stop)], window)


def _total(inside: int, partial: Sequence[BinLike], window: Window) -> float:
    """Rule 1's total count: the exact sum of the counts of the bins wholly inside the window, plus
    the share inside of each bin reaching outside it, added in the rules' order (first, last,
    points). The same arithmetic on both paths (summary_spans) gives the same float."""
    return inside + sum([_points_inside(b, window) for b in sorted(partial, key=_BY_TIME)])


def _points_inside(b: BinLike, window: Window) -> float:
    """A bin's count in proportion to its time inside the window (points evenly spread)."""
    if b.last <= b.first:
        return b.points
    inside = min(b.last, window.stop) - max(b.first, window.start)
    return b.points * inside / (b.last - b.first)


def _branch(kept: int, total: float, window: Window, rules: Rules) -> tuple[bool, float, float]:
    """(dense?, mean_interval, threshold) of rule 1 and the branch test of rules 2 and 3, for
    ``kept`` bins in the window holding ``total`` points."""
    length = window.stop - window.start
    threshold = length * rules.gap_threshold_fraction
    mean_interval = length / total if total > 0 else math.inf
    dense = mean_interval < threshold and kept > rules.min_bins_for_gaps
    return dense, mean_interval, threshold


def _level_rank(ratio: float, rules: Rules) -> int:
    if ratio < rules.sparse_min:
        return _PRESENT
    if ratio < rules.sparse_mid:
        return _SPARSE1
    if ratio < rules.sparse_max:
        return _SPARSE2
    return _SPARSE3


Piece = tuple[float, float, int]  # (start, stop, overlay rank)


def _dense_pieces(kept: list[BinLike], mean_interval: float, threshold: float, rules: Rules) -> list[Piece]:
    """Rule 2 over bins sorted by first: Present from first to last point, gaps, sparse bins."""
    pieces: list[Piece] = []
    append = pieces.append
    first_point = reach = kept[0].first
    for b in kept:
        first, last, points = b.first, b.last, b.points
        if first - reach > threshold:
            append((reach, first, _GAP))
        if points > 1:
            ratio = (last - first) / points / mean_interval  # as separation_ratio, inlined for speed
            if ratio > 1.0 and (rank := _level_rank(ratio, rules)) != _PRESENT:
                append((first, last, rank))
        if last > reach:
            reach = last
    append((first_point, reach, _PRESENT))
    return pieces


def _sparse_pieces(kept: list[BinLike], mean_interval: float, threshold: float, rules: Rules) -> list[Piece]:
    """Rule 3: one piece per bin, labelled by its ratio, short bins widened around their first."""
    pieces: list[Piece] = []
    for b in kept:
        first, last = b.first, b.last
        rank = _level_rank(separation_ratio(b, mean_interval), rules)
        if last - first < 2 * threshold:
            pieces.append((first - threshold, max(last, first + threshold), rank))
        else:
            pieces.append((first, last, rank))
    return pieces


def _columns_in_window(bins: BinColumns, window: Window) -> tuple[tuple[Floats, Floats, Counts], float]:
    """``_bins_in_window`` for columns: the columns of the bins overlapping the window in the rules'
    order, and rule 1's total count computed by the same code (``_total``)."""
    start, stop = window.start, window.stop
    firsts, lasts, counts = bins.firsts, bins.lasts, bins.counts
    # As _bins_in_window: sorted by the full key (first, last, points) unless the first points
    # are strictly increasing already.
    if len(firsts) > 1 and not (firsts[1:] > firsts[:-1]).all():
        order = np.lexsort((counts, lasts, firsts))
        firsts, lasts, counts = firsts[order], lasts[order], counts[order]
    head = int(np.searchsorted(firsts, start, side="right"))
    tail = max(head, int(np.searchsorted(firsts, stop, side="left")))
    reaching = np.flatnonzero(lasts[:head] > start)
    if len(reaching) == head:
        firsts, lasts, counts = firsts[:tail], lasts[:tail], counts[:tail]
    else:
        keep = np.concatenate((reaching, np.arange(head, tail)))
        firsts, lasts, counts = firsts[keep], lasts[keep], counts[keep]
    inside = (start <= firsts) & (lasts <= stop)
    inner = counts[inside]
    # An int64 sum is exact unless it could overflow; then Python's integers add them.
    peak = max(int(inner.max()), -int(inner.min())) if len(inner) else 0
    inside_count = int(inner.sum()) if peak * len(inner) < 2**63 else sum(inner.tolist())
    outside = ~inside
    partial = [
        Bin(first, last, points)
        for first, last, points in zip(
            firsts[outside].tolist(), lasts[outside].tolist(), counts[outside].tolist(), strict=True
        )
    ]
    return (firsts, lasts, counts), _total(inside_count, partial, window)


def _level_ranks(ratios: Floats, rules: Rules) -> NDArray[np.int64]:
    """``_level_rank`` of each ratio, by the same comparisons."""
    above = np.where(ratios < rules.sparse_max, _SPARSE2, _SPARSE3)
    sparse = np.where(ratios < rules.sparse_mid, _SPARSE1, above)
    return np.where(ratios < rules.sparse_min, _PRESENT, sparse)


# Pieces as columns: (starts, stops, ranks).
ColumnPieces = tuple["Floats", "Floats", "NDArray[np.int64]"]


def _column_spans(
    bins: BinColumns, deployments: Sequence[Deployment], window: Window, rules: Rules
) -> list[Span]:
    """``stream_spans`` over columns (a non-empty window)."""
    columns, total = _columns_in_window(bins, window)
    if not len(columns[0]):
        return [Span(window.start, window.stop, NOT_EXPECTED)]
    dense, mean_interval, threshold = _branch(len(columns[0]), total, window, rules)
    if dense:
        pieces = _dense_column_pieces(*columns, mean_interval, threshold, rules)
    else:
        pieces = _sparse_column_pieces(*columns, mean_interval, threshold, rules)
    return _finish_column_spans(pieces, deployments, window)


def _finish_column_spans(
    pieces: ColumnPieces, deployments: Sequence[Deployment], window: Window
) -> list[Span]:
    """Rules 4 and 5 over the pieces of rule 2 or 3: background, deployments, overlay."""
    others = [(window.start, window.stop, _BACKGROUND), *_not_expected_pieces(deployments, window)]
    more_starts, more_stops, more_ranks = zip(*others, strict=True)
    return _overlay_columns(
        np.concatenate((pieces[0], more_starts)),
        np.concatenate((pieces[1], more_stops)),
        np.concatenate((pieces[2], more_ranks)),
        window,
        _deployment_cuts(deployments, window),
    )


def _dense_column_pieces(
    firsts: Floats, lasts: Floats, counts: Counts, mean_interval: float, threshold: float, rules: Rules
) -> ColumnPieces:
    """``_dense_pieces`` over columns: the latest point before each bin is a running maximum."""
    return _dense_column_pieces_of(firsts, lasts, firsts, lasts, counts, mean_interval, threshold, rules)


def _dense_column_pieces_of(
    starts: Floats,
    ends: Floats,
    firsts: Floats,
    lasts: Floats,
    counts: Counts,
    mean_interval: float,
    threshold: float,
    rules: Rules,
) -> ColumnPieces:
    """Rule 2's pieces: gaps and the Present stretch from ``starts`` and ``ends`` (the first and
    last points of every bin, in the rules' order), sparse bins from ``firsts``, ``lasts`` and
    ``counts`` (every bin, or those that may be sparse, in any order)."""
    reach = np.empty_like(starts)
    reach[0] = starts[0]
    reach[1:] = ends[:-1]
    reach = np.maximum.accumulate(reach)
    gaps = np.flatnonzero(starts - reach > threshold)
    several = np.flatnonzero(counts > 1)
    ratios = (lasts[several] - firsts[several]) / counts[several] / mean_interval
    chosen = (ratios > 1.0) & ~(ratios < rules.sparse_min)  # sparse, and not Present by the level table
    sparse = several[chosen]
    end, last = float(reach[-1]), float(ends[-1])
    present = (float(starts[0]), last if last > end else end)
    return (
        np.concatenate((reach[gaps], firsts[sparse], present[:1])),
        np.concatenate((starts[gaps], lasts[sparse], present[1:])),
        np.concatenate((np.full(len(gaps), _GAP), _level_ranks(ratios[chosen], rules), [_PRESENT])),
    )


def _sparse_column_pieces(
    firsts: Floats, lasts: Floats, counts: Counts, mean_interval: float, threshold: float, rules: Rules
) -> ColumnPieces:
    """``_sparse_pieces`` over columns."""
    ratios = np.zeros(len(firsts), dtype=np.float64)
    several = counts > 1
    ratios[several] = (lasts[several] - firsts[several]) / counts[several] / mean_interval
    widened = firsts + threshold
    short = lasts - firsts < 2 * threshold
    low = np.where(short, firsts - threshold, firsts)
    high = np.where(short & (widened > lasts), widened, lasts)  # max(last, first + threshold)
    return low, high, _level_ranks(ratios, rules)


#: Overlay rank → the index of its category in _CATEGORY_OF (equal categories merge, not ranks).
_CATEGORY_INDEX = np.array([0, 1, 2, 3, 4, 0, 5])
_RANKS = np.arange(len(_RANK_CATEGORY))[:, np.newaxis]
_CATEGORY_OF = (MISSING, PRESENT, SPARSE1, SPARSE2, SPARSE3, NOT_EXPECTED)


def _overlay_columns(
    starts: Floats, stops: Floats, ranks: NDArray[np.int64], window: Window, cuts: set[float]
) -> list[Span]:
    """``_overlay`` over pieces as columns, with the same result.

    The instants where a piece starts or stops, or a cut lies, split the window into elementary
    intervals; over each, the highest rank with a piece covering it wins (the number of pieces of
    each rank covering it is a cumulative sum of starts less stops). Neighbours of one category
    merge except where the second begins at a cut.
    """
    low, high = window.start, window.stop
    starts = np.maximum(starts, low)
    stops = np.minimum(stops, high)
    kept = starts < stops
    starts, stops, ranks = starts[kept], stops[kept], ranks[kept]
    cut_times = np.array(sorted(cuts), dtype=np.float64)
    times = np.concatenate((starts, stops, cut_times))
    times.sort()
    distinct = np.empty(len(times), dtype=bool)
    distinct[0] = True
    np.not_equal(times[1:], times[:-1], out=distinct[1:])
    times = times[distinct]
    # changes[rank, i]: pieces of that rank starting at times[i] less those stopping there.
    count = len(starts)
    changes = np.bincount(
        np.concatenate((ranks, ranks)) * len(times) + np.searchsorted(times, np.concatenate((starts, stops))),
        weights=np.concatenate((np.ones(count), np.full(count, -1.0))),
        minlength=len(_RANK_CATEGORY) * len(times),
    ).reshape(len(_RANK_CATEGORY), len(times))
    covered = np.cumsum(changes, axis=1)[:, :-1] > 0.5  # over [times[i], times[i + 1])
    top = (covered * _RANKS).max(axis=0)  # the background covers the whole window: never empty
    category = _CATEGORY_INDEX[top]
    begins = np.empty(len(category), dtype=bool)
    begins[0] = True
    np.not_equal(category[1:], category[:-1], out=begins[1:])
    begins[np.searchsorted(times, cut_times)] = True  # cuts lie strictly inside the window
    first = np.flatnonzero(begins)
    bounds = times[first].tolist()
    bounds.append(high)
    names = [_CATEGORY_OF[c] for c in category[first].tolist()]
    return list(map(_span, zip(bounds, bounds[1:], names, strict=False)))


def _not_expected_pieces(deployments: Sequence[Deployment], window: Window) -> list[Piece]:
    """Rule 4: the window's time outside the union of deployments; none without deployments."""
    if not deployments:
        return []
    pieces: list[Piece] = []
    cursor = window.start
    for start, stop, _ in deployment_spans(deployments, window):
        if start > cursor:
            pieces.append((cursor, start, _NOT_EXPECTED))
        cursor = max(cursor, stop)
    if cursor < window.stop:
        pieces.append((cursor, window.stop, _NOT_EXPECTED))
    return pieces


def _overlay(pieces: list[Piece], window: Window, cuts: set[float]) -> list[Span]:
    """Clip pieces to the window and flatten them: highest rank wins, equal neighbours merge
    except across a cut.

    The caller includes a background piece over the whole window, so the result covers it.
    """
    low, high = window.start, window.stop
    events: list[tuple[float, int, int]] = []
    for start, stop, rank in pieces:
        start = max(start, low)
        stop = min(stop, high)
        if start < stop:
            events.append((start, rank, 1))
            events.append((stop, rank, -1))
    events.extend((cut, _BACKGROUND, 0) for cut in cuts)
    events.sort()
    active = [0] * len(_RANK_CATEGORY)
    flat: list[list[Any]] = []
    previous = low
    for time, rank, delta in events:
        if time > previous:
            top = _NOT_EXPECTED
            while not active[top]:
                top -= 1
            category = _RANK_CATEGORY[top]
            if flat and flat[-1][2] == category and previous not in cuts:
                flat[-1][1] = time
            else:
                flat.append([previous, time, category])
            previous = time
        active[rank] += delta
    return list(map(_span, flat))
