"""Time conversions, in one place.

The OOI metadata stores times in two units: NTP seconds (float seconds since
1900-01-01 UTC) for data points and bins, and Unix milliseconds (integer) for
events such as deployments. Inside the project every time is an aware UTC
``datetime``; these helpers are the only place where units are converted.
No function here looks at the local time zone.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

NTP_EPOCH = datetime(1900, 1, 1, tzinfo=UTC)
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Seconds between the NTP epoch (1900) and the Unix epoch (1970).
NTP_UNIX_OFFSET = 2208988800

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def ntp_to_datetime(seconds: float) -> datetime:
    """NTP seconds (float) → aware UTC datetime, exact to the microsecond."""
    return NTP_EPOCH + timedelta(seconds=seconds)


def datetime_to_ntp(moment: datetime) -> float:
    """Aware datetime → NTP seconds. Naive datetimes are refused."""
    return (_require_aware(moment) - NTP_EPOCH).total_seconds()


def unix_ms_to_datetime(milliseconds: int) -> datetime:
    """Unix milliseconds → aware UTC datetime."""
    return UNIX_EPOCH + timedelta(milliseconds=milliseconds)


def datetime_to_unix_ms(moment: datetime) -> int:
    """Aware datetime → whole Unix milliseconds (floored)."""
    delta = _require_aware(moment) - UNIX_EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def ntp_to_unix_ms(seconds: float) -> int:
    return math.floor((seconds - NTP_UNIX_OFFSET) * 1000)


def unix_ms_to_ntp(milliseconds: int) -> float:
    return milliseconds / 1000 + NTP_UNIX_OFFSET


def format_timestamp(moment: datetime) -> str:
    """The API's timestamp text: UTC ``YYYY-MM-DD HH:MM:SS``, fraction truncated."""
    # isoformat is several times faster than strftime, and always pads the year to four digits.
    return _require_aware(moment).astimezone(UTC).isoformat(" ")[:19]


def format_ntp(seconds: float) -> str:
    """NTP seconds → API timestamp text, truncated to the second."""
    return format_timestamp(ntp_to_datetime(math.floor(seconds)))


def as_utc(moment: datetime) -> datetime:
    """Treat a naive datetime as UTC (as SQLite returns them); convert aware ones."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_ISO_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?$"
)


def parse_iso_timestamp(text: str) -> datetime:
    """ISO 8601 date or date-time → aware UTC datetime.

    Accepts ``2016-01-01``, ``2016-01-01T12:00:00``, ``2016-01-01T12:00:00Z`` and
    explicit offsets; a value without a zone is UTC. Raises ValueError otherwise.
    """
    text = text.strip()
    if not _ISO_RE.match(text):
        raise ValueError(f"not an ISO 8601 date or date-time: {text!r}")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return as_utc(datetime.fromisoformat(text))


def format_duration(seconds: float) -> str:
    """Seconds → ``H:MM:SS`` as in event notes (``1:02:11``), whole seconds."""
    return str(timedelta(seconds=int(seconds)))


def utcnow() -> datetime:
    return datetime.now(UTC)


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in ooi_status is aware UTC")
    return moment
