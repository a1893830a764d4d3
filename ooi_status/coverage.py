"""Coverage: seconds of each availability category per calendar month and per deployment.

Pure: no I/O, no clock (``now`` is an argument), NTP seconds inside as in
ooi_status.availability.engine, whose rules this module only applies — it never reimplements them.

*The same window as /available.* The availability rules depend on the window (the gap
threshold and the mean interval are fractions of its length), so a period's coverage is
defined as the durations of the spans /available returns for one stream with
``start_time`` = the period's start and ``stop_time`` = its end: a calendar month
[first day 00:00, first day of the next month 00:00) UTC, or a deployment [start, stop)
(stop = now while it is open). That request's window is narrowed as every /available window
is (``resolve_window``: to the instrument's deployments, and to now); the narrowed window is
what is stored with the coverage row, and /available over exactly that window
(``start_time``/``stop_time`` = the stored window) gives the same spans again, so the
equality holds label by label, to the microsecond of the stored timestamps.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ooi_status.availability.engine import (
    CATEGORIES,
    MISSING,
    NOT_EXPECTED,
    PRESENT,
    SPARSE1,
    SPARSE2,
    SPARSE3,
    BinLike,
    Deployment,
    Rules,
    Span,
    Window,
    resolve_window,
    stream_spans,
)
from ooi_status.times import datetime_to_ntp, ntp_to_datetime

MONTH, DEPLOYMENT = "month", "deployment"
#: The categories in the order of the reports: Present, Sparsity Level 1-3, Missing, Not Expected.
SECONDS = (PRESENT, SPARSE1, SPARSE2, SPARSE3, MISSING, NOT_EXPECTED)
#: Categories whose time is expected data: the denominator of the present percentage.
EXPECTED = tuple(c for c in CATEGORIES if c != NOT_EXPECTED)


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar month (label ``YYYY-MM``) or a deployment (label its number), natural bounds in
    NTP seconds; ``stop`` None for an open deployment."""

    kind: str
    label: str
    start: float
    stop: float | None


@dataclass(frozen=True, slots=True)
class PeriodCoverage:
    period: Period
    window: Window
    seconds: dict[str, float]


def month_start(ntp: float) -> float:
    """Start of the calendar month (UTC) holding ``ntp``."""
    moment = ntp_to_datetime(ntp)
    return datetime_to_ntp(datetime(moment.year, moment.month, 1, tzinfo=UTC))


def months(first: float, last: float) -> list[Period]:
    """Every calendar month from the one holding ``first`` to the one holding ``last``."""
    periods: list[Period] = []
    moment = ntp_to_datetime(month_start(first))
    while (start := datetime_to_ntp(moment)) <= last:
        following = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)
        periods.append(
            Period(MONTH, f"{moment.year:04d}-{moment.month:02d}", start, datetime_to_ntp(following))
        )
        moment = following
    return periods


def instrument_periods(
    deployments: Sequence[Deployment], earliest_data: float | None, now: float, since: float | None = None
) -> list[Period]:
    """The months an instrument's coverage has — from its first deployment start (its first data
    point without deployments) to now or its last deployment stop — and its deployments.
    ``since``: only the months ending after it (and the deployments)."""
    if deployments:
        first = min(d.start for d in deployments)
        last = min(now, max(now if d.stop is None else d.stop for d in deployments))
    elif earliest_data is not None:
        first, last = earliest_data, now
    else:
        return []
    periods = months(first if since is None else max(first, since), last) if first < last else []
    periods.extend(
        Period(DEPLOYMENT, str(d.number), d.start, d.stop) for d in sorted(deployments, key=lambda d: d.start)
    )
    return periods


def period_window(
    period: Period, deployments: Sequence[Deployment], now: float, earliest_data: float | None
) -> Window | None:
    """The window /available draws for start_time = the period's start and stop_time = its end."""
    return resolve_window(deployments, period.start, period.stop, now, earliest_data)


def seconds_by_category(spans: Iterable[Span]) -> dict[str, float]:
    """Total duration of each category (all six keys)."""
    totals = dict.fromkeys(SECONDS, 0.0)
    for span in spans:
        totals[span.category] += span.stop - span.start
    return totals


def present_percent(seconds: dict[str, float]) -> float | None:
    """Present time over expected time (everything but Not Expected) in percent, to 0.01."""
    expected = sum(seconds[c] for c in EXPECTED)
    return None if expected <= 0 else round(100.0 * seconds[PRESENT] / expected, 2)


class StreamBins:
    """One stream's bins sorted by first point, sliced per window without changing any result:
    every bin overlapping a window is in its slice, and stream_spans keeps only those."""

    def __init__(self, bins: Iterable[BinLike]) -> None:
        self.bins = list(bins)
        self.firsts = [b.first for b in self.bins]
        # Readers return bins in order: sorted only when the first points do not strictly increase
        # (with a tie the full key decides, so that the input order never matters).
        if self.firsts != sorted(self.firsts) or len(set(self.firsts)) != len(self.firsts):
            self.bins.sort(key=lambda b: (b.first, b.last, b.points))
            self.firsts = [b.first for b in self.bins]
        self.longest = max((b.last - b.first for b in self.bins), default=0.0)

    def overlapping(self, window: Window) -> list[BinLike]:
        low = bisect_left(self.firsts, window.start - self.longest)
        high = bisect_left(self.firsts, window.stop, lo=low)
        return self.bins[low:high]


def stream_coverage(
    bins: StreamBins,
    deployments: Sequence[Deployment],
    periods: Iterable[Period],
    now: float,
    earliest_data: float | None,
    rules: Rules,
) -> list[PeriodCoverage]:
    """The coverage of one stream over each period that has a window."""
    result = []
    for period in periods:
        window = period_window(period, deployments, now, earliest_data)
        if window is None:
            continue
        spans = stream_spans(bins.overlapping(window), deployments, window, rules)
        result.append(PeriodCoverage(period, window, seconds_by_category(spans)))
    return result
