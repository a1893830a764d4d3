"""Hand-worked examples of the availability rules (spec/AVAILABILITY.md).

Unless a test says otherwise the window is 1,000,000 s long, so the gap threshold is 1,000 s.
Times are written as offsets from BASE (NTP seconds, April 2017); every figure is chosen so the
expected spans are exact.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from ooi_status.availability.engine import (
    MISSING,
    NOT_EXPECTED,
    PRESENT,
    SPARSE1,
    SPARSE2,
    SPARSE3,
    Bin,
    BinLike,
    Deployment,
    Rules,
    Span,
    Window,
    deployment_spans,
    is_dense,
    resolve_window,
    separation_ratio,
    sparsity_category,
    stream_spans,
)
from ooi_status.config import load_settings
from ooi_status.sources.base import BinRow

BASE = 3_700_000_000.0
WINDOW = Window(BASE, BASE + 1_000_000)
RULES = Rules()
P, M, NE, S1, S2, S3 = PRESENT, MISSING, NOT_EXPECTED, SPARSE1, SPARSE2, SPARSE3


def at(offset: float) -> float:
    return BASE + offset


def tile(start: float, stop: float, n: int, count: int, hole: float = 0) -> list[Bin]:
    """n bins of equal length dividing [start, stop] (offsets), ``hole`` seconds between them."""
    step = (stop - start) / n
    return [Bin(at(start + k * step), at(start + (k + 1) * step - hole), count) for k in range(n)]


def deployment(number: int, start: float, stop: float | None) -> Deployment:
    return Deployment(number, at(start), None if stop is None else at(stop))


def spans(
    bins: Sequence[BinLike], deployments: list[Deployment] | None = None
) -> list[tuple[float, float, str]]:
    """stream_spans over WINDOW as (start offset, stop offset, category)."""
    result = stream_spans(bins, deployments or [], WINDOW, RULES)
    return [(s.start - BASE, s.stop - BASE, s.category) for s in result]


# --- rule 1 and settings -------------------------------------------------------------------


def test_rules_from_default_settings_are_the_spec_defaults():
    assert Rules.from_settings(load_settings(environ={})) == Rules()


def test_rules_from_settings_read_every_availability_setting():
    settings = load_settings(
        environ={},
        overrides={
            "GAP_THRESHOLD_FRACTION": 0.01,
            "MIN_BINS_FOR_GAPS": 3,
            "SPARSE_DATA_MIN": 1.1,
            "SPARSE_DATA_MID": 1.6,
            "SPARSE_DATA_MAX": 2.5,
        },
    )
    assert Rules.from_settings(settings) == Rules(0.01, 3, 1.1, 1.6, 2.5)


@pytest.mark.parametrize(
    ("bins", "dense"),
    [
        pytest.param(tile(0, 500_000, 11, 1000), True, id="11 bins, mean interval 1e6/11000 s"),
        pytest.param(tile(0, 500_000, 10, 1000), False, id="10 bins is not more than 10"),
        pytest.param([Bin(at(0), at(1), 0), *tile(10, 500_000, 10, 100)], False, id="mean = threshold"),
        pytest.param([Bin(at(0), at(1), 1), *tile(10, 500_000, 10, 100)], True, id="mean just under"),
        pytest.param(tile(0, 500_000, 20, 0), False, id="no point at all"),
    ],
)
def test_dense_branch_needs_more_than_10_bins_and_mean_interval_under_threshold(bins, dense):
    assert is_dense(bins, WINDOW, RULES) is dense


@pytest.mark.parametrize(
    ("ratio", "category"),
    [(0.0, P), (0.999, P), (1.0, S1), (1.499, S1), (1.5, S2), (1.999, S2), (2.0, S3), (40.0, S3)],
)
def test_sparsity_levels_by_ratio(ratio, category):
    assert sparsity_category(ratio, RULES) == category


@pytest.mark.parametrize(
    ("b", "ratio"),
    [(Bin(0, 100, 2), 5.0), (Bin(0, 100, 1), 0.0), (Bin(0, 100, 0), 0.0), (Bin(7, 7, 5), 0.0)],
)
def test_separation_ratio_is_zero_for_fewer_than_two_points(b, ratio):
    assert separation_ratio(b, 10.0) == ratio


# --- rule 2: dense data ----------------------------------------------------------------------


def test_dense_data_starting_late_and_ending_early_is_missing_at_both_ends():
    bins = tile(100_000, 900_000, 16, 1000)
    assert spans(bins) == [(0, 100_000, M), (100_000, 900_000, P), (900_000, 1_000_000, M)]


@pytest.mark.parametrize(
    ("gap", "missing"),
    [(0, False), (999, False), (1000, False), (1001, True), (50_000, True)],
)
def test_gap_between_bins_is_missing_only_above_the_threshold(gap, missing):
    bins = tile(0, 400_000, 10, 1000) + tile(400_000 + gap, 800_000 + gap, 10, 1000)
    end = 800_000 + gap
    if missing:
        expected = [
            (0, 400_000, P),
            (400_000, 400_000 + gap, M),
            (400_000 + gap, end, P),
            (end, 1_000_000, M),
        ]
    else:
        expected = [(0, end, P), (end, 1_000_000, M)]
    assert spans(bins) == expected


# Mean interval 100 s (10,000 points over 1,000,000 s). The bin under test holds 100 points
# over `length` seconds, so r = length / 10,000. The other bins cover [0, 500,000] with r ≈ 0.5:
# ten of them in the dense branch, one in the sparse branch.
LEVEL_CASES = [
    (5_000, P, P),
    (9_999, P, P),
    (10_000, P, S1),  # r == 1.0: not "greater than mean_interval", but Level 1 by the table
    (10_001, S1, S1),
    (14_999, S1, S1),
    (15_000, S2, S2),
    (19_999, S2, S2),
    (20_000, S3, S3),
    (60_000, S3, S3),
]


@pytest.mark.parametrize(
    ("dense", "others"), [(True, tile(0, 500_000, 10, 990)), (False, [Bin(at(0), at(500_000), 9900)])]
)
@pytest.mark.parametrize(("length", "dense_category", "sparse_category"), LEVEL_CASES)
def test_sparsity_level_boundaries_in_both_branches(dense, others, length, dense_category, sparse_category):
    bins = [*others, Bin(at(500_000), at(500_000 + length), 100)]
    category = dense_category if dense else sparse_category
    end = 500_000 + length
    assert is_dense(bins, WINDOW, RULES) is dense
    if category == P:
        expected = [(0, end, P), (end, 1_000_000, M)]
    else:
        expected = [(0, 500_000, P), (500_000, end, category), (end, 1_000_000, M)]
    assert spans(bins) == expected


@pytest.mark.parametrize("count", [0, 1])
def test_dense_bin_of_fewer_than_two_points_is_never_sparse(count):
    bins = [*tile(0, 500_000, 10, 990), Bin(at(500_000), at(530_000), count)]
    assert spans(bins) == [(0, 530_000, P), (530_000, 1_000_000, M)]


def test_dense_sparse_bin_next_to_a_gap_keeps_its_whole_span():
    # 15,100 points: mean interval ≈ 66.2 s; the bin under test: 300 s per point, r ≈ 4.5.
    bins = [*tile(0, 400_000, 10, 1000), Bin(at(400_000), at(430_000), 100), *tile(440_000, 640_000, 5, 1000)]
    assert spans(bins) == [
        (0, 400_000, P),
        (400_000, 430_000, S3),
        (430_000, 440_000, M),
        (440_000, 640_000, P),
        (640_000, 1_000_000, M),
    ]


def test_unordered_bins_give_the_same_spans():
    bins = [*tile(0, 400_000, 10, 1000), Bin(at(400_000), at(430_000), 100), *tile(440_000, 640_000, 5, 1000)]
    shuffled = bins[:]
    random.Random(1).shuffle(shuffled)
    assert shuffled != bins
    assert spans(shuffled) == spans(bins)


@pytest.mark.parametrize("dense", [True, False])
def test_a_sources_bin_rows_give_the_spans_of_bins(dense):
    """The rules read a bin's first, last and points, whatever holds them (BinLike)."""
    bins = [*tile(0, 400_000, 10, 1000 if dense else 3), Bin(at(400_000), at(430_000), 100)]
    rows = [BinRow(int(b.first), b.points, b.first, b.last) for b in bins]
    assert is_dense(rows, WINDOW, RULES) is is_dense(bins, WINDOW, RULES) is dense
    assert spans(rows) == spans(bins)


