"""Engines and sessions for the two databases.

Engines are created lazily, once per process: a process that forks (gunicorn's
pre-fork workers) gets fresh engines in the child instead of sharing pooled
connections with its parent.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import CursorResult, Engine, Executable, Result, Row, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ooi_status import sqlite_threads
from ooi_status.config import Settings


def first_line(exc: BaseException) -> str:
    """An exception in one line for logs and messages: its first line, or its type when it has no text."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE or DELETE matched. Session.execute returns a CursorResult for one, but
    says Result, which has no row count."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count in a {type(result).__name__}: not the result of an UPDATE or DELETE")
    return result.rowcount


METADATA_TABLES = ("stream_metadata", "partition_metadata", "xevent", "xasset", "xinstrument", "xdeployment")


def missing_metadata_table(exc: BaseException) -> str | None:
    """What to do when ``exc`` says an OOI metadata table is not there, else None."""
    text = str(exc)
    for table in METADATA_TABLES:
        if f"no such table: {table}" in text or f'relation "{table}" does not exist' in text:
            return (
                f"the OOI metadata table {table} is missing in METADATA_URL: for a demo database run "
                "`ooi_status_demo --prepare-only`, otherwise set METADATA_URL to the OOI database"
            )
    return None


def describe_error(exc: BaseException) -> str:
    """``Type: first line``, and what to do when it is a missing OOI metadata table."""
    hint = missing_metadata_table(exc)
    described = f"{type(exc).__name__}: {first_line(exc)}"
    return f"{described} ({hint})" if hint else described


def database_name(role: str, url: URL) -> str:
    """A database in a few words for messages: its role, server and name, never a password
    (``monitor database PostgreSQL 127.0.0.1:5432/ooistatus``, ``monitor database SQLite monitor.sqlite``)."""
    if url.get_backend_name() == "sqlite":
        return f"{role} database SQLite {PurePath(url.database or ':memory:').name}"
    if url.get_backend_name() == "postgresql":
        return f"{role} database PostgreSQL {url.host or 'localhost'}:{url.port or 5432}/{url.database}"
    return f"{role} database {url.get_backend_name()} {url.host}/{url.database}"


def failed_database(exc: BaseException) -> str | None:
    """The database (``database_name``) whose engine raised ``exc``, when one of ours did."""
    return getattr(exc, "ooi_database", None)


def _name_failures(engine: Engine, name: str) -> None:
    # Every error of this engine's connections (a statement, a connect, a pre-ping) carries the
    # database's name, so that an answer or a log line can say which database did not answer.
    def tag(context: Any) -> None:
        if context.sqlalchemy_exception is not None:
            context.sqlalchemy_exception.ooi_database = name

    event.listen(engine, "handle_error", tag)


def is_postgres(engine_or_session: Engine | Session) -> bool:
    """The one switch for PostgreSQL-only features (advisory locks, SKIP LOCKED)."""
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


