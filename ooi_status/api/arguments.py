"""Query arguments, one rule for every route that reads them with ``getlist``: an empty value
counts as absent, a value given twice or holding a NUL byte is a 400, enumerations are
case-insensitive (answered in their lower-case spelling), times are ISO 8601 in UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ooi_status.api.errors import BadRequest
from ooi_status.times import parse_iso_timestamp


class Arguments(Protocol):
    """The request's query arguments (werkzeug's MultiDict)."""

    def getlist(self, key: str) -> list[str]: ...


def single(args: Arguments, name: str) -> str | None:
    """One query value; None when absent or empty; a 400 when given more than once or with a NUL."""
    given = [value for value in args.getlist(name) if value != ""]
    if any("\x00" in value for value in given):
        raise BadRequest(f"{name}: NUL bytes are not allowed")
    if len(given) > 1:
        raise BadRequest(f"{name}: given {len(given)} times; give it at most once")
    return given[0] if given else None


def choice(args: Arguments, name: str, allowed: Sequence[str], default: str) -> str:
    """A case-insensitive enumeration, answered in its canonical (lower-case) spelling."""
    value = single(args, name)
    if value is None:
        return default
    if value.lower() not in allowed:
        raise BadRequest(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value.lower()


def timestamp(args: Arguments, name: str) -> datetime | None:
    """An ISO 8601 date or date-time in UTC; None when absent or empty."""
    text = single(args, name)
    if text is None:
        return None
    try:
        return parse_iso_timestamp(text)
    except ValueError:
        raise BadRequest(
            f"{name}: {text!r} is not an ISO 8601 date or date-time in UTC "
            "(e.g. 2016-01-01, 2016-01-01T12:00:00 or 2016-01-01T12:00:00Z)"
        ) from None
