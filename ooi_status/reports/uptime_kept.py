"""The uptime report by stream kept between data revisions (PostgreSQL): after a commit, the work
is proportional to what changed, not to the fleet.

A stream's seconds in a window are C(stop) − C(start) (ooi_status.reports.uptime): C(start) needs
its latest history row at or before the start (the start edge: an index probe a stream, most of
the report's time computed whole), C(stop) its latest row before the stop, which is its
``status_latest`` row unless that row is at or after the stop. Each process keeps, per window
length (the windows end now and move by the minute), every stream's start-edge row, the row
after it (its first row after the start: its first row when it has none before), its
``status_latest`` row and that row's version (history id, xmin), and its names. A request reads,
in one REPEATABLE READ snapshot, in columns packed as bytes (a few sequential reads):
- every stream's id, the ids of its instrument and expected stream, its status;
- every ``status_latest`` row's version; the slow streams (uptime.SLOW: covered by a silence in
  the window, or with an unfilled row); the count and xmins of the instruments and expected
  streams (their names);
- the streams with history rows of ids above the highest one seen (an index range read);
and reads the rows of the streams whose rows may have changed, and of those only (two index
probes a stream and its status_latest row; every stream's when that is more than half of them):
- new streams, and streams whose ``status_latest`` version or names' ids differ: a check round
  appends rows at its time and fills their cumulative seconds in its transaction, and
  ``fill_cumulative`` rewrites the ``status_latest`` row of every stream whose rows it fills (a
  row written out of time order, by hand or by a bulk load, changes the rows after it: it is
  unfilled until then, its stream slow meanwhile);
- streams with rows of ids above the highest one seen (rows inserted otherwise);
- streams whose row after the start is now at or before it (the window moved past it);
- every stream when the window start moved back or the names' tables changed.
The API's writes (enable, disable, silences, expected streams) write no history: a disabled
stream's change is the next round's. A deleted stream is gone from the read (its history and
``status_latest`` rows cascade); deleting a stream's latest history row deletes its
``status_latest`` row (a version change). Not seen: a history row updated in place, or deleted
other than as its stream's latest (the cumulative seconds of the rows after it would be wrong
for the report computed whole as well), and a row inserted with its cumulative seconds given
instead of filled and an id below the highest one seen. xmin is 32 bits, as in
ooi_status.reports.coverage_kept.

The slow streams are answered by the window statement, in the snapshot, as ``uptime`` answers
them. The rows are ``uptime(session, start, stop, "stream")`` in that snapshot, byte for byte
once encoded (tests compare them after every kind of write).

Kept per window length at 12,000 streams: 210 bytes of arrays a stream (2.5 MB) and its names
(counted as 250 bytes a stream, 3 MB; the four streams of an instrument share its name): about
5.5 MB; ``KeptUptimes`` bounds the total. On SQLite the report is computed whole (``uptime``)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.orm import Session

from ooi_status.model.types import UTCDateTime
from ooi_status.reports import KeptBySize, one_snapshot, uptime, without_gc
from ooi_status.times import as_utc

_CODES = {state: code for code, state in enumerate(uptime.CUMULATIVE)}
#: A status that is none of the four (or no row): no seconds in any.
_NONE = len(_CODES)


def _code(column: str) -> str:
    """A status as a 2-byte code, packed (_CODES; other and NULL: _NONE)."""
    cases = " ".join(f"WHEN '{state}' THEN {code}" for state, code in _CODES.items())
    return f"int2send(CAST(CASE {column} {cases} ELSE {_NONE} END AS smallint))"


def _flag(condition: str) -> str:
    return f"int2send(CAST(CASE WHEN {condition} THEN 1 ELSE 0 END AS smallint))"


def _numbers(row: str) -> str:
    """The row's time as epoch seconds and its four cumulative seconds, packed (none: NaN)."""
    epoch = uptime.EPOCH["postgresql"].format(f"{row}.changed_at")
    columns = [epoch, *(f"{row}.{c}" for c in uptime.COLUMNS)]
    return " || ".join(f"float8send(COALESCE({c}, 'NaN'))" for c in columns)