def test_window_cutting_through_bins_counts_their_points_in_proportion():
    # 1 point per second in bins of 50,000 s offset by half a bin: the window cuts the first and
    # the last. Counted whole, they would make 1,050,000 points in 1,000,000 s and every bin
    # Sparsity Level 1 (r ≈ 1.05); pro-rated, r ≈ 0.99998: Present.
    bins = [Bin(at(k * 50_000 + 25_000), at(k * 50_000 + 74_999), 50_000) for k in range(-3, 22)]
    assert spans(bins) == [(0, 1_000_000, P)]


# --- rule 3: sparse data ---------------------------------------------------------------------


def test_sparse_data_one_span_per_bin_short_bins_widened_time_between_missing():
    bins = [
        Bin(at(500), at(500), 1),  # widened to [-500, 1,500], clipped at the window start
        Bin(at(100_000), at(100_000), 1),
        Bin(at(300_000), at(301_500), 1),  # shorter than 2,000 s: [299,000, 301,500]
        Bin(at(500_000), at(500_000), 1),
        Bin(at(600_000), at(610_000), 2),  # long enough: as it is
        Bin(at(999_500), at(999_500), 1),  # widened past the window stop, clipped
    ]
    assert not is_dense(bins, WINDOW, RULES)
    assert spans(bins) == [
        (0, 1_500, P),
        (1_500, 99_000, M),
        (99_000, 101_000, P),
        (101_000, 299_000, M),
        (299_000, 301_500, P),
        (301_500, 499_000, M),
        (499_000, 501_000, P),
        (501_000, 600_000, M),
        (600_000, 610_000, P),
        (610_000, 998_500, M),
        (998_500, 1_000_000, P),
    ]


