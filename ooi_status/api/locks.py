"""Writes of many rows that never deadlock, and the retry of a write that lost a race anyway.

A statement that updates several deployed streams (a whole instrument's enable, disable or
acknowledgement) locks its rows in the order the database happens to meet them, and that order
changes as rows get new versions: two such writes at the same moment could each hold a row the
other waits for (a deadlock, which PostgreSQL breaks by failing one of them). ``lock_streams``
takes the row locks first, in one order for every writer (by id, ``SELECT ... ORDER BY id FOR
UPDATE``), so writers queue instead. On SQLite a write locks the whole database: nothing to order.

A write can still fail on a deadlock with another kind of writer, or on a serialization failure:
``retried`` runs it again, in a new transaction, a few times with a short random pause, and
answers 409 (Conflict) with what happened if it never gets through. Only those two failures are
retried; every other error goes on to the error handlers at once.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ooi_status.api.errors import Conflict
from ooi_status.model.monitor import DeployedStream

log = logging.getLogger(__name__)

#: PostgreSQL's SQLSTATEs of a transaction that may succeed when run again.
RETRYABLE_SQLSTATES = {"40P01": "deadlock", "40001": "serialization failure"}
#: Tries of one write, the first included.
ATTEMPTS = 4
#: Longest pause (seconds) before the next try; each pause is random below it, doubling per try.
MAX_PAUSE = 0.4

Write = TypeVar("Write", bound=Callable[..., Any])


def lock_streams(session: Session, *where: ColumnElement[bool]) -> list[int]:
    """Lock the deployed streams matching ``where`` in id order (PostgreSQL); their ids."""
    query = select(DeployedStream.id).where(*where).order_by(DeployedStream.id).with_for_update()
    return list(session.scalars(query))


def retryable(exc: BaseException) -> str | None:
    """``deadlock`` or ``serialization failure`` when ``exc`` is one, else None."""
    if isinstance(exc, DBAPIError):
        return RETRYABLE_SQLSTATES.get(getattr(exc.orig, "pgcode", None) or "")
    return None


def retried(write: Write) -> Write:
    """Run ``write(session, ...)`` again after a deadlock or a serialization failure; 409 at the end.

    ``write`` must open and close its own transaction (``with session.begin()``), so that a
    failed try is rolled back whole before the next one starts.
    """

    @functools.wraps(write)
    def run(session: Session, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return write(session, *args, **kwargs)
            except DBAPIError as exc:
                failure = retryable(exc)
                if failure is None:
                    raise
                session.rollback()
                log.warning("%s: %s on try %d of %d", write.__name__, failure, attempt, ATTEMPTS)
                if attempt == ATTEMPTS:
                    raise Conflict(
                        f"the write collided with other writes to the same streams ({failure}) "
                        f"{ATTEMPTS} times and was not made; nothing was changed, try again"
                    ) from exc
                time.sleep(random.uniform(0, MAX_PAUSE * 2 ** (attempt - ATTEMPTS)))
        raise AssertionError("unreachable")

    return run  # type: ignore[return-value]
