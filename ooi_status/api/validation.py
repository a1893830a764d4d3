"""Turning request input into checked values: PATCH bodies, filters, paging.

Every problem is a BadRequest whose message names the field or parameter. A PATCH body
is checked whole before anything is written (all or nothing), and every problem in it is
reported at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from ooi_status.api.errors import BadRequest
from ooi_status.status import Status

#: The fields a PATCH may change, on /expected and on /deployed.
PATCHABLE = ("expected_rate", "warn_interval", "fail_interval")
#: Largest value an interval column (32-bit integer) holds, and the largest row id.
MAX_INT32 = 2**31 - 1
STATUSES = tuple(status.value for status in Status)
MAX_HISTORY_LIMIT = 1000
DEFAULT_HISTORY_LIMIT = 100


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; NaN and Infinity are not JSON and are refused."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise BadRequest("body: not UTF-8 text; send a JSON object") from None
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"body: not valid JSON ({exc}); send a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest(f'body: must be a JSON object such as {{"warn_interval": 600}}, got {_kind(body)}')
    return body


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "an array", dict: "an object", type(None): "null"})
    return names.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    """A value as it was sent, cut short for a message."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number >= 0, got {_kind(value)} {_show(value)}")
    try:
        rate = float(value)
    except OverflowError:
        rate = math.inf
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(f"must be a finite number >= 0, got {_show(value)}")
    return rate


def _interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be an integer number of seconds >= 0, got {_kind(value)} {_show(value)}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"must be a whole number of seconds, got {_show(value)}")
    if not 0 <= value <= MAX_INT32:
        raise ValueError(f"must be an integer between 0 and {MAX_INT32}, got {_show(value)}")
    return int(value)


_CHECKS = {"expected_rate": _rate, "warn_interval": _interval, "fail_interval": _interval}


def _field_problem(name: str, value: Any, url_id: int, nullable: bool) -> str | None:
    if name == "id":
        if isinstance(value, bool) or value != url_id:
            return f"id: {_show(value)} in the body does not match {url_id} in the URL"
        return None
    if name not in _CHECKS:
        return f"{name}: unknown field; only {', '.join(PATCHABLE)} may change"
    if value is None:
        return None if nullable else f"{name}: may not be null on an expected stream"
    try:
        _CHECKS[name](value)
    except ValueError as exc:
        return f"{name}: {exc}"
    return None


def patch_changes(body: Mapping[str, Any], url_id: int, *, nullable: bool) -> dict[str, Any]:
    """The checked changes of a PATCH body: {field: value}; ``nullable`` for deployed overrides."""
    found = (_field_problem(str(name), value, url_id, nullable) for name, value in body.items())
    problems = [problem for problem in found if problem]
    if problems:
        raise BadRequest("; ".join(problems))
    return {
        name: None if body[name] is None else _CHECKS[name](body[name]) for name in PATCHABLE if name in body
    }


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """Filters of /stream and /instrument: substrings, case-insensitive; status exact;
    silenced true/false (None: either)."""

    refdes: str | None = None
    method: str | None = None
    stream: str | None = None
    status: str | None = None
    silenced: bool | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """``limit`` entries from ``offset`` on."""

    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A list request: its filter, and a page when ``limit`` or ``offset`` is given (else None)."""

    where: StreamFilter
    page: Page | None


def _text_arg(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name, "")
    return value if value else None


def enum_arg(args: Mapping[str, str], name: str, choices: Sequence[str]) -> str | None:
    """An enumerated parameter, matched case-insensitively and returned as spelled in ``choices``;
    absent or empty is None, anything else a 400 naming the parameter and the choices."""
    value = _text_arg(args, name)
    if value is None:
        return None
    for choice in choices:
        if choice.casefold() == value.casefold():
            return choice
    raise BadRequest(f"{name}: unknown value {value!r}; use one of {', '.join(choices)}")


def stream_filter(args: Mapping[str, str]) -> StreamFilter:
    return StreamFilter(
        _text_arg(args, "refdes"),
        _text_arg(args, "method"),
        _text_arg(args, "stream"),
        enum_arg(args, "status", STATUSES),
        boolean_arg(args, "silenced"),
    )


def boolean_arg(args: Mapping[str, str], name: str) -> bool | None:
    """``true`` or ``false``, case-insensitive; absent or empty: None."""
    value = (_text_arg(args, name) or "").lower()
    if value not in ("", "true", "false"):
        raise BadRequest(f"{name}: must be true or false, got {value[:20]!r}")
    return None if not value else value == "true"


def list_query(args: Mapping[str, str]) -> ListQuery:
    """Filters and optional paging of /stream and /instrument."""
    given = any(args.get(name) for name in ("limit", "offset"))
    return ListQuery(stream_filter(args), Page(*paging(args)) if given else None)


def expected_filter(args: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Filters of /expected: method and stream name, matched as /stream matches them."""
    return _text_arg(args, "method"), _text_arg(args, "stream")


def repeated_parameter(args: MultiDict[str, str]) -> str | None:
    """The first query parameter given more than once, if any (every route refuses them)."""
    for name, values in args.lists():
        if len(values) > 1:
            return name
    return None


def _int_arg(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter; absent or empty (``offset=``) means the default, as for the filters."""
    text = args.get(name)
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise BadRequest(f"{name}: must be an integer from {low} to {high}, got {text!r}")
    return int(text)


def paging(args: Mapping[str, str]) -> tuple[int, int]:
    """``limit`` (1–1000, default 100) and ``offset`` (≥ 0, default 0) of a page; empty is absent."""
    limit = _int_arg(args, "limit", DEFAULT_HISTORY_LIMIT, 1, MAX_HISTORY_LIMIT)
    offset = _int_arg(args, "offset", 0, 0, MAX_INT32)
    return limit, offset
