"""SQLite calls off the gevent event loop.

The sqlite3 module blocks the thread that calls it: a statement that waits for another
process's write lock (the busy timeout) or reads many rows holds up that thread. Under
gunicorn's gevent worker that thread is the event loop, so every request of the worker would
stop with it, reads included. Under gevent (the worker monkey-patches the standard library),
``threaded(engine)`` makes each of the engine's connections run every sqlite3 call (connect,
execute, fetch, commit, rollback, close) on a thread of a gevent thread pool: the calling
greenlet waits, the others go on. Without gevent nothing changes.

Contracts:
- A connection is used by one greenlet at a time (the engine's pool hands it to one), and that
  greenlet waits for each call to finish: calls on one connection never overlap, so the
  connection may move between the pool's threads (``check_same_thread=False``).
- The thread pool has a thread per connection the engine's pool can hand out (pool size plus
  overflow), so a read never waits for a thread while a write waits on the lock.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine, event


def under_gevent() -> bool:
    """True in a process whose standard library gevent has patched (gunicorn -k gevent)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("socket"))


def threaded(engine: Engine, threads: int) -> None:
    """Run the sqlite3 calls of ``engine``'s connections on a pool of ``threads`` threads."""
    from gevent.threadpool import ThreadPool

    pool = ThreadPool(threads)

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        cparams["check_same_thread"] = False
        return _Connection(pool.apply(dialect.loaded_dbapi.connect, cargs, cparams), pool.apply)


Run = Callable[..., Any]


class _Proxy:
    """Attributes read and written through; methods run on the pool (``run``)."""

    __slots__ = ("_target", "_run")

    def __init__(self, target: Any, run: Run) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_run", run)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value
        return lambda *args, **kwargs: self._wrap(self._run(value, args, kwargs))

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)

    def _wrap(self, result: Any) -> Any:
        if result is self._target:
            return self
        if isinstance(result, sqlite3.Cursor):
            return _Cursor(result, self._run)
        return result


class _Connection(_Proxy):
    __slots__ = ()


class _Cursor(_Proxy):
    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        while rows := self.fetchmany(500):
            yield from rows
