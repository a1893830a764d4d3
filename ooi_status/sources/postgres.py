"""Reading the OOI metadata tables through SQLAlchemy (PostgreSQL in production, SQLite in the demo).

Set-based: one query for every stream of the monitored methods, one for the open
deployments, one for the bins of all requested streams of an instrument (the coverage upkeep:
of many instruments, and their deployments, in one read each). Queries go
through the unique indexes (subsite, node, sensor, method, stream[, bin, store]).
"""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, partial
from pathlib import PurePath
from typing import Any, cast

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    literal_column,
    null,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.exc import DBAPIError

from ooi_status.availability.engine import BinSummary, Rules, Window
from ooi_status.db import first_line, read_once
from ooi_status.kept_rows import KeptRows
from ooi_status.model.metadata import PartitionMetadata, StreamMetadata, XAsset, XDeployment
from ooi_status.sources.base import (
    BinRequest,
    BinRow,
    DeploymentRow,
    OpenDeployment,
    SourceUnavailable,
    StreamId,
    StreamKey,
    StreamPoints,
    StreamRow,
    StreamSource,
    bin_bound,
    bin_row,
    instrument_exists,
    split_refdes,
)
from ooi_status.sources.columns import BinTable
from ooi_status.sources.postgres_summary import STREAM_BINS_BY_STORE, summaries

_S = StreamMetadata.__table__.c
_P = PartitionMetadata.__table__.c
#: stream_metadata's columns in StreamRow's order, each named as its field; a row of them is
#: made a StreamRow without a Python-level call (a StreamRow reads faster than a Row).
_STREAM_COLUMNS = (
    _S.subsite, _S.node, _S.sensor, _S.method, _S.stream, _S.count.label("points"), _S.first, _S.last
)  # fmt: skip
_stream_row = partial(tuple.__new__, StreamRow)


