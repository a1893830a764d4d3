"""What the API writes: expected-stream defaults and deployed-stream overrides.

Each change is one UPDATE statement, committed by itself with a bump of the data revision
(ooi_status.revision) when it touched a row. On PostgreSQL the row lock the
UPDATE takes serialises concurrent writes to the same row (a disable and a PATCH, two
PATCHes): each lands whole, one after the other, never a mix of fields read from one and
written by the other. A write of many rows locks them in id order first, and a write that
loses a deadlock or a serialization failure anyway is tried again (ooi_status.api.locks).
The object returned is read back in the same transaction, so it is exactly what this request
wrote. Values arrive checked (ooi_status.api.validation).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Update, update
from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.api import marks, queries
from ooi_status.api.errors import BadRequest
from ooi_status.api.locks import lock_streams, retried
from ooi_status.db import rowcount
from ooi_status.model.monitor import DeployedStream, ExpectedStream

log = logging.getLogger(__name__)


@retried
def patch_expected(session: Session, expected_id: int, changes: dict[str, Any]) -> ExpectedStream:
    """Set some of an expected stream's defaults; NotFound for an unknown id."""
    with session.begin():
        if changes:
            _write(session, update(ExpectedStream).where(ExpectedStream.id == expected_id).values(changes))
        found = queries.expected_stream(session, expected_id)
        session.refresh(found)
        _check_intervals(found.warn_interval, found.fail_interval, changes)
    _log_change("expected stream", expected_id, changes)
    return found


@retried
def patch_deployed(session: Session, stream_id: int, changes: dict[str, Any]) -> queries.StreamList:
    """Set or clear (None) some of a deployed stream's overrides; NotFound for an unknown id."""
    with session.begin():
        if changes:
            _write(session, update(DeployedStream).where(DeployedStream.id == stream_id).values(changes))
        found = queries.stream(session, stream_id)
        if changes.keys() & {"warn_interval", "fail_interval"}:
            row = found.rows[0]
            defaults = found.expected[row.expected_id]
            warn = defaults.warn_interval if row.warn_interval is None else row.warn_interval
            fail = defaults.fail_interval if row.fail_interval is None else row.fail_interval
            _check_intervals(warn, fail, changes)
    _log_change("deployed stream", stream_id, changes)
    return found


def switch_stream(
    session: Session, stream_id: int, switch: str, mark: dict[str, Any] | None = None
) -> queries.StreamList:
    """Disable (all three overrides 0, with who, why and until when) or enable (overrides and
    the disable's mark cleared) one stream."""
    return patch_deployed(session, stream_id, marks.overrides(switch, mark))


@retried
def switch_instrument(
    session: Session, refdes: str, switch: str, mark: dict[str, Any] | None = None
) -> queries.Instrument:
    """Disable or enable every stream of one instrument, in one statement, its rows locked first
    in id order (ooi_status.api.locks: concurrent switches queue, never deadlock)."""
    with session.begin():
        refdes_id = queries.refdes_id(session, refdes)
        lock_streams(session, DeployedStream.reference_designator_id == refdes_id)
        _write(
            session,
            update(DeployedStream)
            .where(DeployedStream.reference_designator_id == refdes_id)
            .values(marks.overrides(switch, mark)),
        )
        found = queries.instrument(session, refdes_id)
    log.info("instrument %s: %sd its %d streams", found.refdes, switch, len(found.streams.rows))
    return found


def _check_intervals(warn: int, fail: int, changes: dict[str, Any]) -> None:
    """A PATCH may not leave warn_interval above fail_interval when both are non-zero (a stream
    would go failed before it could be degraded). Raised inside the transaction: nothing is written."""
    if changes.keys() & {"warn_interval", "fail_interval"} and warn and fail and warn > fail:
        raise BadRequest(
            f"warn_interval: {warn} s would be greater than fail_interval {fail} s; when both are "
            "non-zero warn_interval must not exceed fail_interval"
        )


def _write(session: Session, statement: Update) -> None:
    """Run one UPDATE; the data revision moves with it when it touched a row."""
    if rowcount(session.execute(statement)):
        revision.bump(session)


def _log_change(what: str, ident: int, changes: dict[str, Any]) -> None:
    text = ", ".join(f"{name}={value}" for name, value in changes.items()) or "nothing"
    log.info("%s %d: set %s", what, ident, text)
