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
from datetime import UTC, datetime, timedelta, timezone

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


# A date, or a date and a time; a zone only after a time. ASCII digits only.
_ISO_RE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"(?:[T ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6}))?)?"
    r"(?P<zone>Z|(?P<sign>[+-])(?P<zone_hour>[0-9]{2}):(?P<zone_minute>[0-9]{2}))?)?",
    re.ASCII,
)


def parse_iso_timestamp(text: str) -> datetime:
    """ISO 8601 date or date-time → aware UTC datetime.

    Accepts a date (``2016-01-01``: midnight UTC) or a date-time (``2016-01-01T12:00:00``,
    ``T`` or a space between, seconds and a fraction of up to six digits optional), the
    date-time optionally followed by ``Z`` or an offset ``±HH:MM``. Without a zone the time
    is UTC. A zone after a bare date (``2016-01-01+05:00``) and anything else raise ValueError.
    """
    match = _ISO_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 date or date-time: {text!r}")
    part = match.groupdict()
    zone = UTC
    if part["sign"] is not None:
        zone_minutes = int(part["zone_hour"]) * 60 + int(part["zone_minute"])
        if int(part["zone_minute"]) > 59 or zone_minutes >= 24 * 60:
            raise ValueError(f"not a UTC offset: {part['zone']!r} in {text!r}")
        zone = timezone(timedelta(minutes=zone_minutes if part["sign"] == "+" else -zone_minutes))
    try:
        moment = datetime(
            int(part["year"]),
            int(part["month"]),
            int(part["day"]),
            int(part["hour"] or 0),
            int(part["minute"] or 0),
            int(part["second"] or 0),
            int((part["fraction"] or "").ljust(6, "0")),
            tzinfo=zone,
        ).astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # no such day or hour, or beyond year 1..9999 in UTC
        raise ValueError(f"not an ISO 8601 date or date-time: {text!r} ({exc})") from None
    return moment


def format_duration(seconds: float) -> str:
    """Seconds → ``H:MM:SS`` as in event notes (``1:02:11``), whole seconds."""
    return str(timedelta(seconds=int(seconds)))


def utcnow() -> datetime:
    return datetime.now(UTC)


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in ooi_status is aware UTC")
    return moment