class PostgresStreamSource:
    """stream_metadata and partition_metadata from the metadata database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._points = _kept_points()

    def streams(
        self, methods: Collection[str] | None = None, refdes: Collection[str] | None = None
    ) -> Sequence[StreamRow]:
        if methods is None and refdes is not None and len(refdes) == 1:
            return self._instrument_streams(next(iter(refdes)))
        query = select(*_STREAM_COLUMNS)
        if methods is not None:
            query = query.where(_S.method.in_(sorted(methods)))
        if refdes is not None:
            parts = [p for p in (split_refdes(r) for r in refdes) if p is not None]
            if not parts:
                return []
            query = query.where(tuple_(_S.subsite, _S.node, _S.sensor).in_(parts))
        with connected(self.engine) as conn:
            return list(map(_stream_row, conn.execute(query)))

    def _instrument_streams(self, refdes: str) -> Sequence[StreamRow]:
        parts = split_refdes(refdes)
        if parts is None:
            return []
        with connected(self.engine) as conn:
            return list(map(_stream_row, conn.execute(_instrument_streams_query(), _instrument(parts))))

    def stream_points(self, excluded_prefix: str = "") -> dict[StreamId, StreamPoints] | None:
        """(count, first, last) of every stream whose method does not start with ``excluded_prefix``
        (an empty one excludes none), by (refdes, method, stream): what ``streams()`` answers, on
        PostgreSQL read from the rows kept by this source (``_kept_points``: after the first read, only
        the rows written since the one before). None elsewhere, or when a subsite or node holds a
        dash (its refdes would not split back into them): read ``streams()`` then."""
        with connected(self.engine) as conn:
            if conn.dialect.name != "postgresql":
                return None
            points = self._points.read(conn, {"prefix": excluded_prefix})
        if points is None or self._points.totals is None or self._points.totals.dashed:
            return None
        return cast(dict[StreamId, StreamPoints], dict(points))

    def bins(
        self, refdes: str, keys: Collection[StreamKey], start_ntp: float, stop_ntp: float
    ) -> dict[StreamKey, Sequence[BinRow]]:
        parts = split_refdes(refdes)
        if parts is None or not keys:
            return {}
        with connected(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                return _packed_bins(conn, parts, sorted(keys), start_ntp, stop_ntp)
            return _row_bins(conn, parts, sorted(keys), start_ntp, stop_ntp)

    def bins_of_streams(
        self, requests: Sequence[BinRequest], stop_ntp: float
    ) -> tuple[dict[tuple[str, str, str], Sequence[BinRow]], dict[tuple[str, str, str], float] | None]:
        """Bins of many streams of many instruments in one read, keyed ``(refdes, method, stream)``:
        for each request ``(refdes, method, stream, start_ntp, min_bin)``, what
        ``bins(refdes, [(method, stream)], start_ntp, stop_ntp)`` answers, less the bins starting
        before ``min_bin`` (the caller knows none of those reaches past start_ntp).

        Also, on PostgreSQL, the longest span (last − bin) of the rows read for each stream, every
        store's row counted (streams without rows left out); None elsewhere, where the bins are read
        per instrument and start, without min_bin."""
        wanted = [
            (parts, method, stream, start, min_bin)
            for refdes, method, stream, start, min_bin in requests
            if (parts := split_refdes(refdes)) is not None
        ]
        if not wanted:
            return {}, {}
        with connected(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                return _packed_bins_of_streams(conn, wanted, stop_ntp)
            groups: dict[tuple[tuple[str, str, str], float], list[StreamKey]] = defaultdict(list)
            for parts, method, stream, start, _ in wanted:
                groups[(parts, start)].append((method, stream))
            found: dict[tuple[str, str, str], Sequence[BinRow]] = {}
            for (parts, start), keys in groups.items():
                refdes = "-".join(parts)
                for (method, stream), rows in _row_bins(conn, parts, sorted(keys), start, stop_ntp).items():
                    found[(refdes, method, stream)] = rows
            return found, None

    def summaries(
        self, refdes: str, streams: Sequence[StreamRow], window: Window, rules: Rules
    ) -> dict[StreamKey, BinSummary] | None:
        """On PostgreSQL, the bins in the window of these streams (their ``stream_metadata`` rows)
        summarised by the database (ooi_status.sources.postgres_summary); None on another database
        (use ``bins``)."""
        parts = split_refdes(refdes)
        if self.engine.dialect.name != "postgresql":
            return None
        if parts is None or not streams:
            return {}
        with connected(self.engine) as conn:
            return summaries(conn, parts, streams, window, rules)

    def close(self) -> None:
        """The engine belongs to the caller."""


class PostgresDeploymentSource:
    """Deployments and asset UIDs: always from the metadata database. ``reads``: the engine of its
    one-statement reads (ooi_status.db.read_once), by default ``engine``."""

    def __init__(self, engine: Engine, reads: Engine | None = None) -> None:
        self.engine = engine
        self.reads = engine if reads is None else reads

    def open_deployments(self, now_ms: int) -> dict[str, OpenDeployment]:
        d = XDeployment
        query = (
            select(d.subsite, d.node, d.sensor, d.deploymentnumber, d.versionnumber, XAsset.uid)
            .join(XAsset, XAsset.assetid == d.sassetid)
            .where(
                d.eventstarttime <= now_ms,
                or_(d.eventstoptime.is_(None), d.eventstoptime > now_ms),
                XAsset.uid.is_not(None),
                XAsset.uid != "",
            )
            .order_by(d.deploymentnumber, d.versionnumber)
        )
        result: dict[str, OpenDeployment] = {}
        with connected(self.engine) as conn:
            # Ordered by number and version: where deployments overlap, the latest wins.
            for subsite, node, sensor, number, _version, uid in conn.execute(query):
                if uid is None:  # excluded by the query: no asset UID, no events to send
                    continue
                refdes = f"{subsite}-{node}-{sensor}"
                result[refdes] = OpenDeployment(refdes, number or 0, uid)
        return result

    def deployments(self, refdes: str) -> list[DeploymentRow]:
        parts = split_refdes(refdes)
        if parts is None:
            return []
        with connected(self.engine) as conn:
            return _latest(conn.execute(_deployments_query(), _instrument(parts)))

    def instrument_rows(
        self, refdes: str, streams: StreamSource
    ) -> tuple[list[DeploymentRow], Sequence[StreamRow]]:
        """``deployments(refdes)`` and ``streams.streams(refdes=[refdes])``: when ``streams`` reads
        this database's stream_metadata, in one statement run on its own (``read_once`` on
        ``reads``: one round trip on PostgreSQL), else in two reads on one connection."""
        parts = split_refdes(refdes)
        if parts is None:
            return [], []
        if not (isinstance(streams, PostgresStreamSource) and streams.engine is self.engine):
            with one_connection():
                return self.deployments(refdes), streams.streams(refdes=[refdes])
        try:
            rows = read_once(self.reads, _instrument_rows_query(), _instrument(parts))
        except DBAPIError as exc:
            raise SourceUnavailable(f"{where(self.reads)}: {first_line(exc)}") from exc
        deployed = _latest(row[1:5] for row in rows if row.kind == 0)
        return deployed, [_stream_row((*parts, *row[5:])) for row in rows if row.kind == 1]

    def deployments_of(self, refdes: Collection[str]) -> dict[str, list[DeploymentRow]]:
        """``deployments`` of many instruments in one read, by refdes (every one asked for)."""
        wanted = {r: parts for r in refdes if (parts := split_refdes(r)) is not None}
        found: dict[str, dict[int, DeploymentRow]] = {r: {} for r in refdes}
        if not wanted:
            return {r: [] for r in refdes}
        instruments = sorted(set(wanted.values()))
        with connected(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                subsites, nodes, sensors = (list(column) for column in zip(*instruments, strict=True))
                params = {"subsites": subsites, "nodes": nodes, "sensors": sensors}
                result = conn.execute(text(_DEPLOYMENTS_OF), params)
            else:
                result = conn.execute(_deployments_of_query(instruments))
            for subsite, node, sensor, number, start, stop in result:
                latest = found.get(f"{subsite}-{node}-{sensor}")
                if latest is not None and start is not None:  # (excluded by the query)
                    latest[number or 0] = DeploymentRow(number or 0, start, stop)
        return {
            r: sorted(rows.values(), key=lambda row: (row.start_ms, row.number)) for r, rows in found.items()
        }

    def has_deployment(self, refdes: str) -> bool:
        parts = split_refdes(refdes)
        if parts is None:
            return False
        d = XDeployment
        query = select(d.eventid).where(d.subsite == parts[0], d.node == parts[1], d.sensor == parts[2])
        with connected(self.engine) as conn:
            return conn.execute(query.limit(1)).first() is not None

    def instrument_exists(self, refdes: str, streams: StreamSource | None = None) -> bool:
        """A stream of it in ``streams``, the configured StreamSource (by default this database's
        stream_metadata, right only when it is the stream source), or a deployment of it here."""
        return instrument_exists(
            refdes, PostgresStreamSource(self.engine) if streams is None else streams, self
        )


# Statements run on every availability request, built once (parameters bound per call).


def _instrument(parts: tuple[str, str, str]) -> dict[str, str]:
    return {"subsite": parts[0], "node": parts[1], "sensor": parts[2]}


@cache
def _instrument_streams_query() -> Select:
    return select(*_STREAM_COLUMNS).where(
        _S.subsite == bindparam("subsite"), _S.node == bindparam("node"), _S.sensor == bindparam("sensor")
    )


def _deployments_of_query(instruments: list[tuple[str, str, str]]) -> Select:
    d = XDeployment
    return (
        select(d.subsite, d.node, d.sensor, d.deploymentnumber, d.eventstarttime, d.eventstoptime)
        .where(tuple_(d.subsite, d.node, d.sensor).in_(instruments))
        .where(d.eventstarttime.is_not(None))
        .order_by(d.subsite, d.node, d.sensor, d.deploymentnumber, d.versionnumber)
    )


# The same on PostgreSQL with the instruments as arrays: the statement's text is the same for
# any number of them (a tuple IN of 120 instruments costs more to build and plan than to run).
_DEPLOYMENTS_OF = """
SELECT d.subsite, d.node, d.sensor, d.deploymentnumber, e.eventstarttime, e.eventstoptime
FROM unnest(CAST(:subsites AS text[]), CAST(:nodes AS text[]), CAST(:sensors AS text[]))
     AS k (subsite, node, sensor)
