"""Fleet reports: uptime from the status history, coverage from the bins."""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar

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
    reference counting as before; the collector runs again after the block. The reports wait for
    nothing inside (the rows are fetched already); an API list's build does (its reads, and the
    pauses of api.cooperative), so other greenlets run meanwhile, with the collector paused too,
    and the block that paused it turns it on again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Sized(Protocol):
    size: int


K = TypeVar("K", bound=_Sized)


class KeptBySize(Generic[K]):
    """What a process keeps for its reports, by key, made by ``make`` when missing; at most
    ``max_bytes`` in all (each item's ``size``; least recently used first out). An item larger
    than that alone is not kept."""

    def __init__(self, max_bytes: int, make: Callable[[], K]) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self._make = make
        self._kept: OrderedDict[Hashable, K] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> K:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                kept = self._kept[key] = self._make()
            self._kept.move_to_end(key)
            return kept

    def fit(self) -> None:
        """Drop the least recently used items until the rest fit (one in use by a request stays
        whole for it: it is only no longer found)."""
        with self._lock:
            while self._kept and sum(k.size for k in self._kept.values()) > self.max_bytes:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)