_DIGITS = " ".join(f"WHEN '{state}' THEN '{code}'" for state, code in _CODES.items())
_XMIN = "CAST(CAST({}.xmin AS text) AS bigint)"
# Every stream (id, its names' ids, its status as one digit), every status_latest row's version
# (stream id, history id, xmin), the slow streams (uptime.SLOW) and the names' tables (their count
# and xmins), in columns packed one value after the other (the columns of one aggregate keep one
# order: the rows', whatever it is).
_READ = text(f"""
WITH {uptime.SLOW}
SELECT d.sids, d.rds, d.ess, d.statuses, l.sids, l.hids, l.xmins,
       (SELECT string_agg(int8send(CAST(sid AS bigint)), ''::bytea) FROM slow),
       (SELECT count(*) || ':' || COALESCE(sum({_XMIN.format("r")}), 0) FROM reference_designator r)
       || ' ' || (SELECT count(*) || ':' || COALESCE(sum({_XMIN.format("x")}), 0) FROM expected_stream x)
FROM (
    SELECT string_agg(int8send(CAST(id AS bigint)), ''::bytea) AS sids,
           string_agg(int8send(CAST(reference_designator_id AS bigint)), ''::bytea) AS rds,
           string_agg(int8send(CAST(expected_stream_id AS bigint)), ''::bytea) AS ess,
           string_agg(CASE status {_DIGITS} ELSE '{_NONE}' END, '') AS statuses
    FROM deployed_stream
) AS d, (
    SELECT string_agg(int8send(CAST(deployed_stream_id AS bigint)), ''::bytea) AS sids,
           string_agg(int8send(CAST(history_id AS bigint)), ''::bytea) AS hids,
           string_agg(int8send({_XMIN.format("status_latest")}), ''::bytea) AS xmins
    FROM status_latest
) AS l
""").bindparams(bindparam("start", type_=UTCDateTime()), bindparam("stop", type_=UTCDateTime()))

# The streams with history rows of ids above :since, and the highest id.
_SINCE = text("SELECT max(id), array_agg(DISTINCT deployed_stream_id) FROM status_history WHERE id > :since")
_HIGHEST = text("SELECT max(id) FROM status_history")

# A row of each of the streams :sids (an array literal), one record of _EDGE each, in their order.
_PROBE = """
SELECT string_agg(
    int8send(e.sid) || {found} || {old} || {new} || {numbers}, ''::bytea ORDER BY e.n)
FROM unnest(CAST(:sids AS bigint[])) WITH ORDINALITY AS e(sid, n)
LEFT JOIN {row}
"""
_ROW = [("t", ">f8"), ("cum", ">f8", (len(_CODES),))]
_EDGE = np.dtype([("sid", ">i8"), ("found", ">i2"), ("old", ">i2"), ("new", ">i2"), *_ROW])
_COLUMNS = ", ".join(f"h.{c}" for c in uptime.COLUMNS)
# An edge row: the latest at or before the start (a), the first after it (n), the latest before
# the stop (b): (comparison, edge, order).
_EDGES = {"a": ("<=", "start", "DESC"), "n": (">", "start", "ASC"), "b": ("<", "stop", "DESC")}
_EDGE_ROW = """LATERAL (
    SELECT h.id, h.old_status, h.new_status, h.changed_at, {columns}
    FROM status_history h
    WHERE h.deployed_stream_id = e.sid AND h.changed_at {op} :{edge}
    ORDER BY h.changed_at {order}, h.id {order} LIMIT 1
) AS h ON true"""
# A join, not a probe a stream: every stream's on a first request (a hash join).
_LATEST_ROW = """(
    SELECT history_id AS id, deployed_stream_id, old_status, new_status, changed_at, {columns}
    FROM status_latest
) AS h ON h.deployed_stream_id = e.sid"""


def _probe_statement(row: str) -> TextClause:
    return text(
        _PROBE.format(
            found=_flag("h.id IS NOT NULL"), old=_code("h.old_status"), new=_code("h.new_status"),
            numbers=_numbers("h"), row=row,
        )
    )  # fmt: skip


_PROBES = {
    name: _probe_statement(_EDGE_ROW.format(columns=_COLUMNS, op=op, edge=edge, order=order)).bindparams(
        bindparam(edge, type_=UTCDateTime())
    )
    for name, (op, edge, order) in _EDGES.items()
}
#: The status_latest row (l).
_PROBES["l"] = _probe_statement(_LATEST_ROW.format(columns=", ".join(uptime.COLUMNS)))

