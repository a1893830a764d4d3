"""Reading stream and bin metadata from Cassandra (STREAM_SOURCE = "cassandra").

The two tables of keyspace CASSANDRA_KEYSPACE (spec METADATA_SCHEMA.md), read, never written:

    stream_metadata     PRIMARY KEY ((subsite, node, sensor), method, stream)  count, first, last
    partition_metadata  PRIMARY KEY ((stream, refdes), method, bin, store)     count, first, last

Contracts:

- For the same rows the results equal those of PostgresStreamSource (rows, filters, the
  overlap rule, order), as tests/cassandra/test_equivalence.py checks.
- Connecting is lazy: the first call connects. A cluster that does not answer raises
  SourceUnavailable and the next call tries again, so a daemon or API started before its
  cluster keeps running and recovers by itself.
- Every driver failure (no host answered, timeout, too few replicas, a server error)
  raises SourceUnavailable with one line naming the cluster. When no host answered at all
  the session is dropped and the next call connects afresh, instead of waiting for the
  driver's own reconnection schedule (which backs off up to minutes).
- Statements are prepared once per session, on first use; the driver re-prepares them
  on a node that restarted.
- Schema and token metadata are not fetched: the reader needs neither, and an OOI
  keyspace holds hundreds of tables. Without them there is no token-aware routing: each
  read goes to a coordinator of the local data center, round robin.
- A Cluster owns threads and sockets that do not survive a fork: call this object only in
  the process that will use it (it connects on first use, so creating it earlier is fine).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from cassandra import DriverException
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable, Session
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.connection import ConnectionException
from cassandra.policies import DCAwareRoundRobinPolicy
from cassandra.protocol import ErrorMessage
from cassandra.query import PreparedStatement, tuple_factory

from ooi_status.config import Settings, consistency_level
from ooi_status.sources.base import BinRow, SourceUnavailable, StreamKey, StreamRow, bin_bound, split_refdes

STREAM_COLUMNS = "subsite, node, sensor, method, stream, count, first, last"
#: Every statement the reader sends, by name (the test responder serves exactly these).
QUERIES = {
    "streams": f"SELECT {STREAM_COLUMNS} FROM stream_metadata",
    "instrument_streams": f"SELECT {STREAM_COLUMNS} FROM stream_metadata"
    " WHERE subsite = ? AND node = ? AND sensor = ?",
    # Rows come in clustering order (method, bin, store): by bin, the stores of one bin adjacent.
    # ``bin < ?`` is exact for the overlap rule because a bin starts at or before its first
    # point (first >= bin); ``last > start`` cannot be a clustering restriction and is applied here.
    "bins": "SELECT bin, count, first, last FROM partition_metadata"
    " WHERE stream = ? AND refdes = ? AND method = ? AND bin < ?",
}
_CONCURRENCY = 32  # partitions read at once by one call
_DRIVER_ERRORS = (DriverException, ConnectionException, ErrorMessage, OSError)


class CassandraStreamSource:
    """stream_metadata and partition_metadata from a Cassandra cluster."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.consistency = consistency_level(settings.CASSANDRA_CONSISTENCY)
        self.where = (
            f"Cassandra {','.join(settings.CASSANDRA_CONTACT_POINTS)}:{settings.CASSANDRA_PORT}"
            f" keyspace {settings.CASSANDRA_KEYSPACE}"
        )
        self._lock = threading.Lock()
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._prepared: dict[str, PreparedStatement] = {}

    def streams(
        self, methods: Collection[str] | None = None, refdes: Collection[str] | None = None
    ) -> Sequence[StreamRow]:
        wanted = None if methods is None else frozenset(methods)
        if wanted is not None and not wanted:
            return []
        with self._failures():
            if refdes is None:
                rows: Iterable[Any] = self._session_now().execute(self._statement("streams"))
            else:
                # One read per instrument partition; the method filter is ours (rows are few).
                parts = sorted({p for p in map(split_refdes, refdes) if p is not None})
                if not parts:
                    return []
                rows = self._execute_each("instrument_streams", parts)
            return [StreamRow(*row) for row in rows if wanted is None or row[3] in wanted]

    def bins(
        self, refdes: str, keys: Collection[StreamKey], start_ntp: float, stop_ntp: float
    ) -> dict[StreamKey, Sequence[BinRow]]:
        if split_refdes(refdes) is None or not keys:
            return {}
        ordered = sorted(set(keys))
        bound = bin_bound(stop_ntp)
        params = [(stream, refdes, method, bound) for method, stream in ordered]
        result: dict[StreamKey, Sequence[BinRow]] = defaultdict(list)
        with self._failures():
            for key, rows in zip(ordered, self._results("bins", params), strict=True):
                # The overlap rule in full, as the PostgreSQL reader applies it, then one row per bin.
                overlapping = (row for row in rows if row[3] > start_ntp and row[2] < stop_ntp)
                selected = [BinRow(*row) for row in first_store(overlapping)]
                if selected:
                    result[key] = selected
        return result

    def close(self) -> None:
        """Shut the cluster connection down; a later call would connect again."""
        with self._lock:
            self._drop()

    # --- connection -------------------------------------------------------------------------

    def _session_now(self) -> Session:
        """The session, connecting first if there is none (raises driver errors)."""
        with self._lock:
            if self._session is None:
                cluster = make_cluster(self.settings, self.consistency)
                try:
                    self._session = cluster.connect(self.settings.CASSANDRA_KEYSPACE)
                except BaseException:
                    cluster.shutdown()
                    raise
                self._session.default_fetch_size = self.settings.CASSANDRA_FETCH_SIZE
                self._cluster = cluster
            return self._session

    def _statement(self, name: str) -> PreparedStatement:
        session = self._session_now()
        with self._lock:
            if name not in self._prepared:
                self._prepared[name] = session.prepare(QUERIES[name])
            return self._prepared[name]

    def _drop(self) -> None:
        """Forget the session and its statements (caller holds the lock)."""
        cluster, self._cluster, self._session = self._cluster, None, None
        self._prepared = {}
        if cluster is not None:
            cluster.shutdown()

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """Driver failures inside the block surface as one SourceUnavailable."""
        try:
            yield
        except NoHostAvailable as exc:
            with self._lock:
                self._drop()
            raise SourceUnavailable(f"{self.where}: no host could answer: {describe(exc)}") from exc
        except _DRIVER_ERRORS as exc:
            raise SourceUnavailable(f"{self.where}: {describe(exc)}") from exc

    # --- reads ------------------------------------------------------------------------------

    def _results(self, name: str, params: Sequence[tuple[Any, ...]]) -> list[Iterable[Any]]:
        """One result per parameter tuple, in order, read concurrently; each pages on iteration."""
        statement = self._statement(name)
        results = execute_concurrent_with_args(
            self._session_now(),
            statement,
            params,
            concurrency=min(len(params), _CONCURRENCY),
            raise_on_first_error=True,
        )
        return [result for _success, result in results]

    def _execute_each(self, name: str, params: Sequence[tuple[Any, ...]]) -> Iterator[Any]:
        for rows in self._results(name, params):
            yield from rows