JOIN xdeployment AS d ON d.subsite = k.subsite AND d.node = k.node AND d.sensor = k.sensor
JOIN xevent AS e ON e.eventid = d.eventid
WHERE e.eventstarttime IS NOT NULL
ORDER BY d.subsite, d.node, d.sensor, d.deploymentnumber, d.versionnumber
"""


@cache
def _deployments_query() -> Select:
    d = XDeployment
    return (
        select(d.deploymentnumber, d.versionnumber, d.eventstarttime, d.eventstoptime)
        .where(
            d.subsite == bindparam("subsite"),
            d.node == bindparam("node"),
            d.sensor == bindparam("sensor"),
            d.eventstarttime.is_not(None),
        )
        .order_by(d.deploymentnumber, d.versionnumber)
    )


def _latest(rows: Iterable[Sequence[Any]]) -> list[DeploymentRow]:
    """Deployments from (number, version, start, stop) rows ordered by number and version: the
    latest version of each number, ordered by start."""
    latest: dict[int, DeploymentRow] = {}
    for number, _version, start, stop in rows:
        latest[number or 0] = DeploymentRow(number or 0, start, stop)
    return sorted(latest.values(), key=lambda row: (row.start_ms, row.number))


@cache
def _instrument_rows_query() -> CompoundSelect:
    """``_deployments_query`` and ``_instrument_streams_query`` as one statement: rows of ``kind`` 0
    (number, version, start, stop: a deployment, ordered as there) then of ``kind`` 1 (method,
    stream, points, first, last: a stream)."""
    d = XDeployment
    columns: list[Any] = [
        literal_column("0").label("kind"),
        d.deploymentnumber.label("number"),
        d.versionnumber.label("version"),
        d.eventstarttime,
        d.eventstoptime,
        *(null().label(column.name) for column in _STREAM_COLUMNS[3:]),
    ]
    deployments = select(*columns).where(_deployments_query().whereclause)  # type: ignore[arg-type]
    streams = select(literal_column("1"), null(), null(), null(), null(), *_STREAM_COLUMNS[3:]).where(
        _instrument_streams_query().whereclause  # type: ignore[arg-type]
    )
    return union_all(deployments, streams).order_by(
        literal_column("kind"), literal_column("number"), literal_column("version")
    )


def split_points(
    rows: int, names: str | None, packed: bytes | None, record: struct.Struct
) -> Iterator[tuple[tuple[str, str, str], tuple[Any, ...]]] | None:
    """The ``rows`` names (lines of three tab-separated fields) paired with their numbers (one
    ``record`` each), or None when they do not pair up: a line holding a tab or a line break
    more, a row left out of one of the two aggregates (a NULL)."""
    if rows == 0:
        return iter(())
    if names is None or packed is None or len(packed) != rows * record.size:
        return None
    keys = [tuple(line.split("\t")) for line in names.split("\n")]
    if len(keys) != rows or any(len(key) != 3 for key in keys):
        return None
    return zip(keys, record.iter_unpack(packed), strict=True)  # type: ignore[arg-type]


def _row_bins(
    conn: Connection, parts: tuple[str, str, str], keys: list[StreamKey], start_ntp: float, stop_ntp: float
) -> dict[StreamKey, Sequence[BinRow]]:
    """Any database: one row per bin, in the unique index's order."""
    subsite, node, sensor = parts
    query = (
        select(_P.method, _P.stream, _P.store, _P.bin, _P.count, _P.first, _P.last)
        .where(
            _P.subsite == subsite,
            _P.node == node,
            _P.sensor == sensor,
            or_(*(and_(_P.method == m, _P.stream == s) for m, s in keys)),
            _P.bin < bin_bound(stop_ntp),  # a bin starts at or before its first point: the index range
            _P.last > start_ntp,
            _P.first < stop_ntp,
        )
        .order_by(_P.method, _P.stream, _P.bin, _P.store)
    )
    stores: dict[StreamKey, dict[str, list[BinRow]]] = defaultdict(lambda: defaultdict(list))
    for method, stream, store, *row in conn.execute(query):
        stores[(method, stream)][store].append(bin_row(row))
    return {key: _one_row_per_bin(by_store) for key, by_store in stores.items()}


