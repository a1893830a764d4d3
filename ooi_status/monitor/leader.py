"""The leader lock: only one monitor checks and delivers; another waits as a hot standby.

PostgreSQL: a session-level advisory lock held by a connection of its own (not pooled, so
closing it really releases the lock, and a monitor that dies releases it with its
connection). SQLite: an exclusive lock on a file beside the database, released by the
operating system when the process dies. ``acquire()`` never waits; the daemon polls.

**Fencing.** A lock alone does not stop a monitor that lost it without knowing: its lock
connection dies (a network blip, a killed backend) while a round runs on another connection,
or its lock file is removed; a standby takes the lock and checks, and both rounds would
commit the same status changes. So leadership (``Leadership``) is the lock *and* an epoch: a
monitor that takes the lock moves the one row of ``monitor_leader`` forward and keeps the new
value, and every round ends its transaction with ``fence()``, an UPDATE of that row that
matches only while it still holds our epoch. The UPDATE locks the row until the round
commits, so:

- a round whose monitor was overtaken finds another epoch and rolls back (NotLeader);
- a successor's epoch bump waits for a round that passed its fence to commit, so the
  successor's first round reads that round's changes: the two never both record a change.

The epoch, not the lock, is the last word: a monitor whose lock connection died but that
nobody overtook still commits; its next ``acquire()`` notices the lost lock, takes it again and
a new epoch. Delivery claims are fenced the same way (ooi_status.monitor.delivery).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from pathlib import Path
from typing import Protocol

import filelock
from sqlalchemy import Connection, Engine, create_engine, insert, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from ooi_status.config import Settings
from ooi_status.db import first_line, make_engine, normalize_url, rowcount
from ooi_status.model.monitor import MonitorLeader
from ooi_status.times import utcnow

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
    """A lock on a file: held while the file we locked is still the one at ``path`` (a lock
    file removed or replaced is a lost lock: another monitor can lock the new one)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = filelock.FileLock(str(path), timeout=0)
        self._identity: tuple[int, int] | None = None

    def acquire(self) -> bool:
        if self.lock.is_locked:
            if self._identity is not None and self._identity == self._current_identity():
                return True
            log.warning("leader lock lost: the lock file %s was removed or replaced", self.path)
            self.lock.release(force=True)
        try:
            self.lock.acquire()
        except filelock.Timeout:
            return False
        self._identity = self._current_identity()
        return True

    def _current_identity(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_dev, stat.st_ino)

    def release(self) -> None:
        if self.lock.is_locked:
            self.lock.release(force=True)
        self._identity = None


def make_lock(settings: Settings) -> LeaderLock:
    """The lock fitting MONITOR_URL: advisory on PostgreSQL, a file otherwise."""
    url = normalize_url(settings.MONITOR_URL)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(settings.MONITOR_URL)
    return FileLeaderLock(settings.LOCK_FILE or Path(settings.DATA_DIR) / "monitor.lock")


# --- fencing: the epoch taken with the lock -------------------------------------------------------

_LEADER = MonitorLeader.__table__
#: Milliseconds a new leader waits for a round of its predecessor that is committing.
EPOCH_LOCK_TIMEOUT_MS = 5000


class NotLeader(Exception):
    """This monitor does not lead (any more): its round was rolled back."""


def holder_name() -> str:
    """Who holds the epoch, for operators: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def take_epoch(conn: Connection) -> int:
    """Move the leadership epoch forward in ``conn``'s transaction; the new epoch.

    Waits for a round of the previous leader that holds the row (it is committing)."""
    values = {"holder": holder_name(), "taken_at": utcnow()}
    statement = update(_LEADER).where(_LEADER.c.id == 1).values(epoch=_LEADER.c.epoch + 1, **values)
    epoch = conn.execute(statement.returning(_LEADER.c.epoch)).scalar()
    if epoch is None:  # a schema whose row is missing: the first leader writes it
        conn.execute(insert(_LEADER).values(id=1, epoch=1, **values))
        epoch = 1
    return int(epoch)


def fence(session: Session, epoch: int | None) -> None:
    """Raise NotLeader unless ``epoch`` is still the leadership epoch. The last statement of a
    round's transaction: the row stays locked until the commit (see the module docstring)."""
    if epoch is None:
        raise NotLeader("this monitor does not hold the leader lock")
    statement = update(_LEADER).where(_LEADER.c.id == 1, _LEADER.c.epoch == epoch).values(epoch=epoch)
    if rowcount(session.execute(statement)) != 1:
        raise NotLeader(f"another monitor took the lead (our epoch {epoch} is over)")


class Leadership:
    """The leader lock and the epoch taken with it; what the daemon and ``--once`` hold.

    ``acquire()`` takes the lock and, when it was not held, a new epoch (never waits longer
    than EPOCH_LOCK_TIMEOUT_MS); ``fence(session)`` ends a round's transaction; ``release()``
    gives both up (also what a monitor does when a round finds it was overtaken).
    """

    def __init__(self, lock: LeaderLock, monitor_url: str, settings: Settings) -> None:
        self.lock = lock
        self.epoch: int | None = None
        self._url = monitor_url
        self._settings = settings
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            url = normalize_url(self._url)
            if url.get_backend_name() == "postgresql":
                timeout = int(self._settings.DB_STATEMENT_TIMEOUT * 1000)
                options = f"-c lock_timeout={EPOCH_LOCK_TIMEOUT_MS} -c statement_timeout={timeout}"
                self._engine = create_engine(
                    url, poolclass=NullPool, connect_args={"connect_timeout": 5, "options": options}
                )
            else:
                self._engine = make_engine(self._url, self._settings)
        return self._engine

    def acquire(self) -> bool:
        if not self.lock.acquire():
            self.epoch = None
            return False
        if self.epoch is not None:
            return True
        try:
            with self.engine().begin() as conn:
                self.epoch = take_epoch(conn)
        except SQLAlchemyError as exc:
            log.warning("leader lock taken but no epoch (the lock is given back): %s", first_line(exc))
            self.lock.release()
            return False
        log.info("leadership epoch %d taken", self.epoch)
        return True

    def fence(self, session: Session) -> None:
        fence(session, self.epoch)

    def release(self) -> None:
        self.epoch = None
        self.lock.release()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def make_leadership(settings: Settings) -> Leadership:
    """The lock fitting MONITOR_URL with its epoch in the monitor database."""
    return Leadership(make_lock(settings), settings.MONITOR_URL, settings)
