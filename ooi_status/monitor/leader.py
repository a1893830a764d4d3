"""The leader lock: only one monitor checks and delivers; another waits as a hot standby.

PostgreSQL: a session-level advisory lock held by a connection of its own (not pooled, so
closing it really releases the lock, and a monitor that dies releases it with its
connection). SQLite: an exclusive lock on a file beside the database, released by the
operating system when the process dies. ``acquire()`` never waits; the daemon polls.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Protocol

import filelock
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ooi_status.config import Settings
from ooi_status.db import first_line, normalize_url

log = logging.getLogger(__name__)

#: The advisory lock key of ooi_status monitors (any constant shared by every instance).
ADVISORY_KEY = 0x6F6F695F737461  # "ooi_sta"


class LeaderLock(Protocol):
    def acquire(self) -> bool:
        """Take the lock if free, or confirm it is still held; never waits, never raises."""
        ...

    def release(self) -> None: ...


class AdvisoryLock:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(
            normalize_url(url), poolclass=NullPool, connect_args={"connect_timeout": 5}
        )
        self.conn: Connection | None = None

    def acquire(self) -> bool:
        if self.conn is not None:
            return self._still_held()
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            log.warning("leader lock: the monitor database does not answer: %s", first_line(exc))
            return False
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
            )
        except SQLAlchemyError:
            got = False
        if not got:
            conn.close()
            return False
        self.conn = conn
        return True

    def _still_held(self) -> bool:
        """A lost connection is a lost lock: another monitor may hold it by now."""
        assert self.conn is not None
        try:
            self.conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            log.warning("leader lock lost with the monitor database connection")
            self._drop()
            return False

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self.conn.close()
            self.conn = None

    def release(self) -> None:
        if self.conn is not None:
            # Closing the connection below releases the lock even if this fails.
            with contextlib.suppress(SQLAlchemyError):
                self.conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
        self._drop()
        self.engine.dispose()


class FileLeaderLock:
    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = filelock.FileLock(str(path), timeout=0)

    def acquire(self) -> bool:
        if self.lock.is_locked:
            return True
        try:
            self.lock.acquire()
            return True
        except filelock.Timeout:
            return False

    def release(self) -> None:
        if self.lock.is_locked:
            self.lock.release(force=True)


def make_lock(settings: Settings) -> LeaderLock:
    """The lock fitting MONITOR_URL: advisory on PostgreSQL, a file otherwise."""
    url = normalize_url(settings.MONITOR_URL)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(settings.MONITOR_URL)
    return FileLeaderLock(settings.LOCK_FILE or Path(settings.DATA_DIR) / "monitor.lock")