def normalize_url(url: str) -> URL:
    """A bare ``postgresql://`` URL means psycopg2, the driver ooi_status ships with."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed


@functools.lru_cache(maxsize=32)
def _backend_name(url: str) -> str:
    """The backend a URL names, decided once per URL (``Databases._reads`` asks on every request)."""
    return normalize_url(url).get_backend_name()


#: Connections a ``single_reads`` engine keeps: an API worker has about one such read in flight
#: per kind (ooi_status.api.coalesce.FreshReads); more are opened for a burst and closed after it.
SINGLE_READS_POOL = 2


def make_engine(
    url: str,
    settings: Settings,
    *,
    pool_size: int | None = None,
    sqlite_busy_timeout: float | None = None,
    single_reads: bool = False,
) -> Engine:
    """An engine for ``url`` with the project's timeouts and SQLite pragmas.

    On SQLite a statement waits at most ``sqlite_busy_timeout`` seconds (default
    DB_STATEMENT_TIMEOUT) for another connection's write lock, then fails with "database is
    locked"; under gevent its calls run off the event loop (ooi_status.sqlite_threads).

    ``single_reads`` (PostgreSQL): an engine for ``read_once`` only: each statement commits on
    its own (no BEGIN and ROLLBACK around it) and a connection is not pinged when checked out."""
    parsed = normalize_url(url)
    timeout = settings.DB_STATEMENT_TIMEOUT
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        busy = timeout if sqlite_busy_timeout is None else sqlite_busy_timeout
        engine = create_engine(parsed, connect_args={"timeout": busy})
        event.listen(engine, "connect", _sqlite_pragmas)
        if sqlite_threads.under_gevent():
            sqlite_threads.threaded(engine, _most_connections(engine))
        return engine
    connect_args: dict[str, Any] = {}
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": 5, "options": f"-c statement_timeout={int(timeout * 1000)}"}
    if parsed.drivername == "postgresql+psycopg2":
        # Bulk UPDATEs of the check round (executemany) go in pages of statements, not one
        # round trip per row.
        options["executemany_mode"] = "values_plus_batch"
    if single_reads:
        options["isolation_level"] = "AUTOCOMMIT"
    return create_engine(
        parsed,
        **options,
        pool_size=pool_size or (SINGLE_READS_POOL if single_reads else settings.DB_POOL_SIZE),
        pool_pre_ping=not single_reads,
        pool_recycle=3600,
        connect_args=connect_args,
    )


def read_once(engine: Engine, statement: Executable, params: dict[str, Any] | None = None) -> list[Row[Any]]:
    """The rows of one read-only statement, on a connection of its own, returned at once.

    On a ``single_reads`` engine nothing checks a connection before its use: a connection found
    dead by the statement (the server restarted, or ended it) is thrown away with every other
    connection of the pool made before it, and the statement runs once more on a new one. A
    failure of that second try, or any other error, is raised."""
    try:
        with engine.connect() as conn:
            return list(conn.execute(statement, params))
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    with engine.connect() as conn:
        return list(conn.execute(statement, params))


def _most_connections(engine: Engine) -> int:
    """How many connections the engine's pool may hand out at once."""
    size = getattr(engine.pool, "size", lambda: 1)()
    overflow = getattr(engine.pool, "_max_overflow", 0)
    return max(1, size + max(0, overflow))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Databases:
    """The monitor and metadata engines of one process, made on first use; the API's wait at most
    ``sqlite_busy_timeout`` seconds for a SQLite write lock (SQLITE_BUSY_TIMEOUT)."""

    def __init__(self, settings: Settings, *, sqlite_busy_timeout: float | None = None) -> None:
        self.settings = settings
        self.sqlite_busy_timeout = sqlite_busy_timeout
        self._pid = os.getpid()
        self._engines: dict[str, Engine] = {}
        # Threads of one process (the monitor's check and delivery threads) share the engines:
        # one of them makes each.
        self._making = threading.Lock()

    def _engine(self, name: str, url: str, single_reads: bool = False) -> Engine:
        if os.getpid() != self._pid:
            # Forked: the parent's pooled connections belong to the parent, and so may the lock.
            self._making = threading.Lock()
            for engine in self._engines.values():
                engine.dispose(close=False)
            self._engines.clear()
            self._pid = os.getpid()
        found = self._engines.get(name)
        if found is not None:
            return found
        with self._making:
            if name not in self._engines:
                busy = self.sqlite_busy_timeout
                engine = make_engine(url, self.settings, sqlite_busy_timeout=busy, single_reads=single_reads)
                _name_failures(engine, database_name(name.removesuffix(" reads"), engine.url))
                self._engines[name] = engine
            return self._engines[name]

    @property
    def monitor(self) -> Engine:
        return self._engine("monitor", self.settings.MONITOR_URL)

    @property
    def metadata(self) -> Engine:
        return self._engine("metadata", self.settings.METADATA_URL)

    @property
    def monitor_reads(self) -> Engine:
        """The monitor database for ``read_once``: its own pool on PostgreSQL, the ``monitor`` engine
        elsewhere (a SQLite read takes no round trip)."""
        return self._reads("monitor", self.settings.MONITOR_URL)

    @property
    def metadata_reads(self) -> Engine:
        """The metadata database for ``read_once``, as ``monitor_reads``."""
        return self._reads("metadata", self.settings.METADATA_URL)

    def _reads(self, name: str, url: str) -> Engine:
        if _backend_name(url) != "postgresql":
            return self._engine(name, url)
        return self._engine(f"{name} reads", url, single_reads=True)

    @contextmanager
    def monitor_session(self) -> Iterator[Session]:
        """A session on the monitor database; commit is the caller's, close is ours."""
        with sessionmaker(self.monitor, expire_on_commit=False)() as session:
            yield session

    @contextmanager
    def metadata_session(self) -> Iterator[Session]:
        with sessionmaker(self.metadata)() as session:
            yield session

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
