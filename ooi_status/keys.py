"""API keys: made once, stored only as hashes, compared in constant time.

Settings hold ``API_KEYS = {name: "sha256:<hex digest>"}``; the key itself is shown once
when it is made (``ooi_status_monitor --new-api-key NAME``) and never stored or logged.
The command line and the API share these functions.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

HASH_PREFIX = "sha256:"
_HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def new_api_key() -> str:
    """A fresh random key: 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The form kept in settings: ``sha256:<hex digest of the key's UTF-8 bytes>``."""
    return HASH_PREFIX + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def is_valid_hash(value: object) -> bool:
    return isinstance(value, str) and bool(_HASH_RE.match(value))


def match_api_key(key: str, hashes: Mapping[str, str]) -> str | None:
    """The name of the configured key ``key`` is, or None.

    Every configured hash is compared, with hmac.compare_digest, whatever matched before:
    the time taken does not tell how close a guess came nor which entry it matched.
    """
    presented = hash_api_key(key).encode()
    found: str | None = None
    for name, stored in hashes.items():
        if hmac.compare_digest(presented, str(stored).encode()) and found is None:
            found = name
    return found
