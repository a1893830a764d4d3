"""Status rules of MONITOR.md: every rule, every boundary, every text."""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ooi_status import default_settings
from ooi_status.status import (
    DISABLED,
    NO_OVERRIDES,
    Intervals,
    Overrides,
    RateWindow,
    Status,
    advance_rate_window,
    asset_status_event,
    change_notes,
    effective_intervals,
    elapsed,
    measured_rate,
    rollup,
    rollup_reason,
    stream_status,
)

NOW = datetime(2017, 2, 2, 0, 21, tzinfo=UTC)

OP, DEG, FAIL, NT = Status.OPERATIONAL, Status.DEGRADED, Status.FAILED, Status.NOT_TRACKED

WARN_AND_FAIL = Intervals(0, 600, 1800)
WARN_ONLY = Intervals(0, 600, 0)
FAIL_ONLY = Intervals(0, 0, 1800)
RATE_ONLY = Intervals(1.0, 0, 0)
RATE_AND_INTERVALS = Intervals(2.0, 600, 1800)
UNTRACKED = Intervals(0, 0, 0)


def ago(seconds: float | None) -> datetime | None:
    return None if seconds is None else NOW - timedelta(seconds=seconds)


# --- the interval rule -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds_ago", "intervals", "expected"),
    [
        # warn 600, fail 1800
        (0, WARN_AND_FAIL, OP),
        (599, WARN_AND_FAIL, OP),
        (600, WARN_AND_FAIL, OP),
        (600.000001, WARN_AND_FAIL, DEG),
        (601, WARN_AND_FAIL, DEG),
        (1800, WARN_AND_FAIL, DEG),
        (1800.000001, WARN_AND_FAIL, FAIL),
        (1801, WARN_AND_FAIL, FAIL),
        (10 * 86400, WARN_AND_FAIL, FAIL),
        # zero warn with non-zero fail: never degraded by the interval rule
        (600, FAIL_ONLY, OP),
        (601, FAIL_ONLY, OP),
        (1800, FAIL_ONLY, OP),
        (1801, FAIL_ONLY, FAIL),
        # non-zero warn with zero fail: never failed
        (600, WARN_ONLY, OP),
        (601, WARN_ONLY, DEG),
        (10 * 86400, WARN_ONLY, DEG),
        # warn above fail: failed is checked first
        (1801, Intervals(0, 3600, 1800), FAIL),
        (3601, Intervals(0, 3600, 1800), FAIL),
        # a data point stamped after now exceeds nothing
        (-60, WARN_AND_FAIL, OP),
        # all three zero: not tracked, however old the data
        (0, UNTRACKED, NT),
        (10 * 86400, UNTRACKED, NT),
        # rate-only tracking: intervals never exceeded, no rate measured
        (10 * 86400, RATE_ONLY, OP),
    ],
    ids=lambda value: repr(value) if isinstance(value, int | float) else None,
)
def test_interval_rule(seconds_ago, intervals, expected):
    assert stream_status(ago(seconds_ago), intervals, NOW) is expected


@pytest.mark.parametrize(
    ("intervals", "rate", "expected"),
    [
        (WARN_AND_FAIL, None, FAIL),
        (WARN_ONLY, None, DEG),
        (FAIL_ONLY, None, FAIL),
        (RATE_ONLY, None, OP),
        (RATE_ONLY, 0.0, DEG),
        (RATE_ONLY, 1.0, OP),
        (RATE_AND_INTERVALS, 0.0, FAIL),
        (UNTRACKED, None, NT),
        (UNTRACKED, 0.0, NT),
    ],
)
def test_stream_without_any_data_point(intervals, rate, expected):
    assert stream_status(None, intervals, NOW, measured_rate=rate) is expected