# The coverage upkeep compares every stream's (count, first, last) with what its coverage was
# computed from, every round: the source keeps them, and a read after the first asks only for the
# rows written since the one before (ooi_status.kept_rows), ~1 % of them when 1 % of the streams
# got new bins. A dash in a subsite or node (the refdes would not split back into them) is flagged.
def _kept_points() -> KeptRows:
    return KeptRows(
        "stream_metadata",
        ("id", "subsite", "node", "sensor", "method", "stream", "count", "first", "last"),
        key=lambda row: (f"{row.subsite}-{row.node}-{row.sensor}", row.method, row.stream),
        value=lambda row: (row.count, row.first, row.last),
        where=":prefix = '' OR left(method, char_length(:prefix)) <> :prefix",
        aggregates=("coalesce(bool_or(strpos(subsite, '-') > 0 OR strpos(node, '-') > 0), false) AS dashed",),
    )


# PostgreSQL: the bins of each stream come back packed into one bytea per stream and store
# (bin, count, first, last as big-endian int8, int8, float8, float8), found through the unique
# index. A few rows of a few hundred kB instead of ~30,000 rows cost a fraction of the time to
# transfer and decode; decoded into columns (BinTable) the rows are the same as _row_bins', and
# the availability rules run over the columns without a Python object per bin.
_PACKED_BINS = """
SELECT k.method, k.stream, b.store, b.packed
FROM (VALUES {keys}) AS k (method, stream)
CROSS JOIN LATERAL (
    SELECT p.store,
           string_agg(int8send(p.bin) || int8send(p.count) || float8send(p.first) || float8send(p.last),
                      ''::bytea) AS packed
    {bins}
) AS b
"""
_PACKED_ROW = struct.Struct(">qqdd")
_MIN_BIGINT = -(2**63)