_NAMES = text("""
SELECT ds.id, rd.name, es.method, es.name
FROM unnest(CAST(:sids AS bigint[])) AS e(sid)
JOIN deployed_stream ds ON ds.id = e.sid
JOIN reference_designator rd ON rd.id = ds.reference_designator_id
JOIN expected_stream es ON es.id = ds.expected_stream_id
""")
#: Bytes kept per stream beside its arrays (its names, their tuple and dict entries).
_NAMES_OVERHEAD = 250


class KeptUptime:
    """What the report by stream needs per stream for one window length, as of the last request
    (module docstring), in arrays aligned by stream id. Used under ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.start: datetime | None = None  # the window start the edges are of
        self.digest = ""  # the names' tables: count and xmins
        self.since = 0  # the highest history id seen
        self.sids = np.zeros(0, np.int64)
        self.ids = np.zeros((0, 2), np.int64)  # the ids of its instrument and expected stream
        self.version = np.zeros((0, 2), np.int64)  # its status_latest row's history id and xmin
        self.latest = np.zeros(0, _EDGE)  # its status_latest row
        self.a = np.zeros(0, _EDGE)  # the start edge
        self.n = np.zeros(0, _EDGE)  # the row after it
        self.names: dict[int, tuple[str, str, str]] = {}
        self.order = np.zeros(0, np.int64)  # positions, in the order of the names
        self.size = 0


class KeptUptimes(KeptBySize[KeptUptime]):
    """The kept reports of a process by window length: at most ``max_bytes`` (least recently used
    first out; one larger than that alone is not kept)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes, KeptUptime)


def kept_stream_rows(
    session: Session, kept: KeptUptime, start: datetime, stop: datetime
) -> list[dict[str, Any]]:
    """``uptime(session, start, stop, "stream")`` in a snapshot taken now, from ``kept`` brought to
    it. Ends the session's transaction and reads in one of its own (REPEATABLE READ)."""
    start, stop = as_utc(start), as_utc(stop)
    with kept.lock:
        one_snapshot(session)
        try:
            status, slow = _update(session, kept, start, stop)
            return _rows(session, kept, status, slow, start, stop)
        except BaseException:
            kept.clear()  # half updated
            raise
        finally:
            session.rollback()


def _update(session: Session, kept: KeptUptime, start: datetime, stop: datetime) -> tuple[np.ndarray, ...]:
    """Bring ``kept`` to the snapshot; the streams' status codes and the slow streams' ids."""
    read = session.execute(_READ, {"start": start, "stop": stop}).one()
    sids, rds, ess, statuses, latest_sids, hids, xmins, slow, digest = read
    sids, ids = _ints(sids), np.stack([_ints(rds), _ints(ess)], axis=1)
    status = np.frombuffer((statuses or "").encode(), np.uint8) - ord("0")
    by_id = np.argsort(sids, kind="stable")
    sids, ids, status = sids[by_id], ids[by_id], status[by_id]
    version = np.zeros((len(sids), 2), np.int64)  # no status_latest row: 0, 0
    at, found = _positions(_ints(latest_sids), sids)
    version[found] = np.stack([_ints(hids), _ints(xmins)], axis=1)[at[found]]
    every = np.ones(len(sids), bool)
    probe, named = every, every
    edges = {name: np.zeros(len(sids), _EDGE) for name in ("l", "a", "n")}
    incremental = kept.start is not None and start >= kept.start and digest == kept.digest
    if incremental and len(kept.sids):
        highest, inserted = session.execute(_SINCE, {"since": kept.since}).one()
        at, known = _positions(kept.sids, sids)
        named = ~known | np.any(kept.ids[at] != ids, axis=1)
        probe = named | np.any(kept.version[at] != version, axis=1)
        edges = {"l": kept.latest[at], "a": kept.a[at], "n": kept.n[at]}  # copies
        n = edges["n"]
        probe |= (n["found"] == 1) & (n["t"] <= start.timestamp())  # the window moved past it
        if inserted:
            probe |= np.isin(sids, np.array(inserted, np.int64))
        if np.count_nonzero(probe) > len(sids) // 2:
            probe, named = every, every  # as fast probed whole
    else:
        highest = session.scalar(_HIGHEST)
    if np.any(probe):
        for name, edge in edges.items():
            edge[probe] = _probe(session, name, sids[probe], start)
    if not np.any(named) and len(sids) == len(kept.names):
        names = kept.names  # the same streams
    else:
        names = {sid: kept.names[sid] for sid in sids[~named].tolist()}
    if np.any(named):
        names.update(_names(session, sids[named]))
    if np.any(named) or len(names) != len(kept.names):
        keys = [(names[sid], sid) for sid in sids.tolist()]
        kept.order = np.array(sorted(range(len(keys)), key=keys.__getitem__), np.int64)
    kept.start, kept.digest, kept.since = start, digest, max(kept.since, highest or 0)
    kept.sids, kept.ids, kept.version, kept.names = sids, ids, version, names
    kept.latest, kept.a, kept.n = edges["l"], edges["a"], edges["n"]
    arrays = (sids, ids, version, *edges.values(), kept.order)
    kept.size = sum(x.nbytes for x in arrays) + _NAMES_OVERHEAD * len(names)
    return status, _ints(slow)


