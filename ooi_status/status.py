"""Status rules of the monitor (spec/MONITOR.md), as pure functions over plain values.

Nothing here does I/O or reads the clock: ``now`` is always an argument, and every
``datetime`` is aware UTC. The check round calls these for every active stream of every
round, so they stay cheap: a few comparisons per stream, text built only for changes.

Decisions beyond the letter of MONITOR.md:

- A stream with no data point at all (``last_data is None``) has been silent forever: its
  elapsed time exceeds every non-zero interval. With tracked intervals it is failed when
  fail_interval > 0, else degraded when warn_interval > 0, else (rate-only tracking) the
  rate rule alone decides.
- Elapsed exactly equal to an interval does not exceed it; a negative elapsed (a data point
  stamped after ``now``) exceeds nothing.
- The rate rule: expected_rate > 0 and a measured rate strictly below
  ``rate_degraded_fraction × expected_rate`` → degraded. An unknown rate (None) never
  degrades. The interval rule's failed wins over it.
- Notes: operational names the warn interval, or the fail interval when warn is 0, or for a
  rate-only stream ``particle rate within range (50% of 1 Hz)``. A degraded stream caused by
  the rate rule reads ``particle rate below expected (0.12 Hz < 50% of 1 Hz)``; when both rules
  hold the interval text wins. The elapsed time in notes is rounded up to the whole second,
  so it never reads as equal to the threshold it exceeded; with no data point it is ``no data``.
- The rollup reason of no streams is ``Stream statuses: none``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ooi_status.times import datetime_to_unix_ms, format_duration


class Status(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    FAILED = "failed"
    NOT_TRACKED = "notTracked"


#: Statuses from best to worst for the rollup; notTracked counts only when nothing else does.
_BY_SEVERITY = (Status.NOT_TRACKED, Status.OPERATIONAL, Status.DEGRADED, Status.FAILED)
#: Severity of each status. A StrEnum member hashes and compares equal to its value, so
#: plain stored strings look up here without conversion.
_SEVERITY: dict[str, int] = {status: rank for rank, status in enumerate(_BY_SEVERITY)}
#: The order of the counts in a rollup reason.
_REASON_ORDER = (Status.OPERATIONAL, Status.DEGRADED, Status.FAILED, Status.NOT_TRACKED)

#: Constant fields of an AssetStatusEvent (MONITOR.md).
EVENT_CLASS = ".AssetStatusEvent"
EVENT_TYPE = "ASSET_STATUS"
EVENT_DATA_SOURCE = "AUTO: data monitor service"
EVENT_METHOD = "automatic"


def _check_non_negative(owner: str, **values: float | None) -> None:
    for name, value in values.items():
        # `not value >= 0` also refuses NaN.
        if value is not None and not value >= 0:
            raise ValueError(f"{owner}.{name} must be a number >= 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class Intervals:
    """Effective thresholds of one stream: rate in Hz, intervals in seconds; 0 disables each.

    Raises ValueError for a negative or NaN value, so a bad metadata row fails loudly at
    the edge rather than silently reading as "never exceeded".
    """

    expected_rate: float
    warn_interval: int
    fail_interval: int

    def __post_init__(self) -> None:
        _check_non_negative(
            "Intervals",
            expected_rate=self.expected_rate,
            warn_interval=self.warn_interval,
            fail_interval=self.fail_interval,
        )

    @property
    def tracked(self) -> bool:
        """False only when all three values are 0 ("do not track this stream")."""
        return bool(self.expected_rate or self.warn_interval or self.fail_interval)


@dataclass(frozen=True, slots=True)
class Overrides:
    """A deployed stream's overrides; None means "use the expected stream's value"."""

    expected_rate: float | None = None
    warn_interval: int | None = None
    fail_interval: int | None = None

    def __post_init__(self) -> None:
        _check_non_negative(
            "Overrides",
            expected_rate=self.expected_rate,
            warn_interval=self.warn_interval,
            fail_interval=self.fail_interval,
        )


#: Overrides that disable a stream (PUT /stream/<id>/disable) and that clear them (enable).
DISABLED = Overrides(0, 0, 0)
NO_OVERRIDES = Overrides()


