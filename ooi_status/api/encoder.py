"""The API's JSON encoder: Flask's JSON provider with its ``dumps`` done by orjson.

The fleet answers are large (the uptime report by stream: 12,000 rows, 2.5 MB; the coverage
report by month: tens of thousands of rows, several MB): the standard library's encoder takes
about ten times as long as orjson for them. The text is the same JSON: keys in insertion order
(the API never sorted them), numbers in their shortest round-trip form, non-ASCII characters
written as UTF-8 rather than as ``\\u`` escapes. Whatever orjson does not encode itself
(datetimes, dataclasses, decimals, anything else Flask's provider knows) goes to Flask's own
conversion, so the answers say what they said before; an indented answer (``compact=False``,
or debug mode) and any other keyword of ``json.dumps`` are left to the standard library.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import current_app
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
#: The keywords orjson's output already honours (compact separators, the API's unsorted keys).
_COMPACT = {"separators": (",", ":")}


class FastJSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self.dump_bytes(obj, **kwargs).decode()

    def dump_bytes(self, obj: Any, **kwargs: Any) -> bytes:
        """The JSON text of ``obj`` as UTF-8 (no str made of a body of megabytes)."""
        if self.sort_keys or (kwargs and kwargs != _COMPACT):
            return super().dumps(obj, **kwargs).encode()
        try:
            return orjson.dumps(obj, default=self.default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            # An integer beyond 64 bits, say: the standard library writes it.
            return super().dumps(obj, separators=(",", ":")).encode()

    def response(self, *args: Any, **kwargs: Any) -> Any:
        obj = self._prepare_response_obj(args, kwargs)
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(obj)
        return current_app.response_class(self.dump_bytes(obj) + b"\n", mimetype=self.mimetype)


def json_bytes(obj: Any) -> bytes:
    """The app's compact JSON of ``obj`` as UTF-8 bytes, as a JSON answer's body holds it."""
    provider = current_app.json
    if isinstance(provider, FastJSONProvider):
        return provider.dump_bytes(obj)
    return provider.dumps(obj, separators=(",", ":")).encode()


def json_rows(rows: list[Any]) -> list[bytes]:
    """``json_bytes`` of each of ``rows``, each in bytes of its own size (orjson's bytes of a row
    of 250 bytes hold a buffer of 4 KiB): for rows kept, many thousands of them."""
    provider = current_app.json
    if not isinstance(provider, FastJSONProvider) or provider.sort_keys:
        return [json_bytes(row) for row in rows]
    encoded = []
    for row in rows:
        try:
            encoded.append(bytes(memoryview(orjson.dumps(row, default=provider.default, option=_OPTIONS))))
        except orjson.JSONEncodeError:
            encoded.append(provider.dump_bytes(row))
    return encoded