# --- the rate rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds_ago", "intervals", "rate", "fraction", "expected"),
    [
        # expected 1 Hz, fraction 0.5: the threshold is 0.5 Hz, strictly below degrades
        (10, RATE_ONLY, 0.5, 0.5, OP),
        (10, RATE_ONLY, 0.4999, 0.5, DEG),
        (10, RATE_ONLY, 0.0, 0.5, DEG),
        (10, RATE_ONLY, 0.75, 0.5, OP),
        (10, RATE_ONLY, 5.0, 0.5, OP),
        (10, RATE_ONLY, None, 0.5, OP),
        # another fraction
        (10, RATE_ONLY, 0.25, 0.25, OP),
        (10, RATE_ONLY, 0.2, 0.25, DEG),
        (10, RATE_ONLY, 0.5, 0.75, DEG),
        # fraction 0 disables the rule
        (10, RATE_ONLY, 0.0, 0.0, OP),
        # expected 2 Hz with intervals, recent data: the rate alone decides
        (10, RATE_AND_INTERVALS, 1.0, 0.5, OP),
        (10, RATE_AND_INTERVALS, 0.5, 0.5, DEG),
        # the interval rule's degraded stays degraded
        (601, RATE_AND_INTERVALS, 0.5, 0.5, DEG),
        (601, RATE_AND_INTERVALS, 5.0, 0.5, DEG),
        # failed by the interval wins over the rate
        (1801, RATE_AND_INTERVALS, 0.5, 0.5, FAIL),
        (1801, RATE_AND_INTERVALS, 5.0, 0.5, FAIL),
        # expected_rate 0: a measured rate never matters
        (10, WARN_AND_FAIL, 0.0, 0.5, OP),
        (10, UNTRACKED, 0.0, 0.5, NT),
    ],
)
def test_rate_rule(seconds_ago, intervals, rate, fraction, expected):
    status = stream_status(
        ago(seconds_ago), intervals, NOW, measured_rate=rate, rate_degraded_fraction=fraction
    )
    assert status is expected


def test_default_fraction_is_the_default_setting():
    fraction = default_settings.RATE_DEGRADED_FRACTION
    assert stream_status(ago(10), RATE_ONLY, NOW, measured_rate=fraction) is OP
    assert stream_status(ago(10), RATE_ONLY, NOW, measured_rate=fraction - 1e-9) is DEG


# --- intervals and overrides -----------------------------------------------------------


@pytest.mark.parametrize(
    ("intervals", "tracked"),
    [
        (Intervals(0, 0, 0), False),
        (Intervals(0.0, 0, 0), False),
        (Intervals(0.1, 0, 0), True),
        (Intervals(0, 1, 0), True),
        (Intervals(0, 0, 1), True),
        (Intervals(1, 600, 1800), True),
    ],
)
def test_tracked(intervals, tracked):
    assert intervals.tracked is tracked


@pytest.mark.parametrize(
    "values",
    [(-1, 0, 0), (0, -1, 0), (0, 0, -1), (math.nan, 0, 0)],
)
@pytest.mark.parametrize("kind", [Intervals, Overrides])
def test_negative_or_nan_values_are_refused(kind, values):
    with pytest.raises(ValueError, match=kind.__name__):
        kind(*values)


EXPECTED = Intervals(1.0, 600, 1800)


@pytest.mark.parametrize(
    ("overrides", "effective"),
    [
        (Overrides(), EXPECTED),
        (NO_OVERRIDES, EXPECTED),
        (Overrides(expected_rate=2.5), Intervals(2.5, 600, 1800)),
        (Overrides(warn_interval=60), Intervals(1.0, 60, 1800)),
        (Overrides(fail_interval=120), Intervals(1.0, 600, 120)),
        (Overrides(0.5, 60, 120), Intervals(0.5, 60, 120)),
        # an override to 0 is a value, not "unset"
        (Overrides(expected_rate=0), Intervals(0, 600, 1800)),
        (Overrides(warn_interval=0), Intervals(1.0, 0, 1800)),
        (Overrides(fail_interval=0), Intervals(1.0, 600, 0)),
        (DISABLED, Intervals(0, 0, 0)),
    ],
)
def test_effective_intervals(overrides, effective):
    assert effective_intervals(EXPECTED, overrides) == effective


@pytest.mark.parametrize(
    ("expected", "overrides", "seconds_ago", "status"),
    [
        # enable (all None): the expected stream's values
        (WARN_AND_FAIL, NO_OVERRIDES, 601, DEG),
        (WARN_AND_FAIL, NO_OVERRIDES, 1801, FAIL),
        (UNTRACKED, NO_OVERRIDES, 1801, NT),
        # disable (three zeros): not tracked
        (WARN_AND_FAIL, DISABLED, 1801, NT),
        (RATE_AND_INTERVALS, DISABLED, 10, NT),
        # overrides tighten or loosen the defaults
        (WARN_AND_FAIL, Overrides(warn_interval=60), 61, DEG),
        (WARN_AND_FAIL, Overrides(fail_interval=7200), 1801, DEG),
        (WARN_AND_FAIL, Overrides(fail_interval=0), 86400, DEG),
        (WARN_AND_FAIL, Overrides(warn_interval=0, fail_interval=0), 86400, NT),
        # an untracked expected stream tracked through one override
        (UNTRACKED, Overrides(fail_interval=300), 301, FAIL),
    ],
)
def test_status_with_overrides(expected, overrides, seconds_ago, status):
    assert stream_status(ago(seconds_ago), effective_intervals(expected, overrides), NOW) is status