def test_sparse_widened_bins_overlapping_merge_and_the_sparser_label_wins():
    # Mean interval 100 s. S: 150 s per point, r = 1.5, widened to [599,000, 601,500].
    # Q: 50 s per point, Present, widened to [600,800, 602,800], under S where they overlap.
    bins = [
        Bin(at(0), at(500_000), 9_980),
        Bin(at(600_000), at(601_500), 10),
        Bin(at(601_800), at(602_300), 10),
        Bin(at(700_000), at(700_000), 0),
        Bin(at(701_500), at(701_500), 0),
    ]
    expected = [
        (0, 500_000, P),
        (500_000, 599_000, M),
        (599_000, 601_500, S2),
        (601_500, 602_800, P),
        (602_800, 699_000, M),
        (699_000, 702_500, P),
        (702_500, 1_000_000, M),
    ]
    assert spans(bins) == expected
    assert spans(bins[::-1]) == expected


def test_stream_without_any_point_is_present_where_its_bins_are():
    bins = tile(0, 600_000, 12, 0)
    assert spans(bins) == [(0, 600_000, P), (600_000, 1_000_000, M)]


def test_one_bin_only():
    bins = [Bin(at(100_000), at(200_000), 1000)]  # mean interval 1,000 s, r = 0.1
    assert spans(bins) == [(0, 100_000, M), (100_000, 200_000, P), (200_000, 1_000_000, M)]
    assert spans(bins, [deployment(1, 0, 150_000)]) == [
        (0, 100_000, M),
        (100_000, 150_000, P),
        (150_000, 1_000_000, NE),
    ]


# --- rule 4: deployments ---------------------------------------------------------------------

CONTIGUOUS = tile(0, 1_000_000, 20, 1000)  # r == 1.0 exactly: Present in the dense branch
EARLY_END = tile(0, 300_000, 15, 1000)


@pytest.mark.parametrize(
    ("bins", "deployments", "expected"),
    [
        pytest.param(
            CONTIGUOUS,
            [deployment(1, 0, 400_000), deployment(2, 600_000, None)],
            [(0, 400_000, P), (400_000, 600_000, NE), (600_000, 1_000_000, P)],
            id="present cut at deployment boundaries",
        ),
        pytest.param(
            EARLY_END,
            [deployment(1, 0, 400_000), deployment(2, 600_000, None)],
            [(0, 300_000, P), (300_000, 400_000, M), (400_000, 600_000, NE), (600_000, 1_000_000, M)],
            id="missing cut at deployment boundaries",
        ),
        pytest.param(
            CONTIGUOUS,
            [deployment(2, 500_000, None), deployment(1, 0, 500_000)],
            [(0, 500_000, P), (500_000, 1_000_000, P)],
            id="abutting deployments: cut at the boundary, not merged across it",
        ),
        pytest.param(
            CONTIGUOUS,
            [deployment(1, 0, 600_000), deployment(2, 400_000, 800_000)],
            [(0, 400_000, P), (400_000, 600_000, P), (600_000, 800_000, P), (800_000, 1_000_000, NE)],
            id="overlapping deployments: union, cut at every boundary",
        ),
        pytest.param(
            CONTIGUOUS,
            [deployment(1, 2_000_000, 3_000_000)],
            [(0, 1_000_000, NE)],
            id="window outside every deployment",
        ),
        pytest.param(
            [Bin(at(100_000), at(200_000), 1000)],
            [deployment(1, -50_000, 150_000), deployment(2, 180_000, 2_000_000)],
            [
                (0, 100_000, M),
                (100_000, 150_000, P),
                (150_000, 180_000, NE),
                (180_000, 200_000, P),
                (200_000, 1_000_000, M),
            ],
            id="sparse branch cut by deployments",
        ),
    ],
)
def test_spans_are_intersected_with_deployments(bins, deployments, expected):
    assert spans(bins, deployments) == expected


