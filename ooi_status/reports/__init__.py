"""Fleet reports: uptime from the status history, coverage from the bins."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from ooi_status.db import is_postgres

#: PostgreSQL's work_mem for a report's statements: their sorts and hash tables (a few tens of
#: MB for 12,000 streams) stay in memory instead of spilling to temporary files.
REPORT_WORK_MEM = "64MB"


def in_memory(session: Session) -> None:
    """On PostgreSQL, for the rest of the session's transaction: REPORT_WORK_MEM, and no JIT
    compilation (it took most of a second, for plans that run in a fraction of that)."""
    if is_postgres(session):
        session.execute(
            text("SELECT set_config('work_mem', :work_mem, true), set_config('jit', 'off', true)"),
            {"work_mem": REPORT_WORK_MEM},
        )


def one_snapshot(session: Session) -> None:
    """A new transaction whose statements all see one snapshot, taken by its first statement
    (REPEATABLE READ), with ``in_memory``'s settings."""
    session.rollback()
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    in_memory(session)


@contextmanager
def without_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while a report's rows are made: tens of thousands of
    tuples and dicts at once, none in a cycle, would set it off every few hundred and have it walk
    the whole process each time (a third of the time the rows took). Their memory is freed by
    reference counting as before; the collector runs again after the block. No waiting inside
    (the rows are fetched already), so no other greenlet runs meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