def make_cluster(settings: Settings, consistency: int) -> Cluster:
    """A Cluster configured from the settings; nothing is connected yet."""
    auth = None
    if settings.CASSANDRA_USERNAME:
        auth = PlainTextAuthProvider(settings.CASSANDRA_USERNAME, settings.CASSANDRA_PASSWORD or "")
    timeout = settings.CASSANDRA_REQUEST_TIMEOUT
    profile = ExecutionProfile(
        load_balancing_policy=DCAwareRoundRobinPolicy(),
        consistency_level=consistency,
        request_timeout=timeout,
        row_factory=tuple_factory,
    )
    return Cluster(
        contact_points=list(settings.CASSANDRA_CONTACT_POINTS),
        port=settings.CASSANDRA_PORT,
        protocol_version=settings.CASSANDRA_PROTOCOL_VERSION,
        auth_provider=auth,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=timeout,
        control_connection_timeout=timeout,
        schema_metadata_enabled=False,
        token_metadata_enabled=False,
    )


def first_store(rows: Iterable[Any]) -> Iterator[Any]:
    """One row per bin: rows arrive ordered by (bin, store); the first store of a bin is kept."""
    previous = None
    for row in rows:
        if row[0] != previous:
            previous = row[0]
            yield row


def describe(exc: BaseException) -> str:
    """One line for a driver failure; for NoHostAvailable the error of each host tried."""
    if isinstance(exc, NoHostAvailable) and exc.errors:
        text = "; ".join(f"{host}: {describe(error)}" for host, error in exc.errors.items())
    else:
        text = str(exc) or type(exc).__name__
        text = f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text
    return " ".join(text.split())
