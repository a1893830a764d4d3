"""/instrument/<refdes>/port: the port-agent byte counts of one instrument, as JSON or CSV.

``start_time``/``stop_time`` as /available reads them (ISO 8601, UTC); absent, the window is
the last 24 hours up to now. Raw counts are listed where the monitor still keeps them
(PORT_COUNT_RAW_DAYS), hourly sums beyond: ``time`` is a count's end, or the start of the hour
of a sum. An instrument is known when the monitor tracks it or a port agent reported for it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ooi_status.api.arguments import Arguments, choice, timestamp
from ooi_status.api.errors import BadRequest, NotFound
from ooi_status.exports import csv_row
from ooi_status.model.monitor import PortAgent, ReferenceDesignator
from ooi_status.port_store import SeriesPoint
from ooi_status.times import format_timestamp

FORMATS = ("json", "csv")
DEFAULT_SPAN = timedelta(days=1)
CSV_HEADER = ("time", "bytes", "seconds", "bytes_per_second")


@dataclass(frozen=True, slots=True)
class PortQuery:
    start: datetime
    stop: datetime
    format: str


def parse_query(args: Arguments, now: datetime) -> PortQuery:
    stop = timestamp(args, "stop_time") or now
    start = timestamp(args, "start_time") or stop - DEFAULT_SPAN
    if start >= stop:
        raise BadRequest(
            f"start_time/stop_time: the window is empty: start_time {format_timestamp(start)} "
            f"is not before stop_time {format_timestamp(stop)}"
        )
    return PortQuery(start, stop, choice(args, "format", FORMATS, "json"))


def known_refdes(session: Session, refdes: str) -> str:
    """The reference designator named (or given by the instrument's numeric id); NotFound otherwise."""
    if refdes.isascii() and refdes.isdigit() and int(refdes) < 2**31:
        name = session.scalar(select(ReferenceDesignator.name).where(ReferenceDesignator.id == int(refdes)))
        if name is not None:
            return name
    if session.scalar(select(ReferenceDesignator.id).where(ReferenceDesignator.name == refdes)) is not None:
        return refdes
    if session.scalar(select(PortAgent.refdes).where(PortAgent.refdes == refdes)) is not None:
        return refdes
    raise NotFound(f"no instrument {refdes!r}: not monitored and no port-agent statistics for it")


def point(item: SeriesPoint) -> dict[str, Any]:
    return {
        "time": format_timestamp(item.time),
        "bytes": item.bytes,
        "seconds": item.seconds,
        "bytes_per_second": item.rate,
    }


def as_json(refdes: str, query: PortQuery, points: list[SeriesPoint]) -> dict[str, Any]:
    return {
        "reference_designator": refdes,
        "start_time": format_timestamp(query.start),
        "stop_time": format_timestamp(query.stop),
        "counts": [point(item) for item in points],
    }


def as_csv(points: list[SeriesPoint]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_row(CSV_HEADER))
    for item in points:
        row = point(item)
        writer.writerow(csv_row(row[name] for name in CSV_HEADER))
    return out.getvalue()