def test_without_deployments_nothing_is_not_expected():
    bins = tile(0, 400_000, 10, 1000) + tile(500_000, 900_000, 10, 1000)
    assert spans(bins) == [
        (0, 400_000, P),
        (400_000, 500_000, M),
        (500_000, 900_000, P),
        (900_000, 1_000_000, M),
    ]


@pytest.mark.parametrize(
    ("bins", "deployments"),
    [
        pytest.param([], [], id="no bins, no deployments"),
        pytest.param([], [deployment(1, 0, None)], id="no bins"),
        pytest.param(
            [Bin(at(-5_000), at(0), 100), Bin(at(1_000_000), at(1_000_100), 100)], [], id="bins outside"
        ),
    ],
)
def test_stream_without_bins_in_the_window_is_one_not_expected_span(bins, deployments):
    assert spans(bins, deployments) == [(0, 1_000_000, NE)]


def test_empty_window_has_no_spans():
    assert stream_spans(CONTIGUOUS, [], Window(at(5), at(5)), RULES) == []


def test_deployment_spans_clip_to_the_window_and_sort():
    deployments = [
        deployment(3, 900_000, None),
        deployment(1, -100_000, 300_000),
        deployment(2, 250_000, 500_000),
        deployment(4, 1_000_000, None),
        deployment(0, -300_000, -200_000),
    ]
    result = [
        (start - BASE, stop - BASE, number) for start, stop, number in deployment_spans(deployments, WINDOW)
    ]
    assert result == [(0, 300_000, 1), (250_000, 500_000, 2), (900_000, 1_000_000, 3)]
    assert deployment_spans([], WINDOW) == []


# --- the window ------------------------------------------------------------------------------

OPEN = [deployment(1, 100, 200), deployment(2, 300, None)]
CLOSED = [deployment(1, 100, 200), deployment(2, 300, 400)]


@pytest.mark.parametrize(
    ("deployments", "start", "stop", "earliest_data", "expected"),
    [
        pytest.param(OPEN, None, None, None, (100, 1000), id="defaults: first deployment to now"),
        pytest.param(OPEN, 150, 350, 120, (150, 350), id="requested start and stop"),
        pytest.param(OPEN, 50, 5000, None, (100, 1000), id="narrowed to deployments, future stop clamped"),
        pytest.param(OPEN, None, 5000, None, (100, 1000), id="future stop clamped to now"),
        pytest.param(CLOSED, None, None, None, (100, 400), id="closed deployments: last stop"),
        pytest.param(CLOSED, 500, 600, None, None, id="request after every deployment"),
        pytest.param(CLOSED, None, 50, None, None, id="request before every deployment"),
        pytest.param(OPEN, 2000, None, None, None, id="start in the future"),
        pytest.param(OPEN, 400, 400, None, None, id="start equals stop"),
        pytest.param([deployment(1, 100, 5000)], None, None, None, (100, 1000), id="planned stop after now"),
        pytest.param([], None, None, 120, (120, 1000), id="no deployment: earliest data to now"),
        pytest.param([], 10, 500, 120, (10, 500), id="no deployment: requested window kept"),
        pytest.param([], None, 5000, 120, (120, 1000), id="no deployment: stop clamped"),
        pytest.param([], None, None, None, None, id="no deployment, no data"),
        pytest.param([], None, None, 2000, None, id="data only after now"),
    ],
)
def test_resolve_window(deployments, start, stop, earliest_data, expected):
    def shift(value):
        return None if value is None else at(value)

    window = resolve_window(deployments, shift(start), shift(stop), at(1000), shift(earliest_data))
    assert window == (None if expected is None else Window(at(expected[0]), at(expected[1])))


def test_spans_are_span_objects():
    result = stream_spans(EARLY_END, [], WINDOW, RULES)
    assert result[0] == Span(at(0), at(300_000), PRESENT)
