"""Port-agent statistics messages: what a good one is, and why a bad one is refused. No I/O.

A port agent publishes, for each interval it counted, one JSON object::

    {"reference_designator": "CE01ISSM-MFD35-04-ADCPTM000", "bytes_in": 41200, "bytes_out": 0,
     "end_time": 1796119331.5, "elapsed": 100.0, "adds": 0, "num_clients": {"client": 1}}

``end_time`` is Unix seconds (the end of the interval), ``elapsed`` its length in seconds.
Every field is required. Counts are non-negative integers (a float with no fraction, such as
``12.0``, is accepted as the integer it is); times are non-negative finite numbers. Extra
fields are ignored. A refused message has exactly one reason, the first problem found (the
document, then the fields present, then each field in turn): ``not_json``, ``not_object``,
``missing_field``, ``wrong_type`` (a string or null where a number belongs, NaN, a fraction
where a count belongs), ``negative_value``, ``out_of_range`` (an empty or over-long reference
designator, a count beyond 64 bits, an end_time beyond year 9999).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: Why a message was refused: the label of the ``reason`` of /metrics' rejection counter.
REASONS = ("not_json", "not_object", "missing_field", "wrong_type", "negative_value", "out_of_range")
FIELDS = ("reference_designator", "bytes_in", "bytes_out", "end_time", "elapsed", "adds", "num_clients")
_COUNTS = ("bytes_in", "bytes_out", "adds")
_TIMES = ("end_time", "elapsed")
#: Longest reference designator the schema stores.
REFDES_MAX = 100
#: 9999-12-31 23:59:59 UTC: the last second a stored timestamp can hold.
_LAST_SECOND = 253402300799
#: Largest count a BIGINT column holds.
_COUNT_MAX = 2**63 - 1


class BadMessage(ValueError):
    """A message that can never be stored: ``reason`` is one of REASONS, ``detail`` says what."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class PortCountRecord:
    """One good message, as stored in port_count."""

    refdes: str
    end_time: datetime
    elapsed: float
    bytes_in: int
    bytes_out: int
    adds: int
    clients: int

    def as_row(self) -> dict[str, Any]:
        return {
            "refdes": self.refdes,
            "end_time": self.end_time,
            "elapsed": self.elapsed,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "adds": self.adds,
            "clients": self.clients,
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _count(name: str, value: Any) -> int:
    if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
        raise BadMessage("wrong_type", f"{name} must be an integer, got {json.dumps(value)[:40]}")
    if value < 0:
        raise BadMessage("negative_value", f"{name} must be >= 0, got {value}")
    if value > _COUNT_MAX:
        raise BadMessage("out_of_range", f"{name} is too large: {value}")
    return int(value)


def _seconds(name: str, value: Any) -> float:
    if not _is_number(value):
        raise BadMessage("wrong_type", f"{name} must be a number of seconds, got {json.dumps(value)[:40]}")
    if value < 0:
        raise BadMessage("negative_value", f"{name} must be >= 0, got {value}")
    return float(value)


def _document(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadMessage("not_json", f"not a JSON document: {exc}") from None
    if not isinstance(document, dict):
        raise BadMessage("not_object", f"a JSON object is expected, got {type(document).__name__}")
    missing = [name for name in FIELDS if name not in document]
    if missing:
        raise BadMessage("missing_field", f"missing {', '.join(missing)}")
    return document


def _refdes(value: Any) -> str:
    if not isinstance(value, str):
        raise BadMessage("wrong_type", "reference_designator must be a string")
    if not value.strip() or len(value) > REFDES_MAX or "\x00" in value:
        raise BadMessage("out_of_range", f"reference_designator must be 1 to {REFDES_MAX} characters")
    return value


def _clients(value: Any) -> int:
    if not isinstance(value, dict):
        raise BadMessage("wrong_type", 'num_clients must be an object such as {"client": 1}')
    if "client" not in value:
        raise BadMessage("missing_field", "missing num_clients.client")
    return _count("num_clients.client", value["client"])


def parse_message(body: bytes) -> PortCountRecord:
    """The record of a message body, or BadMessage."""
    document = _document(body)
    refdes = _refdes(document["reference_designator"])
    counts = {name: _count(name, document[name]) for name in _COUNTS}
    times = {name: _seconds(name, document[name]) for name in _TIMES}
    clients = _clients(document["num_clients"])
    if times["end_time"] > _LAST_SECOND:
        raise BadMessage("out_of_range", f"end_time {times['end_time']} is beyond year 9999")
    end_time = datetime.fromtimestamp(times["end_time"], UTC)
    return PortCountRecord(refdes, end_time, times["elapsed"], clients=clients, **counts)
