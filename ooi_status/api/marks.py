"""The operators' marks on streams through the API: acknowledgements and timed disables.

Decisions (README "Acknowledgements" and "Disabling with a reason and an end"):
- Only a failed or degraded stream can be acknowledged (anything else is a 409: there is
  nothing to acknowledge). The write is one guarded UPDATE (``WHERE status IN (failed,
  degraded)``), so a check round that makes the stream operational at the same moment wins:
  an acknowledgement never sticks to a stream that recovered. Acknowledging again replaces
  the note, the name and the time. Acknowledging an instrument acknowledges each of its
  failed and degraded streams.
- The check round clears an acknowledgement when the stream's status becomes operational or
  notTracked (it recovered, or nobody tracks it any more).
- ``PUT .../disable`` takes an optional body ``{"reason", "until"}``; without ``until`` the
  stream stays disabled until enabled. ``until`` must be in the future. ``PUT .../enable``
  clears the disable and its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.api import queries
from ooi_status.api.errors import BadRequest, Conflict
from ooi_status.api.locks import lock_streams, retried
from ooi_status.api.validation import read_json_object
from ooi_status.db import rowcount
from ooi_status.model.monitor import DeployedStream
from ooi_status.status import DISABLED, NO_OVERRIDES, Status
from ooi_status.times import parse_iso_timestamp

log = logging.getLogger(__name__)

DS = DeployedStream
MAX_TEXT = 2000
ACKNOWLEDGEABLE = (Status.FAILED.value, Status.DEGRADED.value)
NOT_DISABLED = {"disabled_by": None, "disabled_at": None, "disabled_reason": None, "disabled_until": None}


def optional_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a body that may be left out (empty: ``{}``)."""
    return read_json_object(raw) if raw.strip() else {}


def _only(body: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"{unknown[0]}: unknown field; only {', '.join(allowed)} may be sent")


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name}: must be a string or null")
    if len(value) > MAX_TEXT or "\x00" in value:
        raise BadRequest(f"{name}: at most {MAX_TEXT} characters, no NUL bytes")
    return value.strip() or None


def acknowledgement(body: Mapping[str, Any], by: str, now: datetime) -> dict[str, Any]:
    """The columns an acknowledgement writes, from a body ``{"note": ...}`` (optional)."""
    _only(body, ("note",))
    return {"acknowledged_by": by, "acknowledged_at": now, "acknowledged_note": _text(body, "note")}


def disable_mark(body: Mapping[str, Any], by: str, now: datetime) -> dict[str, Any]:
    """The columns a disable writes, from a body ``{"reason", "until"}`` (both optional)."""
    _only(body, ("reason", "until"))
    given = body.get("until")
    until = None
    if given is not None:
        if not isinstance(given, str):
            raise BadRequest("until: must be an ISO 8601 timestamp string such as 2026-12-01T18:00:00Z")
        try:
            until = parse_iso_timestamp(given)
        except ValueError:
            raise BadRequest(f"until: not an ISO 8601 timestamp ({given[:40]!r})") from None
        if until <= now:
            raise BadRequest("until: is in the past; a disable must end in the future (or leave until out)")
    return {"disabled_by": by, "disabled_at": now, "disabled_reason": _text(body, "reason"),
            "disabled_until": until}  # fmt: skip


def overrides(switch: str, mark: dict[str, Any] | None) -> dict[str, Any]:
    """The columns PUT .../disable (with its mark) or .../enable writes."""
    chosen = DISABLED if switch == "disable" else NO_OVERRIDES
    values = {"expected_rate": chosen.expected_rate, "warn_interval": chosen.warn_interval,
              "fail_interval": chosen.fail_interval}  # fmt: skip
    values.update(mark if switch == "disable" and mark else NOT_DISABLED)
    return values


@retried
def acknowledge_stream(session: Session, stream_id: int, values: dict[str, Any]) -> queries.StreamList:
    with session.begin():
        statement = update(DS).where(DS.id == stream_id, DS.status.in_(ACKNOWLEDGEABLE)).values(values)
        written = rowcount(session.execute(statement))
        found = queries.stream(session, stream_id)  # NotFound for an unknown id
        if written:
            revision.bump(session)
        else:
            status = found.rows[0].status
            raise Conflict(
                f"stream {stream_id} is {status}: only a failed or degraded stream can be acknowledged"
            )
    log.info("stream %d acknowledged by %s", stream_id, values["acknowledged_by"])
    return found


@retried
def acknowledge_instrument(session: Session, refdes: str, values: dict[str, Any]) -> queries.Instrument:
    with session.begin():
        refdes_id = queries.refdes_id(session, refdes)
        mine = DS.reference_designator_id == refdes_id
        lock_streams(session, mine)
        statement = update(DS).where(mine, DS.status.in_(ACKNOWLEDGEABLE)).values(values)
        written = rowcount(session.execute(statement))
        if not written:
            raise Conflict(f"instrument {refdes} has no failed or degraded stream to acknowledge")
        revision.bump(session)
        found = queries.instrument(session, refdes_id)
    log.info("%d stream(s) of %s acknowledged by %s", written, found.refdes, values["acknowledged_by"])
    return found