@pytest.mark.parametrize(
    ("last_data", "result"),
    [
        (None, None),
        (NOW, timedelta(0)),
        (NOW - timedelta(hours=1, minutes=2, seconds=11), timedelta(seconds=3731)),
        (NOW + timedelta(seconds=5), timedelta(seconds=-5)),
    ],
)
def test_elapsed(last_data, result):
    assert elapsed(last_data, NOW) == result


# --- measured rate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prev_count", "prev_seconds_ago", "count", "rate"),
    [
        (100, 600, 700, 1.0),
        (100, 600, 100, 0.0),
        (0, 60, 3, 0.05),
        (0, 0.5, 1, 2.0),
        # undefined
        (None, 600, 700, None),
        (100, None, 700, None),
        (100, 600, None, None),
        (100, 0, 700, None),
        (100, -60, 700, None),
        (700, 600, 100, None),
    ],
)
def test_measured_rate(prev_count, prev_seconds_ago, count, rate):
    assert measured_rate(prev_count, ago(prev_seconds_ago), count, NOW) == rate


# --- the rate window -------------------------------------------------------------------

W = 600
OPEN = RateWindow(100, NOW - timedelta(seconds=300), 0.5)  # opened 5 minutes ago


@pytest.mark.parametrize(
    ("window", "count", "result"),
    [
        # first observation: the window opens, no rate yet
        (RateWindow(), 100, RateWindow(100, NOW, None)),
        # no count: nothing changes
        (OPEN, None, OPEN),
        # the window is still open: kept as is, the last measured rate stays
        (OPEN, 400, OPEN),
        # a window of exactly W seconds closes: the rate over it, a new window at (count, now)
        (RateWindow(100, NOW - timedelta(seconds=W), None), 700, RateWindow(700, NOW, 1.0)),
        (RateWindow(100, NOW - timedelta(seconds=W + 600), 3.0), 100, RateWindow(100, NOW, 0.0)),
        # the count went down (purged or reprocessed): a new window, the rate forgotten
        (RateWindow(700, NOW - timedelta(seconds=W), 2.0), 100, RateWindow(100, NOW, None)),
        # the clock went back: a new window, the rate kept
        (RateWindow(100, NOW + timedelta(seconds=60), 2.0), 200, RateWindow(200, NOW, 2.0)),
    ],
)
def test_rate_window(window, count, result):
    assert advance_rate_window(window, count, NOW, W) == result


# --- rollup ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "result"),
    [
        ([], NT),
        ([NT], NT),
        ([NT, NT], NT),
        ([OP], OP),
        ([OP, NT], OP),
        ([DEG, OP, NT], DEG),
        ([OP, FAIL, DEG, NT], FAIL),
        ([FAIL, FAIL], FAIL),
        (["operational", "failed"], FAIL),
        (["notTracked"], NT),
        ((status for status in [DEG, OP]), DEG),
    ],
)
def test_rollup(statuses, result):
    assert rollup(statuses) is result


def _worst_by_the_letter(statuses: list[Status]) -> Status:
    for status in (FAIL, DEG, OP):
        if status in statuses:
            return status
    return NT


@pytest.mark.parametrize("size", range(5))
def test_rollup_of_every_combination(size):
    for statuses in itertools.product(list(Status), repeat=size):
        assert rollup(statuses) is _worst_by_the_letter(list(statuses))
        assert rollup(str(status) for status in statuses) is _worst_by_the_letter(list(statuses))


@pytest.mark.parametrize("function", [rollup, rollup_reason])
def test_unknown_status_text_is_refused(function):
    with pytest.raises(ValueError, match="unknown"):
        function(["operational", "unknown"])


