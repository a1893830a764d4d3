"""The arguments of the /report routes and their CSV form.

Query rules as everywhere in the API: an empty value counts as absent, a parameter given
twice is a 400 naming it, enumerations are case-insensitive, timestamps are ISO 8601 UTC
(ooi_status.times.parse_iso_timestamp).

The window of a report is either ``window`` (1d, 7d or 30d, ending now) or
``start_time``/``stop_time`` (stop defaults to now and is clamped to it); without either
the uptime report covers the last 7 days. Giving both forms is a 400. The coverage report
takes ``start_time``/``stop_time`` only (``coverage_window``).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ooi_status.api.arguments import Arguments, choice, single, timestamp
from ooi_status.api.errors import BadRequest
from ooi_status.exports import csv_row

WINDOWS = {"1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
DEFAULT_WINDOW = "7d"
#: Calendar months of a coverage report by month without start_time (this one included).
DEFAULT_MONTHS = 12
FORMATS = ("json", "csv")


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    stop: datetime


def report_window(args: Arguments, now: datetime) -> Span:
    """The window of ``window`` or ``start_time``/``stop_time`` (default: the last 7 days).

    stop is clamped to now; an empty window is a 400."""
    start, stop = timestamp(args, "start_time"), timestamp(args, "stop_time")
    if start is None and stop is None:
        return Span(now - WINDOWS[choice(args, "window", tuple(WINDOWS), DEFAULT_WINDOW)], now)
    if single(args, "window") is not None:
        raise BadRequest("window: give either window or start_time/stop_time, not both")
    if start is None:
        raise BadRequest("start_time: required with stop_time (or give window=1d, 7d or 30d)")
    stop = now if stop is None else min(stop, now)
    if not start < stop:
        raise BadRequest(
            "start_time/stop_time: the window is empty: start_time must be before stop_time "
            "(stop_time defaults to now and is clamped to now)"
        )
    return Span(start, stop)


def coverage_window(args: Arguments, now: datetime, by: str) -> tuple[datetime | None, datetime]:
    """``start_time``/``stop_time`` of the coverage report. Defaults: by month, the last 12
    calendar months (this one included); by deployment, every deployment. stop is clamped to now."""
    start, stop = timestamp(args, "start_time"), timestamp(args, "stop_time")
    stop = now if stop is None else min(stop, now)
    if start is None and by == "month":
        year, month = divmod(now.year * 12 + now.month - 1 - (DEFAULT_MONTHS - 1), 12)
        start = datetime(year, month + 1, 1, tzinfo=UTC)
    if start is not None and not start < stop:
        raise BadRequest(
            "start_time/stop_time: the window is empty: start_time must be before stop_time "
            "(stop_time defaults to now and is clamped to now)"
        )
    return start, stop


def csv_text(header: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """RFC 4180 CSV (CRLF line ends) of the ``header`` fields of each row; None is an empty field."""
    named = {name: name for name in header}  # the header line: each field's name as its value
    return "".join(csv_lines(header, itertools.chain((named,), rows)))


def csv_lines(header: Sequence[str], rows: Iterable[dict[str, Any]]) -> list[str]:
    """Each row's line of ``csv_text(header, rows)``, without the header's."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    lines = []
    for row in rows:
        writer.writerow(csv_row("" if row[name] is None else row[name] for name in header))
        lines.append(out.getvalue())
        out.seek(0)
        out.truncate()
    return lines
