"""Subscriptions over HTTP: the POST body checked whole, and the JSON shape of one subscription.

Every field problem is reported at once in one 400 naming the fields. Enumerations are
case-insensitive. A chat target is a webhook URL whose path is its secret: responses show
it without path or query (``https://hooks.example.org/...``), as logs do.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ooi_status.api.errors import BadRequest
from ooi_status.config import display_url
from ooi_status.model.monitor import Subscription
from ooi_status.notify.messages import KINDS, MIN_STATUSES, MODES
from ooi_status.times import format_timestamp

FIELDS = ("kind", "target", "match", "min_status", "mode")
DEFAULTS = {"match": "", "min_status": "failed", "mode": "immediate"}
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")
_MATCH = re.compile(r"^[A-Za-z0-9-]*$")


def _choice(name: str, value: Any, choices: tuple[str, ...], problems: list[str]) -> str:
    if isinstance(value, str) and value.lower() in choices:
        return value.lower()
    problems.append(f"{name}: must be one of {', '.join(choices)}, got {value!r}")
    return ""


def _target(kind: str, value: Any, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append("target: required: an e-mail address (kind email) or a webhook URL (kind chat)")
        return ""
    value = value.strip()
    if kind == "email" and (len(value) > 320 or not _ADDRESS.match(value)):
        problems.append(f"target: not an e-mail address: {value[:60]!r}")
    if kind == "chat":
        try:
            parts = urlsplit(value)
            good = parts.scheme in ("http", "https") and bool(parts.hostname) and len(value) <= 1000
        except ValueError:
            good = False
        if not good:
            problems.append("target: a chat target must be an http(s) webhook URL of at most 1000 characters")
    return value


def subscription_values(body: dict[str, Any]) -> dict[str, str]:
    """The checked values of a new subscription; BadRequest naming every bad field."""
    known = ", ".join(FIELDS)
    problems = [f"{name}: unknown field; fields are {known}" for name in body if name not in FIELDS]
    body = {**DEFAULTS, **body}
    kind = _choice("kind", body.get("kind"), KINDS, problems) if "kind" in body else ""
    if "kind" not in body:
        problems.append("kind: required: email or chat")
    target = _target(kind, body.get("target"), problems) if kind else ""
    match = body["match"]
    if not isinstance(match, str) or len(match) > 100 or not _MATCH.match(match):
        problems.append(
            'match: must be a reference-designator prefix (letters, digits, dashes; "" = all), '
            "at most 100 characters"
        )
    min_status = _choice("min_status", body["min_status"], MIN_STATUSES, problems)
    mode = _choice("mode", body["mode"], MODES, problems)
    if problems:
        raise BadRequest("; ".join(problems))
    return {"kind": kind, "target": target, "match": match, "min_status": min_status, "mode": mode}


def subscription(row: Subscription) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "target": display_url(row.target) if row.kind == "chat" else row.target,
        "match": row.match,
        "min_status": row.min_status,
        "mode": row.mode,
        "created_by": row.created_by,
        "created_at": format_timestamp(row.created_at),
        "last_digest_at": None if row.last_digest_at is None else format_timestamp(row.last_digest_at),
    }
