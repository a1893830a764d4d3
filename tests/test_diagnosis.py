"""The diagnosis rule, table-driven: both texts exact, every boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ooi_status.diagnosis import PortSummary, byte_rate, diagnose

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
SILENT_SINCE = datetime(2026, 12, 1, 10, 2, 11, tzinfo=UTC)
FIRST = datetime(2026, 11, 20, 8, 0, 0, 500000, tzinfo=UTC)


def summary(window_bytes=0, window_seconds=0.0, last_nonzero=SILENT_SINCE, first=FIRST) -> PortSummary:
    return PortSummary(window_bytes, window_seconds, last_nonzero, first)


RECEIVING_412 = "port agent receiving 412 B/s: data arrives but no particles are stored (ingest or parser)"
SILENT_TEXT = "no bytes from the port agent since 2026-12-01 10:02:11 (instrument or communications)"


@pytest.mark.parametrize(
    ("status", "port", "expected"),
    [
        ("failed", summary(247_200, 600.0), RECEIVING_412),
        ("degraded", summary(247_200, 600.0), RECEIVING_412),
        ("failed", summary(0, 600.0), SILENT_TEXT),  # counts in the window, all zero
        ("degraded", summary(0, 0.0), SILENT_TEXT),  # no count in the window at all
        # Never a byte: silent since the earliest count the monitor has.
        ("failed", summary(0, 600.0, last_nonzero=None),
         "no bytes from the port agent since 2026-11-20 08:00:00 (instrument or communications)"),
        # A port agent's clock ahead of ours: dated now, never in the future.
        ("failed", summary(0, 0.0, last_nonzero=NOW + timedelta(hours=1)),
         "no bytes from the port agent since 2026-12-01 12:00:00 (instrument or communications)"),
        ("operational", summary(247_200, 600.0), None),
        ("operational", summary(0, 600.0), None),
        ("notTracked", summary(0, 600.0), None),
        ("failed", None, None),  # no port statistics for the instrument
        ("degraded", None, None),
    ],
)  # fmt: skip
def test_diagnosis(status, port, expected):
    assert diagnose(status, port, NOW) == expected


@pytest.mark.parametrize(
    ("window_bytes", "window_seconds", "rate"),
    [
        (247_200, 600.0, 412),
        (247_500, 600.0, 413),  # 412.5 rounds half up
        (247_499, 600.0, 412),
        (1, 600.0, 1),  # bytes arrive: never reads as 0 B/s
        (0, 600.0, 0),
        (50, 0.0, 50),  # counts of no duration: taken as one second
        (10**15, 1.0, 10**15),
    ],
)
def test_byte_rate(window_bytes, window_seconds, rate):
    assert byte_rate(window_bytes, window_seconds) == rate


def test_receiving_text_uses_the_rounded_rate():
    assert diagnose("failed", summary(1, 600.0), NOW) == (
        "port agent receiving 1 B/s: data arrives but no particles are stored (ingest or parser)"
    )
