"""The data revision: a number that moves forward with every committed change of what the API lists.

Every write that changes what ``/stream``, ``/instrument``, ``/expected`` or a stream's history
answer calls ``bump(session)`` in its own transaction, just before it commits. The revision
row and the change then commit together: a reader that sees revision R sees every change
committed with R or before it, and nothing written after it carries R. The API keys its cached
answers and ETags on ``current(session)``, read once per request.

Contracts:
- Call ``bump`` after the transaction's other writes. It updates one row, whose lock is held
  until the commit: every writer takes it last, so writers never wait on each other in opposite
  orders, and a long transaction holds it only for its final moment.
- A rolled-back transaction leaves the revision where it was (it is a row, not a sequence).
- A missing row (a freshly truncated table) is inserted by the next ``bump`` at a random
  starting point, so that a process which cached answers of the old numbers never takes the
  new data for them; ``current`` reads 0 until then.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ooi_status.db import read_once, rowcount
from ooi_status.model.monitor import DataRevision

_ROW_ID = 1
_TABLE = DataRevision.__table__


def bump(session: Session) -> None:
    """Move the revision forward in the caller's transaction (the caller commits)."""
    moved = session.execute(
        update(_TABLE).where(_TABLE.c.id == _ROW_ID).values(revision=_TABLE.c.revision + 1)
    )
    if rowcount(moved):
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    start = secrets.randbelow(2**52) + 2
    statement = insert(_TABLE).values(id=_ROW_ID, revision=start)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_TABLE.c.id], set_={"revision": _TABLE.c.revision + 1}
        )
    )


_CURRENT = select(_TABLE.c.revision).where(_TABLE.c.id == _ROW_ID)


def current(session: Session) -> int:
    """The revision as committed now (0 when the row is missing)."""
    return session.scalar(_CURRENT) or 0


def read_current(engine: Engine) -> int:
    """``current``, read by one statement of its own (ooi_status.db.read_once): on an engine made
    for such reads, one round trip to the database (no ping, no transaction begun and ended)."""
    rows = read_once(engine, _CURRENT)
    return (rows[0][0] if rows else 0) or 0