def _ints(packed: bytes | None) -> np.ndarray:
    """Packed 8-byte integers (int8send, big-endian)."""
    return np.frombuffer(packed or b"", ">i8").astype(np.int64)


def _positions(known: np.ndarray, sids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``sids`` is in the sorted ``known`` ids, and whether it is there."""
    if not len(known):
        return np.zeros(len(sids), np.int64), np.zeros(len(sids), bool)
    order = np.argsort(known, kind="stable")
    at = order[np.minimum(np.searchsorted(known, sids, sorter=order), len(known) - 1)]
    return at, known[at] == sids


def _probe(session: Session, name: str, sids: np.ndarray, moment: datetime) -> np.ndarray:
    """The ``name`` row (_PROBES) of each of the streams ``sids``, in their order."""
    params: dict[str, Any] = {"sids": _array(sids)}
    if name in _EDGES:
        params[_EDGES[name][1]] = moment
    found = np.frombuffer(session.scalar(_PROBES[name], params) or b"", _EDGE)
    if not np.array_equal(found["sid"], sids):
        raise RuntimeError("uptime: the probed rows are not those of the streams asked for")
    return found


def _names(session: Session, sids: np.ndarray) -> dict[int, tuple[str, str, str]]:
    return {sid: (r, m, s) for sid, r, m, s in session.execute(_NAMES, {"sids": _array(sids)})}


def _array(sids: np.ndarray) -> str:
    """An array literal of the ids (parsed as one value, not as thousands of parameters)."""
    return "{" + ",".join(map(str, sids.tolist())) + "}"


def _rows(
    session: Session, kept: KeptUptime, status: np.ndarray, slow: np.ndarray, start: datetime, stop: datetime
) -> list[dict[str, Any]]:
    """The report's rows from the kept rows: C(stop) − C(start) of each stream in each status, as
    the cumulative statement computes them (the same operations in the same order), then the
    slow streams' by the window statement."""
    start_s, stop_s = start.timestamp(), stop.timestamp()
    a, n, latest = kept.a, kept.n, kept.latest
    history = (a["found"] == 1) | (n["found"] == 1)
    # The stop edge: the status_latest row when before the stop, else probed (a round in this
    # minute; a stream whose latest row is not filled yet, or was deleted).
    b = latest.copy()
    probed = history & ~((latest["found"] == 1) & (latest["t"] < stop_s))
    if np.any(probed):
        b[probed] = _probe(session, "b", kept.sids[probed], stop)
    seconds = np.empty((len(_CODES), len(kept.sids)), np.float64)
    window = stop_s - start_s
    for code in range(len(_CODES)):
        first = n["cum"][:, code]
        at_start = np.where(
            a["found"] == 1,
            a["cum"][:, code] + np.where(a["new"] == code, start_s - a["t"], 0.0),
            first - np.where(n["old"] == code, n["t"] - start_s, 0.0),
        )
        at_stop = np.where(
            b["found"] == 1,
            b["cum"][:, code] + np.where(b["new"] == code, stop_s - b["t"], 0.0),
            first - np.where(n["old"] == code, n["t"] - stop_s, 0.0),
        )
        seconds[code] = np.where(history, at_stop - at_start, np.where(status == code, window, 0.0))
    order = kept.order[~np.isin(kept.sids[kept.order], slow)] if len(slow) else kept.order
    sids = kept.sids[order].tolist()
    with without_gc():
        names = [kept.names[sid] for sid in sids]
    refdes, methods, streams = zip(*names, strict=True) if names else ((), (), ())
    rows = uptime.finished_rows(sids, refdes, methods, streams, seconds[:, order])
    if not len(slow):
        return rows
    return uptime.with_slow_rows(session, rows, slow.tolist(), start, stop)