def effective_intervals(expected: Intervals, overrides: Overrides) -> Intervals:
    """Each override where it is not None (0 included), else the expected stream's value."""
    if overrides == NO_OVERRIDES:
        return expected
    return Intervals(
        expected.expected_rate if overrides.expected_rate is None else overrides.expected_rate,
        expected.warn_interval if overrides.warn_interval is None else overrides.warn_interval,
        expected.fail_interval if overrides.fail_interval is None else overrides.fail_interval,
    )


def elapsed(last_data: datetime | None, now: datetime) -> timedelta | None:
    """Time since the last data point; None when the stream has none."""
    return None if last_data is None else now - last_data


def _elapsed_seconds(last_data: datetime | None, now: datetime) -> float:
    return math.inf if last_data is None else (now - last_data).total_seconds()


def _seconds(elapsed: timedelta | None) -> float:
    return math.inf if elapsed is None else elapsed.total_seconds()


def _interval_status(seconds: float, intervals: Intervals) -> Status:
    """The interval rule alone, for a tracked stream: failed, degraded or operational."""
    if intervals.fail_interval > 0 and seconds > intervals.fail_interval:
        return Status.FAILED
    if intervals.warn_interval > 0 and seconds > intervals.warn_interval:
        return Status.DEGRADED
    return Status.OPERATIONAL


def rate_is_low(intervals: Intervals, measured_rate: float | None, rate_degraded_fraction: float) -> bool:
    """The rate rule: expected_rate > 0 and a known measured rate strictly below the fraction."""
    return (
        intervals.expected_rate > 0
        and measured_rate is not None
        and measured_rate < rate_degraded_fraction * intervals.expected_rate
    )


def stream_status(
    last_data: datetime | None,
    intervals: Intervals,
    now: datetime,
    measured_rate: float | None = None,
    rate_degraded_fraction: float = 0.5,
) -> Status:
    """Status of one stream from its effective intervals (see the module docstring)."""
    if not intervals.tracked:
        return Status.NOT_TRACKED
    status = _interval_status(_elapsed_seconds(last_data, now), intervals)
    if status is Status.OPERATIONAL and rate_is_low(intervals, measured_rate, rate_degraded_fraction):
        return Status.DEGRADED
    return status


def measured_rate(
    prev_count: int | None, prev_time: datetime | None, count: int | None, now: datetime
) -> float | None:
    """Particles per second between two observations of a stream's count.

    None when undefined: no previous observation, no current count, no time passed (or the
    clock went back), or the count went down (the stream was purged or reprocessed).
    """
    if prev_count is None or prev_time is None or count is None or count < prev_count:
        return None
    seconds = (now - prev_time).total_seconds()
    if seconds <= 0:
        return None
    return (count - prev_count) / seconds


@dataclass(frozen=True, slots=True)
class RateWindow:
    """Where a stream's current rate window started (count, time) and the last measured rate."""

    base_count: int | None = None
    base_time: datetime | None = None
    rate: float | None = None


def advance_rate_window(window: RateWindow, count: int | None, now: datetime, seconds: float) -> RateWindow:
    """The rate window after observing ``count`` at ``now``.

    A window of ``seconds`` closes once that much time has passed since it opened: the rate
    over it becomes the measured rate and a new window opens at (count, now). No count keeps
    everything as it was. A first observation, a count that went down (the stream was purged
    or reprocessed) or a clock that went back opens a new window; the count going down also
    forgets the measured rate, which no longer describes the stream.
    """
    if count is None:
        return window
    if window.base_count is None or window.base_time is None or now < window.base_time:
        return RateWindow(count, now, window.rate)
    if count < window.base_count:
        return RateWindow(count, now, None)
    if (now - window.base_time).total_seconds() >= seconds:
        return RateWindow(count, now, measured_rate(window.base_count, window.base_time, count, now))
    return window


def _severity(status: Status | str) -> int:
    try:
        return _SEVERITY[status]
    except KeyError:
        raise ValueError(f"unknown stream status {status!r}") from None


