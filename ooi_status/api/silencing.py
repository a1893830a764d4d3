"""Silences through the API: the POST body checked whole, and the writes (all or nothing).

Decisions (README "Silences and maintenance windows"):
- ``refdes`` is a prefix of one, two or more dash-separated parts (site, node, instrument)
  and must name at least one instrument the monitor knows: a mistyped prefix would
  otherwise silence nothing while looking in force. ``method`` and ``stream`` are exact
  and must be a method / a stream name the monitor knows, for the same reason.
- ``starts_at`` defaults to now and may be in the past; ``ends_at`` must be after both
  ``starts_at`` and now (a silence that is already over silences nothing).
- Overlapping silences are allowed: a stream shows the one in force that ends last.
- ``DELETE /silence/<id>`` ends a silence now: ``ended_at`` and ``ends_at`` are set to now,
  and an upcoming one gets ``starts_at`` = now too. The row is kept. Ending one that has
  already ended is a 409.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.api.errors import BadRequest, Conflict, NotFound
from ooi_status.model.monitor import ExpectedStream, ReferenceDesignator, Silence
from ooi_status.times import format_timestamp, parse_iso_timestamp

log = logging.getLogger(__name__)

FIELDS = ("refdes", "method", "stream", "starts_at", "ends_at", "reason")
#: Dash-separated parts, none empty, no spaces: ``CE01ISSM``, ``CE01ISSM-MFD35``, an instrument.
_PREFIX = re.compile(r"[^\s\-\x00]+(?:-[^\s\-\x00]+)*")
MAX_REASON = 2000


@dataclass(frozen=True, slots=True)
class NewSilence:
    refdes: str
    method: str | None
    stream: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str


def _text(body: Mapping[str, Any], name: str, longest: int, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f"{name}: required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name}: must be a non-empty string")
    if len(value) > longest or "\x00" in value:
        raise BadRequest(f"{name}: at most {longest} characters, no NUL bytes")
    return value.strip()


def _moment(body: Mapping[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name}: must be an ISO 8601 timestamp string such as 2026-12-01T18:00:00Z")
    try:
        return parse_iso_timestamp(value)
    except ValueError:
        raise BadRequest(
            f"{name}: not an ISO 8601 timestamp ({value[:40]!r}); use e.g. 2026-12-01T18:00:00Z"
        ) from None


def parse_new_silence(body: Mapping[str, Any], now: datetime) -> NewSilence:
    """The checked silence of a POST body; BadRequest naming the field otherwise."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadRequest(f"{unknown[0]}: unknown field; a silence has {', '.join(FIELDS)}")
    refdes = _text(body, "refdes", 100, required=True)
    assert refdes is not None
    if not _PREFIX.fullmatch(refdes):
        raise BadRequest(
            f"refdes: {refdes[:40]!r} is not a reference-designator prefix; use a site (CE01ISSM), "
            "a node (CE01ISSM-MFD35) or an instrument (CE01ISSM-MFD35-04-ADCPTM000)"
        )
    method = _text(body, "method", 255, required=False)
    stream = _text(body, "stream", 255, required=False)
    if body.get("ends_at") is None:
        raise BadRequest("ends_at: required; a silence always has an end")
    starts_at = _moment(body, "starts_at") or now
    ends_at = _moment(body, "ends_at")
    assert ends_at is not None
    if ends_at <= starts_at:
        raise BadRequest("ends_at: must be after starts_at")
    if ends_at <= now:
        raise BadRequest("ends_at: is in the past; a silence must end in the future")
    reason = _text(body, "reason", MAX_REASON, required=True)
    assert reason is not None
    return NewSilence(refdes, method, stream, starts_at, ends_at, reason)


def _check_known(session: Session, wanted: NewSilence) -> None:
    rd = ReferenceDesignator
    escaped = wanted.refdes.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    known = session.scalar(
        select(rd.id).where(or_(rd.name == wanted.refdes, rd.name.like(escaped + "-%", escape="\\"))).limit(1)
    )
    if known is None:
        raise BadRequest(f"refdes: no known site, node or instrument {wanted.refdes!r}; see GET /instrument")
    es = ExpectedStream
    for name, column, value in (("method", es.method, wanted.method), ("stream", es.name, wanted.stream)):
        if value is not None and session.scalar(select(es.id).where(column == value).limit(1)) is None:
            raise BadRequest(f"{name}: no known {name} {value!r}; see GET /expected")


def create(session: Session, wanted: NewSilence, created_by: str, now: datetime) -> Silence:
    with session.begin():
        _check_known(session, wanted)
        item = Silence(
            refdes=wanted.refdes, method=wanted.method, stream=wanted.stream, starts_at=wanted.starts_at,
            ends_at=wanted.ends_at, reason=wanted.reason, created_by=created_by, created_at=now,
        )  # fmt: skip
        session.add(item)
        session.flush()
        revision.bump(session)  # the listed streams' "silenced" may change
    log.info("silence %d by %s: %s until %s", item.id, created_by, wanted.refdes, wanted.ends_at)
    return item


def listing(session: Session, now: datetime, *, include_ended: bool) -> list[Silence]:
    """Active and upcoming silences (and ended ones with ``include_ended``), by start then id."""
    query = select(Silence).order_by(Silence.starts_at, Silence.id)
    if not include_ended:
        query = query.where(Silence.ends_at > now)
    with session.begin():
        return list(session.scalars(query))


def end(session: Session, silence_id: int, now: datetime) -> Silence:
    """End a silence now; the row is kept. NotFound for an unknown id, Conflict when already over."""
    with session.begin():
        item = session.get(Silence, silence_id)
        if item is None:
            raise NotFound(f"no silence with id {silence_id}; list them with GET /silence?all=true")
        if item.ends_at <= now:
            over = format_timestamp(item.ends_at)
            raise Conflict(f"silence {silence_id} is already over (it ended at {over})")
        values: dict[str, Any] = {"ended_at": now, "ends_at": now}
        if item.starts_at > now:
            values["starts_at"] = now
        session.execute(update(Silence).where(Silence.id == silence_id).values(values))
        revision.bump(session)
        session.refresh(item)
    log.info("silence %d ended early", silence_id)
    return item


def include_ended(args: Any) -> bool:
    """``all=true|false`` (case-insensitive; absent or empty: false); repeated is a 400."""
    values = args.getlist("all")
    if len(values) > 1:
        raise BadRequest("all: given more than once")
    value = (values[0] if values else "").lower()
    if value not in ("", "true", "false"):
        raise BadRequest(f"all: must be true or false, got {value[:20]!r}")
    return value == "true"
