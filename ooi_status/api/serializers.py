"""The JSON shape of every object the API returns: one function per object (API.md).

Timestamps are UTC ``YYYY-MM-DD HH:MM:SS`` or null. Floats are rounded to what they mean:
durations in seconds to the millisecond, measured rates to six significant digits; values an
operator set (``expected_rate``) are given back as set. Keys beyond API.md's shapes
(``last_data_time``, ``measured_rate``, ``expected_stream.id`` is documented) are additions,
never renames.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ooi_status.api import cooperative
from ooi_status.api.queries import HistoryPage, Instrument, StreamList
from ooi_status.api.validation import ListQuery
from ooi_status.model.monitor import ExpectedStream, Silence, StatusHistory
from ooi_status.silences import SilenceRule, state
from ooi_status.times import format_timestamp

#: Serialized expected streams by id, shared by the listings of one answer.
ExpectedById = dict[int, dict[str, Any]]


def timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def seconds(value: float | None) -> float | None:
    """Seconds to the millisecond: a duration's float noise is not information."""
    return None if value is None else round(value, 3)


def rate(value: float | None) -> float | None:
    """A measured rate (particles per second) to six significant digits, as it is measured: from
    the change of a count over a rate window of minutes."""
    return None if value is None else float(f"{value:.6g}")


def expected_stream(item: ExpectedStream) -> dict[str, Any]:
    """``{"id", "name", "method", "expected_rate", "warn_interval", "fail_interval"}``."""
    return {
        "id": item.id,
        "name": item.name,
        "method": item.method,
        "expected_rate": item.expected_rate,
        "warn_interval": item.warn_interval,
        "fail_interval": item.fail_interval,
    }


def silence_mark(rule: SilenceRule | None) -> dict[str, Any] | None:
    """What a stream or instrument shows of the silence in force on it: ``{"id", "until", "reason"}``."""
    if rule is None:
        return None
    return {"id": rule.id, "until": timestamp(rule.ends_at), "reason": rule.reason}


def deployed_stream(row: Any, expected: dict[str, Any], silence: SilenceRule | None = None) -> dict[str, Any]:
    """A deployed stream (a row of queries.StreamList, its columns in ``queries.STREAM_COLUMNS``'
    order and its timestamps already the API's text, see ``model.types.TimestampText``) with its
    expected stream, already serialized, and the silence in force on it.

    The row is unpacked once rather than read by name 19 times: a list of the fleet is 12,000
    of them."""
    (ident, refdes, refdes_id, _, expected_rate, warn, fail, status, status_time, last_data_time, measured,
     flapping, ack_by, ack_at, ack_note, disabled_by, disabled_at, reason, until) = row  # fmt: skip
    return {
        "id": ident,
        "reference_designator": refdes,
        "reference_designator_id": refdes_id,
        "expected_stream": expected,
        "expected_rate": expected_rate,
        "warn_interval": warn,
        "fail_interval": fail,
        "status": status,
        "status_time": status_time,
        "last_data_time": last_data_time,
        "measured_rate": rate(measured),
        "silenced": silence_mark(silence),
        "flapping": flapping,
        "acknowledged": None if ack_at is None else {"by": ack_by, "at": ack_at, "note": ack_note},
        # All three overrides 0; a stream disabled before reasons were recorded (or by PATCH) has
        # them all null.
        "disabled": (
            {"by": disabled_by, "at": disabled_at, "reason": reason, "until": until}
            if expected_rate == 0 and warn == 0 and fail == 0
            else None
        ),
    }


def deployed_streams(listing: StreamList, expected: ExpectedById | None = None) -> list[dict[str, Any]]:
    """Every row of a listing; each expected stream is serialized once and shared (``expected``:
    serialized already, by id, for several listings)."""
    if expected is None:
        expected = {ident: expected_stream(item) for ident, item in listing.expected.items()}
    silences = listing.silences
    return [
        deployed_stream(row, expected[row.expected_id], silences.get(row.id))
        for part in cooperative.slices(listing.rows)
        for row in part
    ]


def instrument(item: Instrument, *, expected: ExpectedById | None = None) -> dict[str, Any]:
    """``{"overall": status, "status": [deployed streams], "silenced": silence or null,
    "diagnosis": text or null}``."""
    return {
        "overall": item.overall,
        "status": deployed_streams(item.streams, expected),
        "silenced": silence_mark(item.silenced),
        "diagnosis": item.diagnosis,
    }


def instruments(items: Iterable[Instrument]) -> dict[str, dict[str, Any]]:
    """Instruments by reference designator, the expected streams serialized once for all of them
    (the fleet's 3,000 instruments share a few dozen)."""
    items = list(items)
    expected: ExpectedById = {}
    for item in items:
        for ident, found in item.streams.expected.items():
            if ident not in expected:
                expected[ident] = expected_stream(found)
    return {
        item.refdes: instrument(item, expected=expected)
        for part in cooperative.slices(items, cooperative.ROWS // 4)
        for item in part
    }


def silence(item: Silence, now: datetime) -> dict[str, Any]:
    """A silence as stored, with its ``state`` at ``now``: upcoming, active or ended."""
    rule = SilenceRule(
        item.id, item.refdes, item.method, item.stream, item.starts_at, item.ends_at, item.reason
    )
    return {
        "id": item.id,
        "refdes": item.refdes,
        "method": item.method,
        "stream": item.stream,
        "starts_at": timestamp(item.starts_at),
        "ends_at": timestamp(item.ends_at),
        "reason": item.reason,
        "created_by": item.created_by,
        "created_at": timestamp(item.created_at),
        "ended_at": timestamp(item.ended_at),
        "state": state(rule, now),
    }


def history_entry(entry: StatusHistory) -> dict[str, Any]:
    return {
        "id": entry.id,
        "old_status": entry.old_status,
        "new_status": entry.new_status,
        "changed_at": timestamp(entry.changed_at),
        "elapsed": seconds(entry.elapsed),
        "note": entry.note,
    }


def history_page(page: HistoryPage, next_url: str | None) -> dict[str, Any]:
    """A page of history: entries newest first, the total, and the URL of the next page or null."""
    return {
        "stream_id": page.stream_id,
        "history": [history_entry(entry) for entry in page.entries],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next": next_url,
    }


def paged(name: str, items: Any, total: int, query: ListQuery, next_url: str | None) -> dict[str, Any]:
    """A page of a list: ``{name: items, "total", "limit", "offset", "next"}`` (as history pages)."""
    assert query.page is not None
    return {
        name: items,
        "total": total,
        "limit": query.page.limit,
        "offset": query.page.offset,
        "next": next_url,
    }
