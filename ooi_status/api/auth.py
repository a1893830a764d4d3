"""Who may read and write: API keys from the settings, checked on every protected request.

A key comes in ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` and is compared in
constant time against every hash in ``API_KEYS`` (ooi_status.keys). Outcomes:

- no key (or an Authorization header of another scheme) → 401, with WWW-Authenticate;
- a key that matches no configured hash → 403;
- no key configured at all → 403 for every protected request, with a message saying how
  to make one: a server with no key cannot be written to, whatever the client sends;
- a read key (scope ``read``) on a write → 403: it reads, never writes.

Writes always need a write key; reads need a key (read or write) only when
``API_REQUIRE_KEY_FOR_READS`` is true. Each accepted write is logged at INFO with the
key's name. The key itself is never logged.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Flask, g, request

from ooi_status.api.context import current_settings
from ooi_status.api.errors import Forbidden, Unauthorized
from ooi_status.config import Settings, SettingsError
from ooi_status.keys import WRITE, entry_scope, is_valid_entry, match_api_key

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

HOW_TO_CONFIGURE = (
    "make a key with `ooi_status_monitor --new-api-key NAME` and add the printed "
    '"NAME": "sha256:..." entry to API_KEYS in the settings file (OOISTATUS_SETTINGS)'
)


def init_app(app: Flask, settings: Settings) -> None:
    """Refuse to start with a malformed API_KEYS entry rather than silently never matching it."""
    for name, stored in settings.API_KEYS.items():
        if not is_valid_entry(stored):
            raise SettingsError(
                f"setting API_KEYS[{name!r}] must be 'sha256:<64 hex digits>' (a write key) or "
                "{'hash': 'sha256:<64 hex digits>', 'scope': 'read' or 'write'}, not a key in plain text; "
                + HOW_TO_CONFIGURE
            )


def presented_key() -> str | None:
    """The key of this request, from X-API-Key or a Bearer Authorization header."""
    key = request.headers.get("X-API-Key", "").strip()
    if key:
        return key
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def authenticate(settings: Settings, action: str, write: bool = False) -> str:
    """The name of this request's key (a write key when ``write``); raises Unauthorized or Forbidden."""
    if not settings.API_KEYS:
        raise Forbidden(f"{action} is disabled: no API key is configured on this server; {HOW_TO_CONFIGURE}")
    key = presented_key()
    if key is None:
        raise Unauthorized(
            f"{action} needs an API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
        )
    name = match_api_key(key, settings.API_KEYS)
    if name is None:
        log.warning("%s refused: %s %s with an unknown API key", action, request.method, request.path)
        raise Forbidden(f"{action} refused: this API key is not one of the configured keys")
    if write and entry_scope(settings.API_KEYS[name]) != WRITE:
        log.warning("%s refused: %s %s with the read key %r", action, request.method, request.path, name)
        raise Forbidden(f"{action} refused: the API key {name!r} is a read key")
    return name


def require_read(view: Callable[P, R]) -> Callable[P, R]:
    """Reads are open unless API_REQUIRE_KEY_FOR_READS is set."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        settings = current_settings()
        if settings.API_REQUIRE_KEY_FOR_READS:
            g.api_key_name = authenticate(settings, "reading")
        return view(*args, **kwargs)

    return wrapper


def require_write(view: Callable[P, R]) -> Callable[P, R]:
    """Every write needs a configured key; the accepted write is logged with the key's name."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        name = authenticate(current_settings(), "writing", write=True)
        g.api_key_name = name
        result = view(*args, **kwargs)
        log.info("write by API key %r: %s %s", name, request.method, request.full_path.rstrip("?"))
        return result

    return wrapper
