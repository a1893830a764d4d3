"""Where the data of a degraded or failed instrument stops: a pure rule over its port counts.

A port agent counts the bytes its instrument sends. When the instrument's streams are
degraded or failed, those counts tell an operator where to look:

- bytes arrived within the rate window → the instrument and the communications work, the
  data is lost after the port agent: ``port agent receiving 412 B/s: data arrives but no
  particles are stored (ingest or parser)``;
- no bytes within the window → the data never reached the port agent: ``no bytes from the
  port agent since 2026-12-01 10:02:11 (instrument or communications)``, dated at the end of
  the latest count with bytes (or, when no stored count ever had bytes, the start of the
  earliest count the monitor has: the silence is at least that old);
- no port statistics at all for the instrument, or an instrument that is operational or not
  tracked → no diagnosis (None).

The rate is the sum of ``bytes_in`` over the sum of ``elapsed`` of the counts whose end_time
falls in the window (``now - RATE_WINDOW``, ``now``], rounded half up to whole B/s; counts that
had bytes but round to 0 read as 1 B/s (bytes do arrive), and counts of zero elapsed seconds
with bytes are taken as one second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from ooi_status.times import format_timestamp

#: Instrument statuses that get a diagnosis.
DIAGNOSED = frozenset({"degraded", "failed"})

RECEIVING = "port agent receiving {rate} B/s: data arrives but no particles are stored (ingest or parser)"
SILENT = "no bytes from the port agent since {since} (instrument or communications)"


@dataclass(frozen=True, slots=True)
class PortSummary:
    """One instrument's port counts: sums over the rate window, and the times that date a silence.

    ``window_bytes`` and ``window_seconds`` sum bytes_in and elapsed of the counts ending in the
    window; ``last_nonzero_time`` is the end of the latest count with bytes (None: never);
    ``first_time`` is the start of the earliest count received.
    """

    window_bytes: int
    window_seconds: float
    last_nonzero_time: datetime | None
    first_time: datetime


def byte_rate(window_bytes: int, window_seconds: float) -> int:
    """Whole bytes per second over a window: half up; at least 1 when any byte arrived."""
    if window_bytes <= 0:
        return 0
    rate = window_bytes / window_seconds if window_seconds > 0 else float(window_bytes)
    return max(1, math.floor(rate + 0.5))


def diagnose(status: str, port_summary: PortSummary | None, now: datetime) -> str | None:
    """The diagnosis text of an instrument of rollup ``status``, or None."""
    if status not in DIAGNOSED or port_summary is None:
        return None
    if port_summary.window_bytes > 0:
        return RECEIVING.format(rate=byte_rate(port_summary.window_bytes, port_summary.window_seconds))
    since = port_summary.last_nonzero_time or port_summary.first_time
    # A port agent's clock ahead of ours must not date the silence in the future.
    return SILENT.format(since=format_timestamp(min(since, now)))