@pytest.mark.parametrize(
    ("statuses", "reason"),
    [
        ([OP, OP, OP, FAIL], "Stream statuses: operational: 3, failed: 1"),
        ([FAIL, OP, OP, OP], "Stream statuses: operational: 3, failed: 1"),
        ([NT, FAIL, DEG, OP], "Stream statuses: operational: 1, degraded: 1, failed: 1, notTracked: 1"),
        ([NT, NT, DEG], "Stream statuses: degraded: 1, notTracked: 2"),
        ([NT], "Stream statuses: notTracked: 1"),
        (["failed", "operational", "failed"], "Stream statuses: operational: 1, failed: 2"),
        ([], "Stream statuses: none"),
    ],
)
def test_rollup_reason(statuses, reason):
    assert rollup_reason(statuses) == reason


status_lists = st.lists(st.sampled_from(list(Status)), max_size=20)


@given(status_lists, st.randoms(use_true_random=False))
def test_rollup_is_order_independent(statuses, random):
    shuffled = list(statuses)
    random.shuffle(shuffled)
    assert rollup(shuffled) is rollup(statuses)
    assert rollup_reason(shuffled) == rollup_reason(statuses)


SEVERITY = {NT: 0, OP: 1, DEG: 2, FAIL: 3}


@given(status_lists)
def test_rollup_is_never_better_than_a_tracked_input(statuses):
    result = rollup(statuses)
    assert all(SEVERITY[result] >= SEVERITY[status] for status in statuses if status is not NT)
    assert result in statuses or (not statuses and result is NT)


# --- event notes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "elapsed_seconds", "intervals", "rate", "notes"),
    [
        # operational names the warn interval, or the fail interval when warn is 0
        (NT, OP, 30, WARN_AND_FAIL, None, "(notTracked -> operational) data interval within range (0:10:00)"),
        (DEG, OP, 30, WARN_AND_FAIL, None, "(degraded -> operational) data interval within range (0:10:00)"),
        (FAIL, OP, 30, WARN_AND_FAIL, None, "(failed -> operational) data interval within range (0:10:00)"),
        (FAIL, OP, 30, FAIL_ONLY, None, "(failed -> operational) data interval within range (0:30:00)"),
        (DEG, OP, 30, RATE_ONLY, 0.9, "(degraded -> operational) particle rate within range (50% of 1 Hz)"),
        # degraded by the warn interval
        (OP, DEG, 601, WARN_AND_FAIL, None,
         "(operational -> degraded) data interval threshold exceeded (0:10:01 > 0:10:00)"),
        (FAIL, DEG, 1200, WARN_AND_FAIL, None,
         "(failed -> degraded) data interval threshold exceeded (0:20:00 > 0:10:00)"),
        (NT, DEG, None, WARN_ONLY, None,
         "(notTracked -> degraded) data interval threshold exceeded (no data > 0:10:00)"),
        # rounded up: never reads as equal to the threshold it exceeded
        (OP, DEG, 600.2, WARN_AND_FAIL, None,
         "(operational -> degraded) data interval threshold exceeded (0:10:01 > 0:10:00)"),
        # failed by the fail interval
        (OP, FAIL, 3731, WARN_AND_FAIL, None,
         "(operational -> failed) data interval threshold exceeded (1:02:11 > 0:30:00)"),
        (DEG, FAIL, 1801, FAIL_ONLY, None,
         "(degraded -> failed) data interval threshold exceeded (0:30:01 > 0:30:00)"),
        (NT, FAIL, None, WARN_AND_FAIL, None,
         "(notTracked -> failed) data interval threshold exceeded (no data > 0:30:00)"),
        (OP, FAIL, 90061, WARN_AND_FAIL, None,
         "(operational -> failed) data interval threshold exceeded (1 day, 1:01:01 > 0:30:00)"),
        # degraded by the rate
        (OP, DEG, 10, RATE_ONLY, 0.12,
         "(operational -> degraded) particle rate below expected (0.12 Hz < 50% of 1 Hz)"),
        (OP, DEG, 10, RATE_AND_INTERVALS, 0.25,
         "(operational -> degraded) particle rate below expected (0.25 Hz < 50% of 2 Hz)"),
        (OP, DEG, 10, RATE_ONLY, 0,
         "(operational -> degraded) particle rate below expected (0 Hz < 50% of 1 Hz)"),
        # both rules hold: the interval text
        (OP, DEG, 601, RATE_AND_INTERVALS, 0.25,
         "(operational -> degraded) data interval threshold exceeded (0:10:01 > 0:10:00)"),
        # notTracked: the change alone
        (OP, NT, 30, UNTRACKED, None, "(operational -> notTracked)"),
        (FAIL, NT, None, UNTRACKED, None, "(failed -> notTracked)"),
        # values that do not explain a degraded status: the change alone
        (OP, DEG, 10, WARN_AND_FAIL, None, "(operational -> degraded)"),
    ],
)  # fmt: skip
def test_change_notes(old, new, elapsed_seconds, intervals, rate, notes):
    since = None if elapsed_seconds is None else timedelta(seconds=elapsed_seconds)
    assert change_notes(old, new, since, intervals, measured_rate=rate) == notes