def _packed_bins(
    conn: Connection, parts: tuple[str, str, str], keys: list[StreamKey], start_ntp: float, stop_ntp: float
) -> dict[StreamKey, Sequence[BinRow]]:
    values = ", ".join(f"(:m{i}, :s{i})" for i in range(len(keys)))
    params: dict[str, object] = {"subsite": parts[0], "node": parts[1], "sensor": parts[2]}
    params.update(start=start_ntp, stop=stop_ntp, bin_stop=bin_bound(stop_ntp))
    for i, (method, stream) in enumerate(keys):
        params[f"m{i}"], params[f"s{i}"] = method, stream
    stores: dict[StreamKey, dict[str, bytes | memoryview]] = defaultdict(dict)
    for method, stream, store, packed in conn.execute(
        text(_PACKED_BINS.format(keys=values, bins=STREAM_BINS_BY_STORE)), params
    ):
        stores[(method, stream)][store] = packed
    return {key: BinTable.from_packed(by_store) for key, by_store in stores.items()}


# The same for many streams of many instruments: one row per request and store, found through
# the unique index (each request with its own start and first bin), with the longest span read.
_PACKED_BINS_OF_STREAMS = """
SELECT k.i, b.store, b.packed, b.longest
FROM unnest(CAST(:subsites AS text[]), CAST(:nodes AS text[]), CAST(:sensors AS text[]),
            CAST(:methods AS text[]), CAST(:streams AS text[]), CAST(:starts AS float8[]),
            CAST(:min_bins AS int8[]))
     WITH ORDINALITY AS k (subsite, node, sensor, method, stream, start, min_bin, i)
CROSS JOIN LATERAL (
    SELECT p.store,
           string_agg(int8send(p.bin) || int8send(p.count) || float8send(p.first) || float8send(p.last),
                      ''::bytea) AS packed,
           max(p.last - p.bin) AS longest
    FROM partition_metadata AS p
    WHERE p.subsite = k.subsite AND p.node = k.node AND p.sensor = k.sensor
      AND p.method = k.method AND p.stream = k.stream
      AND p.bin >= k.min_bin AND p.bin < :bin_stop AND p.last > k.start AND p.first < :stop
    GROUP BY p.store
) AS b
"""


