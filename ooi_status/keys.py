"""API keys: made once, stored only as hashes, compared in constant time.

Settings hold ``API_KEYS = {name: entry}``; the key itself is shown once when it is made
(``ooi_status_monitor --new-api-key NAME [--scope read]``) and never stored or logged. An entry
is ``"sha256:<hex digest>"`` (a write key: reads and writes, the form every earlier version
wrote) or ``{"hash": "sha256:<hex digest>", "scope": "read" | "write"}``.
The command line and the API share these functions.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any

HASH_PREFIX = "sha256:"
_HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
READ = "read"
WRITE = "write"
SCOPES = (READ, WRITE)


def new_api_key() -> str:
    """A fresh random key: 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The form kept in settings: ``sha256:<hex digest of the key's UTF-8 bytes>``."""
    return HASH_PREFIX + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def is_valid_hash(value: object) -> bool:
    return isinstance(value, str) and bool(_HASH_RE.match(value))


def api_key_entry(key: str, scope: str = WRITE) -> str | dict[str, str]:
    """The API_KEYS entry of ``key``: a write key as a plain hash, a read key with its scope."""
    return hash_api_key(key) if scope == WRITE else {"hash": hash_api_key(key), "scope": scope}


def entry_hash(entry: Any) -> Any:
    """The stored hash of an API_KEYS entry (either form)."""
    return entry.get("hash") if isinstance(entry, dict) else entry


def entry_scope(entry: Any) -> str:
    """``read`` or ``write``; a plain hash is a write key."""
    return entry.get("scope", WRITE) if isinstance(entry, dict) else WRITE


def is_valid_entry(entry: Any) -> bool:
    if isinstance(entry, dict):
        return (
            set(entry) <= {"hash", "scope"}
            and is_valid_hash(entry.get("hash"))
            and entry_scope(entry) in SCOPES
        )
    return is_valid_hash(entry)


def match_api_key(key: str, hashes: Mapping[str, Any]) -> str | None:
    """The name of the configured key ``key`` is, or None.

    Every configured hash is compared, with hmac.compare_digest, whatever matched before:
    the time taken does not tell how close a guess came nor which entry it matched.
    """
    presented = hash_api_key(key).encode()
    found: str | None = None
    for name, stored in hashes.items():
        if hmac.compare_digest(presented, str(entry_hash(stored)).encode()) and found is None:
            found = name
    return found