def rollup(statuses: Iterable[Status | str]) -> Status:
    """Worst of the statuses: failed > degraded > operational > notTracked (also for none).

    Raises ValueError for a string that is not a status.
    """
    return _BY_SEVERITY[max(map(_severity, statuses), default=0)]


def rollup_reason(statuses: Iterable[Status | str]) -> str:
    """``Stream statuses: operational: 3, failed: 1`` — fixed order, zero counts left out."""
    # Status members and their plain strings are equal keys, so they count together.
    counts = Counter(statuses)
    for status in counts:
        _severity(status)
    parts = [f"{status}: {counts[status]}" for status in _REASON_ORDER if counts[status]]
    return "Stream statuses: " + (", ".join(parts) if parts else "none")


def _format_rate(hertz: float) -> str:
    return f"{hertz:g} Hz"


def _format_fraction(intervals: Intervals, rate_degraded_fraction: float) -> str:
    return f"{rate_degraded_fraction * 100:g}% of {_format_rate(intervals.expected_rate)}"


def _format_elapsed(elapsed: timedelta | None) -> str:
    return "no data" if elapsed is None else format_duration(math.ceil(elapsed.total_seconds()))


def _exceeded(elapsed: timedelta | None, interval: int) -> str:
    return f"data interval threshold exceeded ({_format_elapsed(elapsed)} > {format_duration(interval)})"


def _within_range(intervals: Intervals, rate_degraded_fraction: float) -> str:
    interval = intervals.warn_interval or intervals.fail_interval
    if interval:
        return f"data interval within range ({format_duration(interval)})"
    return f"particle rate within range ({_format_fraction(intervals, rate_degraded_fraction)})"


def _degraded_reason(
    elapsed: timedelta | None,
    intervals: Intervals,
    measured_rate: float | None,
    rate_degraded_fraction: float,
) -> str | None:
    if intervals.warn_interval > 0 and _seconds(elapsed) > intervals.warn_interval:
        return _exceeded(elapsed, intervals.warn_interval)
    if measured_rate is not None and rate_is_low(intervals, measured_rate, rate_degraded_fraction):
        fraction = _format_fraction(intervals, rate_degraded_fraction)
        return f"particle rate below expected ({_format_rate(measured_rate)} < {fraction})"
    return None


def change_notes(
    old: Status,
    new: Status,
    elapsed: timedelta | None,
    intervals: Intervals,
    measured_rate: float | None = None,
    rate_degraded_fraction: float = 0.5,
) -> str:
    """The ``notes`` of a status-change event: ``(old -> new)`` and why (module docstring).

    Takes the same values the status was computed from. Should they not explain ``new``
    (a degraded stream with neither rule holding), the notes are ``(old -> new)`` alone.
    """
    change = f"({old} -> {new})"
    if new == Status.OPERATIONAL:
        reason: str | None = _within_range(intervals, rate_degraded_fraction)
    elif new == Status.DEGRADED:
        reason = _degraded_reason(elapsed, intervals, measured_rate, rate_degraded_fraction)
    elif new == Status.FAILED:
        reason = _exceeded(elapsed, intervals.fail_interval)
    else:
        reason = None
    return f"{change} {reason}" if reason else change


def asset_status_event(
    *,
    asset_uid: str,
    stream: str,
    rollup_status: Status | str,
    reason: str,
    notes: str,
    event_time: datetime,
) -> dict[str, object]:
    """The AssetStatusEvent message of MONITOR.md, ready for ``json.dumps``.

    ``rollup_status``/``reason`` are the instrument's after the round's changes; ``notes``
    is the stream's own change; ``event_time`` becomes Unix milliseconds.
    """
    return {
        "@class": EVENT_CLASS,
        "assetUid": asset_uid,
        "eventType": EVENT_TYPE,
        "eventName": stream,
        "status": Status(rollup_status).value,
        "severity": 0,
        "reason": reason,
        "location": None,
        "eventStartTime": datetime_to_unix_ms(event_time),
        "notes": notes,
        "dataSource": EVENT_DATA_SOURCE,
        "method": EVENT_METHOD,
    }