def _packed_bins_of_streams(
    conn: Connection,
    wanted: Sequence[tuple[tuple[str, str, str], str, str, float, int | None]],
    stop_ntp: float,
) -> tuple[dict[tuple[str, str, str], Sequence[BinRow]], dict[tuple[str, str, str], float]]:
    params: dict[str, object] = {
        "subsites": [parts[0] for parts, *_ in wanted],
        "nodes": [parts[1] for parts, *_ in wanted],
        "sensors": [parts[2] for parts, *_ in wanted],
        "methods": [request[1] for request in wanted],
        "streams": [request[2] for request in wanted],
        "starts": [request[3] for request in wanted],
        "min_bins": [_MIN_BIGINT if request[4] is None else request[4] for request in wanted],
        "stop": stop_ntp,
        "bin_stop": bin_bound(stop_ntp),
    }
    stores: dict[int, dict[str, list[BinRow]]] = defaultdict(dict)
    longest: dict[tuple[str, str, str], float] = {}
    for i, store, packed, span in conn.execute(text(_PACKED_BINS_OF_STREAMS), params):
        stores[i][store] = list(map(bin_row, _PACKED_ROW.iter_unpack(packed)))
        parts, method, stream, *_ = wanted[i - 1]
        key = ("-".join(parts), method, stream)
        longest[key] = max(longest.get(key, span), span)
    found: dict[tuple[str, str, str], Sequence[BinRow]] = {}
    for i, by_store in stores.items():
        parts, method, stream, *_ = wanted[i - 1]
        found[("-".join(parts), method, stream)] = _one_row_per_bin(by_store)
    return found, longest


def _one_row_per_bin(by_store: dict[str, list[BinRow]]) -> list[BinRow]:
    """The rows of one stream ordered by bin; a bin held in several stores counts once, with the
    row of the first store by name."""
    if len(by_store) == 1:
        (rows,) = by_store.values()
        rows.sort()
        return rows
    chosen: dict[int, BinRow] = {}
    for store in sorted(by_store):
        for row in by_store[store]:
            chosen.setdefault(row.bin, row)
    return sorted(chosen.values())


#: The connections held by ``one_connection`` in this context (greenlet, thread), by engine.
_HELD: ContextVar[dict[Engine, Connection] | None] = ContextVar("ooi_status_held_connections", default=None)


@contextmanager
def one_connection() -> Iterator[None]:
    """Within it, the reads of this context share one connection per engine, checked out at the
    first read and returned at the end: a request reading the deployments and the streams of an
    instrument checks a connection out (and pings it) once, not once per read."""
    held: dict[Engine, Connection] = {}
    token = _HELD.set(held)
    try:
        yield
    finally:
        _HELD.reset(token)
        for conn in held.values():
            conn.close()


@contextmanager
def connected(engine: Engine) -> Iterator[Connection]:
    """A connection whose database failures surface as SourceUnavailable, naming the database:
    the one held by ``one_connection``, else one of its own."""
    held = _HELD.get()
    try:
        if held is None:
            with engine.connect() as conn:
                yield conn
            return
        if engine not in held:
            held[engine] = engine.connect()
        yield held[engine]
    except DBAPIError as exc:
        raise SourceUnavailable(f"{where(engine)}: {first_line(exc)}") from exc


def where(engine: Engine) -> str:
    """The metadata database in a few words, for messages: server and database, never a password."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"metadata database SQLite {PurePath(url.database or ':memory:').name}"
    if url.get_backend_name() == "postgresql":
        return f"metadata database PostgreSQL {url.host or 'localhost'}:{url.port or 5432}/{url.database}"
    return f"metadata database {url.get_backend_name()} {url.host}/{url.database}"