@pytest.mark.parametrize(
    ("fraction", "notes"),
    [
        (0.25, "(operational -> degraded) particle rate below expected (0.2 Hz < 25% of 1 Hz)"),
        (0.333, "(operational -> degraded) particle rate below expected (0.2 Hz < 33.3% of 1 Hz)"),
    ],
)
def test_change_notes_name_the_fraction(fraction, notes):
    since = timedelta(seconds=10)
    assert (
        change_notes(OP, DEG, since, RATE_ONLY, measured_rate=0.2, rate_degraded_fraction=fraction) == notes
    )


@pytest.mark.parametrize(
    ("seconds_ago", "intervals", "rate"),
    [
        (601, WARN_AND_FAIL, None),
        (1801, WARN_AND_FAIL, None),
        (30, WARN_AND_FAIL, None),
        (None, WARN_ONLY, None),
        (10, RATE_ONLY, 0.1),
        (10, RATE_ONLY, 0.9),
        (10, UNTRACKED, None),
    ],
)
def test_notes_explain_the_computed_status(seconds_ago, intervals, rate):
    last_data = ago(seconds_ago)
    new = stream_status(last_data, intervals, NOW, measured_rate=rate)
    notes = change_notes(NT, new, elapsed(last_data, NOW), intervals, measured_rate=rate)
    assert notes.startswith(f"(notTracked -> {new})")
    assert (notes == f"(notTracked -> {new})") is (new is NT)


# --- the event message -----------------------------------------------------------------


def test_asset_status_event_is_the_monitor_md_example():
    event = asset_status_event(
        asset_uid="CGINS-CTDBPC-50013",
        stream="ctdbp_no_sample",
        rollup_status=rollup([OP, OP, OP, FAIL]),
        reason=rollup_reason([OP, OP, OP, FAIL]),
        notes=change_notes(OP, FAIL, timedelta(seconds=3731), WARN_AND_FAIL),
        event_time=datetime(2017, 2, 2, 0, 21, tzinfo=UTC),
    )
    assert event == {
        "@class": ".AssetStatusEvent",
        "assetUid": "CGINS-CTDBPC-50013",
        "eventType": "ASSET_STATUS",
        "eventName": "ctdbp_no_sample",
        "status": "failed",
        "severity": 0,
        "reason": "Stream statuses: operational: 3, failed: 1",
        "location": None,
        "eventStartTime": 1485994860000,
        "notes": "(operational -> failed) data interval threshold exceeded (1:02:11 > 0:30:00)",
        "dataSource": "AUTO: data monitor service",
        "method": "automatic",
    }
    assert list(event) == [
        "@class", "assetUid", "eventType", "eventName", "status", "severity",
        "reason", "location", "eventStartTime", "notes", "dataSource", "method",
    ]  # fmt: skip
    assert type(event["status"]) is str
    assert type(event["eventStartTime"]) is int
    assert json.loads(json.dumps(event)) == event
    assert '"location": null' in json.dumps(event)


@pytest.mark.parametrize(
    ("event_time", "milliseconds"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), 0),
        (datetime(2017, 2, 2, 0, 21, 0, 999_999, tzinfo=UTC), 1485994860999),
    ],
)
def test_event_start_time_is_unix_milliseconds(event_time, milliseconds):
    event = asset_status_event(
        asset_uid="A", stream="s", rollup_status="degraded", reason="r", notes="n", event_time=event_time
    )
    assert event["eventStartTime"] == milliseconds
    assert event["status"] == "degraded"
