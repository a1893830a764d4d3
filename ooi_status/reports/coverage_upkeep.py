"""Keeping the coverage table up to date: a full build, and the monitor's upkeep per round.

A stream's coverage rows (ooi_status.coverage: seconds of each category per calendar month
and per deployment) are recomputed when what they were computed from moved:

- its stream_metadata row (count, first, last) differs from the one stored in
  coverage_stream — ingest changes it with every new point;
- its instrument's deployments differ (seen when the instrument is processed), or the
  stream was last computed whole more than COVERAGE_REFRESH_SECONDS ago (deployment edits
  of instruments whose streams do not move, months still open when computed).

*Incremental.* When a moved stream's first point is the same and the points it gained are
all in bins ending after its previous last point (its count grew by exactly the points of
those bins: nothing was filled in further back), only the months from the earliest such bin
(or from the previous computation, for months still open then) are recomputed, from the bins
of those months alone (on PostgreSQL only the bins starting after the read start minus the
stream's longest bin: ``_longest_bin``). The row of an open deployment needs every bin since
the deployment started: it is recomputed with the stream once COVERAGE_OPEN_DEPLOYMENT_SECONDS
have passed since the stream was last computed whole (0: always). Anything else is computed whole.

*Set-based.* Instruments are processed in batches (``update_batch``): one read of the batch's
deployments, one of its due streams' bins, one write of their coverage rows (an upsert, after a
delete of the rows of the streams computed whole) and one of their coverage_stream rows, whatever
the number of streams. Finding the due streams compares every stream each round: from a few
numbers of each (``plan``), the whole rows read only for the streams found due; a long-lived
process (the monitor) keeps the coverage_stream rows and the stream metadata's numbers it read,
and each round reads only the rows written since its previous one (``UpkeepMemory``,
ooi_status.kept_rows).

Work per round is bounded: moved streams first, then new ones, then the longest unrefreshed,
in batches sized to the time left (``_Pace``) until the deadline the caller gives; the work is
committed at least every second, with a move of the data revision, so an interrupted round
keeps most of what it finished and the API's kept coverage answers are never stale.
"""

from __future__ import annotations

import hashlib
import logging
import math
import struct
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Table, and_, delete, or_, select, text, tuple_
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.availability.engine import Deployment, Rules
from ooi_status.config import Settings
from ooi_status.coverage import (
    MONTH,
    Period,
    PeriodCoverage,
    StreamBins,
    instrument_periods,
    month_start,
    stream_coverage,
)
from ooi_status.db import is_postgres
from ooi_status.kept_rows import KeptRows
from ooi_status.model.monitor import Coverage, CoverageStream
from ooi_status.monitor.bulk import array_type, insert_rows, unnest_columns, update_by_id
from ooi_status.sources.base import (
    BinRow,
    DeploymentRow,
    DeploymentSource,
    StreamId,
    StreamPoints,
    StreamRow,
    StreamSource,
)
from ooi_status.sources.postgres import one_connection, split_points
from ooi_status.times import datetime_to_ntp, ntp_to_datetime, unix_ms_to_ntp

log = logging.getLogger(__name__)

_ALL_TIME = (-1e12, 1e12)  # NTP seconds before and after any real bin
#: Keys per statement of a delete by keys where tuple IN is used (SQLite's bound-parameter limit).
_DELETE_PAGE = 1000
#: Longest a run of upkeep work goes uncommitted.
COMMIT_SECONDS = 1.0
_C = Coverage.__table__
_S = CoverageStream.__table__
#: What a stream's coverage was computed from (a coverage_stream row, read as a plain row).
_STATE_COLUMNS = (
    _S.c.id, _S.c.refdes, _S.c.method, _S.c.stream, _S.c.count, _S.c.first, _S.c.last,
    _S.c.tail_points, _S.c.deployments, _S.c.computed_at, _S.c.refreshed_at, _S.c.longest_bin,
)  # fmt: skip
#: Columns written (ooi_status.monitor.bulk): a coverage_stream row, a coverage row.
_STATE_WRITTEN = tuple(column.name for column in _STATE_COLUMNS[1:])
#: Columns updated of a stream's coverage_stream row (the others are its key).
_STATE_UPDATED = _STATE_WRITTEN[3:]
#: The coverage row's key (its unique constraint).
_COVERAGE_KEY = ("refdes", "method", "stream", "kind", "period")
_COVERAGE_COLUMNS = (
    "refdes", "method", "stream", "kind", "period", "period_start", "window_start", "window_stop",
    "present", "sparse1", "sparse2", "sparse3", "missing", "not_expected",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CoverageSources:
    streams: StreamSource
    deployments: DeploymentSource


@dataclass
class Job:
    """One instrument's streams to recompute; ``states`` None for a stream never computed."""

    refdes: str
    rows: list[StreamRow]  # every stream of the instrument (its earliest point counts)
    due: list[tuple[StreamRow, Any]]
    rank: tuple[int, float] = (0, 0.0)


@dataclass
class UpkeepReport:
    instruments: int = 0
    streams: int = 0
    whole: int = 0
    remaining: int = 0
    removed: int = 0
    duration: float = 0.0
    errors: list[str] = field(default_factory=list)


def refdes_of(row: StreamRow) -> str:
    return f"{row.subsite}-{row.node}-{row.sensor}"


def _excluded(method: str, prefix: str) -> bool:
    return bool(prefix) and method.startswith(prefix)


class UpkeepMemory:
    """What a long-lived process (the monitor) keeps between its upkeep rounds: the coverage_stream
    rows as last read, on PostgreSQL (ooi_status.kept_rows), so that a round reads only the rows
    written since its previous one — its own writes and any other process's — instead of every
    stream's mark. Elsewhere every round reads the marks."""

    def __init__(self) -> None:
        self.states = KeptRows(
            "coverage_stream",
            tuple(column.name for column in _STATE_COLUMNS),
            key=lambda state: (state.refdes, state.method, state.stream),
            value=lambda state: ((state.count, state.first, state.last), state.refreshed_at, state),
        )


def plan(
    session: Session,
    sources: CoverageSources,
    now: datetime,
    settings: Settings,
    everything: bool = False,
    memory: UpkeepMemory | None = None,
) -> tuple[list[Job], list[int]]:
    """The instruments with streams due, most urgent first, and the ids of coverage_stream rows
    whose stream is gone from the stream metadata. ``everything``: every stream (a full build).

    Every stream is compared with its coverage_stream row each round, from a few numbers of each
    (``_stream_points``, ``_marks`` or the rows kept in ``memory``); whole rows are read only for
    the streams found due, and the stream metadata only of their instruments."""
    prefix = settings.AVAILABILITY_EXCLUDED_METHOD_PREFIX
    refresh_before = now - timedelta(seconds=settings.COVERAGE_REFRESH_SECONDS)
    points, rows = _stream_points(sources.streams, prefix)
    kept = None if memory is None or not is_postgres(session) else memory.states.read(session)
    if kept is None:
        moved, gone = _moved_by_marks(session, points, refresh_before, everything)
    else:
        moved, gone = _moved_kept(kept, points, refresh_before, everything)
    if not moved:
        return [], gone
    instruments = {key[0] for key in moved}
    jobs: dict[str, Job] = {}
    for row in _rows_of(points, instruments) if rows is None else rows:
        refdes = refdes_of(row)
        if refdes not in instruments:
            continue
        job = jobs.get(refdes)
        if job is None:
            job = jobs[refdes] = Job(refdes, [], [])
        job.rows.append(row)
        key = (refdes, row.method, row.stream)
        if key not in moved:
            continue  # up to date when its numbers were compared
        state = moved[key]
        rank = _urgency(row, state, refresh_before, everything)
        if rank is not None:
            job.due.append((row, state))
            job.rank = max(job.rank, rank)
    due = sorted((job for job in jobs.values() if job.due), key=lambda job: job.rank, reverse=True)
    return due, gone


def _moved_kept(
    kept: dict[Any, Any], points: dict[StreamId, StreamPoints], refresh_before: datetime, everything: bool
) -> tuple[dict[StreamId, Any], list[int]]:
    """``_moved_by_marks`` from the rows kept (UpkeepMemory)."""
    moved: dict[StreamId, Any] = {}
    new = 0
    for key, numbers in points.items():
        mark = kept.get(key)
        if mark is None:
            moved[key] = None
            new += 1
        elif everything or mark[0] != numbers or mark[1] < refresh_before:
            moved[key] = mark[2]
    if len(points) - new == len(kept):  # every kept row's stream is among the points
        return moved, []
    return moved, [mark[2].id for key, mark in kept.items() if key not in points]


def _moved_by_marks(
    session: Session, points: dict[StreamId, StreamPoints], refresh_before: datetime, everything: bool
) -> tuple[dict[StreamId, Any], list[int]]:
    """The streams to look at, with their coverage_stream row (None: never computed), and the ids
    of rows whose stream is gone: from every row's mark, the whole rows read for those moved."""
    marks = _marks(session, refresh_before)
    moved = [
        key
        for key, numbers in points.items()
        if everything or (mark := marks.get(key)) is None or mark[4] or mark[1:4] != numbers
    ]
    gone = [mark[0] for key, mark in marks.items() if key not in points]
    states = _states(session, [mark[0] for key in moved if (mark := marks.get(key)) is not None])
    found: dict[StreamId, Any] = {}
    for key in moved:
        mark = marks.get(key)
        if mark is None:
            found[key] = None
        elif (state := states.get(mark[0])) is not None:  # (else gone since its mark was read)
            found[key] = state
    return found, gone


def _stream_points(
    source: StreamSource, prefix: str
) -> tuple[dict[StreamId, StreamPoints], Sequence[StreamRow] | None]:
    """(points, first, last) of every stream not excluded, by (refdes, method, stream), and the
    stream rows when they had to be read for that (None: read as numbers, ``stream_points``)."""
    many = getattr(source, "stream_points", None)
    points = None if many is None else many(prefix)
    if points is not None:
        return points, None
    rows = [row for row in source.streams() if not _excluded(row.method, prefix)]
    return {(refdes_of(row), row.method, row.stream): (row.points, row.first, row.last) for row in rows}, rows


def _rows_of(points: dict[StreamId, StreamPoints], instruments: set[str]) -> list[StreamRow]:
    """The stream rows of these instruments (subsite and node hold no dash: see ``stream_points``)."""
    rows = []
    for (refdes, method, stream), (count, first, last) in points.items():
        if refdes in instruments:
            subsite, node, sensor = refdes.split("-", 2)
            rows.append(StreamRow(subsite, node, sensor, method, stream, count, first, last))
    return rows


#: What the plan compares of a coverage_stream row: id, count, first, last, and whether it is due
#: for its refresh (the database compares refreshed_at: no timestamp is decoded).
_Mark = tuple[int, int | None, float | None, float | None, bool]

# On PostgreSQL the marks come as one text of names and one bytea of numbers (id, count, first,
# last, due for refresh) in the same order, as the stream metadata's (ooi_status.sources.postgres).
_PACKED_MARKS = """
SELECT count(*),
       string_agg(refdes || E'\\t' || method || E'\\t' || stream, E'\\n'),
       string_agg(int8send(id) || int8send(count) || float8send(first) || float8send(last)
                  || int8send(CASE WHEN refreshed_at < :refresh_before THEN 1 ELSE 0 END), ''::bytea)
FROM coverage_stream
"""
_PACKED_MARK = struct.Struct(">qqddq")


def _marks(session: Session, refresh_before: datetime) -> dict[StreamId, _Mark]:
    """Every coverage_stream row's mark, by (refdes, method, stream)."""
    if is_postgres(session):
        rows, names, packed = session.execute(text(_PACKED_MARKS), {"refresh_before": refresh_before}).one()
        marks = split_points(rows, names, packed, _PACKED_MARK)
        if marks is not None:
            return {key: (i, n, first, last, stale == 1) for key, (i, n, first, last, stale) in marks}
    query = select(
        _S.c.refdes, _S.c.method, _S.c.stream, _S.c.id, _S.c.count, _S.c.first, _S.c.last,
        _S.c.refreshed_at < refresh_before,
    )  # fmt: skip
    return {(r[0], r[1], r[2]): (r[3], r[4], r[5], r[6], bool(r[7])) for r in session.execute(query).all()}


def _states(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """Whole coverage_stream rows by id, in pages (SQLite's bound-parameter limit)."""
    states: dict[int, Any] = {}
    for page in range(0, len(ids), _DELETE_PAGE):
        query = select(*_STATE_COLUMNS).where(_S.c.id.in_(ids[page : page + _DELETE_PAGE]))
        states.update((state.id, state) for state in session.execute(query).all())
    return states


def _urgency(
    row: StreamRow, state: Any, refresh_before: datetime, everything: bool
) -> tuple[int, float] | None:
    """How urgent a stream is (higher first), or None when its coverage is up to date."""
    if everything:
        return (1, 0.0)
    if state is None:
        return (2, 0.0)
    if (state.count, state.first, state.last) != (row.points, row.first, row.last):
        return (3, 0.0)
    if state.refreshed_at < refresh_before:
        return (1, -state.refreshed_at.timestamp())
    return None


def fingerprint(rows: Sequence[DeploymentRow]) -> str:
    text = ";".join(f"{r.number}:{r.start_ms}:{r.stop_ms}" for r in sorted(rows))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def engine_deployments(rows: Sequence[DeploymentRow]) -> list[Deployment]:
    return [
        Deployment(
            r.number, unix_ms_to_ntp(r.start_ms), None if r.stop_ms is None else unix_ms_to_ntp(r.stop_ms)
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to recompute of one stream: every period (whole), or the months ending after
    ``cutoff`` from the bins ending after ``read_from``. ``state``: its coverage_stream row."""

    row: StreamRow
    state: Any
    whole: bool
    read_from: float = _ALL_TIME[0]
    cutoff: float = _ALL_TIME[0]


@dataclass
class _Instrument:
    """One instrument of a batch: its deployments, periods and the plans of its due streams."""

    refdes: str
    deployed: list[Deployment]
    marks: str
    periods: list[Period]  # every period, or the months from the partial plans' read start
    plans: list[_Plan]
    earliest: float | None  # the instrument's first data point


#: One stream's recomputation: refdes, plan, the periods recomputed, their coverage, tail points
#: and longest bin span.
_Result = tuple[str, _Plan, Sequence[Period], Sequence[PeriodCoverage], int, float | None]


def update_batch(
    session: Session,
    sources: CoverageSources,
    jobs: Sequence[Job],
    now: datetime,
    settings: Settings,
    whole: bool = False,
) -> tuple[int, int]:
    """Recompute the due streams of these instruments in the caller's transaction; (streams, whole).

    Set-based: one read of the instruments' deployments, one of the due streams' bins (each
    stream from its own start), then the computation, then one replacement of their coverage
    rows and coverage_stream rows."""
    now_ntp = datetime_to_ntp(now)
    deployment_rows = _deployments(sources.deployments, [job.refdes for job in jobs])
    # A stream not computed whole for COVERAGE_REFRESH_SECONDS is due for exactly that.
    stale = now - timedelta(seconds=settings.COVERAGE_REFRESH_SECONDS)
    instruments = []
    for job in jobs:
        rows = deployment_rows.get(job.refdes, [])
        deployed = engine_deployments(rows)
        marks = fingerprint(rows)
        firsts = [row.first for row in job.rows if row.first is not None]
        earliest = min(firsts) if firsts else None
        # An open deployment's row needs every bin since it started: recomputed whole, now and then.
        lagging = None
        if any(d.stop is None or d.stop > now_ntp for d in deployed):
            lagging = now - timedelta(seconds=settings.COVERAGE_OPEN_DEPLOYMENT_SECONDS)
        plans = [
            _stream_plan(
                row, state, marks, whole or (state is not None and state.refreshed_at < stale), lagging
            )
            for row, state in job.due
        ]
        # Streams recomputed from their new bins need only the months from their read start on.
        since = None if any(p.whole for p in plans) else min(p.read_from for p in plans)
        periods = instrument_periods(deployed, earliest, now_ntp, since)
        instruments.append(_Instrument(job.refdes, deployed, marks, periods, plans, earliest))
    bins, longest = _read_bins(sources.streams, [(i.refdes, p) for i in instruments for p in i.plans])
    # Streams that gained points elsewhere than after their last one: read again, whole.
    again = []
    for instrument in instruments:
        for n, stream_plan in enumerate(instrument.plans):
            if not stream_plan.whole:
                checked = _check_tail(stream_plan, bins.get(_key(instrument.refdes, stream_plan), []))
                if checked.whole:
                    instrument.plans[n] = checked
                    again.append((instrument.refdes, checked))
                    instrument.periods = instrument_periods(instrument.deployed, instrument.earliest, now_ntp)
    if again:
        more, longer = _read_bins(sources.streams, again)
        bins.update(more)
        longest = None if longest is None or longer is None else {**longest, **longer}
    rules = Rules.from_settings(settings)
    results: list[_Result] = []
    for instrument in instruments:
        for stream_plan in instrument.plans:
            stream_bins = bins.get(_key(instrument.refdes, stream_plan), [])
            chosen = (
                instrument.periods
                if stream_plan.whole
                else [p for p in instrument.periods if _recomputed(p, stream_plan.cutoff)]
            )
            coverage = stream_coverage(
                StreamBins(stream_bins),
                instrument.deployed,
                chosen,
                now_ntp,
                None,
                rules,
            )
            tail = _tail_points(stream_plan.row, stream_bins)
            span = _longest_bin(stream_plan, longest, _key(instrument.refdes, stream_plan))
            results.append((instrument.refdes, stream_plan, chosen, coverage, tail, span))
    _write(session, results, {i.refdes: i.marks for i in instruments}, now)
    return len(results), sum(1 for _, stream_plan, *_ in results if stream_plan.whole)


def _longest_bin(
    stream_plan: _Plan, longest: dict[tuple[str, str, str], float] | None, key: tuple[str, str, str]
) -> float | None:
    """The stream's longest bin span after this computation (None: unknown).

    Invariant: it is at least the span of every bin of the stream ending after the start of the
    last read. A later incremental read starts later (months only move forward), so every bin
    it needs that has not changed since starts at or after its start minus this span; a bin
    that did change moved the stream's count, which _check_tail matches against the bins read."""
    if longest is None:
        return None
    read = longest.get(key, 0.0)
    previous = None if stream_plan.whole else stream_plan.state.longest_bin
    return read if previous is None else max(previous, read)


def _key(refdes: str, stream_plan: _Plan) -> tuple[str, str, str]:
    return (refdes, stream_plan.row.method, stream_plan.row.stream)


def _deployments(source: DeploymentSource, refdes: Sequence[str]) -> dict[str, list[DeploymentRow]]:
    """Deployments of many instruments: one read where the source offers it, else one each."""
    many = getattr(source, "deployments_of", None)
    if many is not None:
        return many(refdes)
    return {r: source.deployments(r) for r in refdes}


def _stream_plan(row: StreamRow, state: Any, marks: str, whole: bool, lagging: datetime | None) -> _Plan:
    if (
        whole
        or state is None
        or state.deployments != marks
        or (lagging is not None and state.refreshed_at < lagging)
        or state.last is None
        or row.last is None
        or row.first != state.first
        or (row.points or 0) < (state.count or 0)
        or row.last < state.last
    ):
        return _Plan(row, state, True)
    since = min(state.last, datetime_to_ntp(state.computed_at))
    return _Plan(row, state, False, read_from=month_start(since), cutoff=since)


def _check_tail(stream_plan: _Plan, bins: Sequence[BinRow]) -> _Plan:
    """The incremental plan when the stream only gained points after its previous last one, else whole."""
    row, state = stream_plan.row, stream_plan.state
    last = state.last
    tail = [b for b in bins if b.last > last]
    gained = (row.points or 0) - (state.count or 0)
    if gained != sum([b.points for b in tail]) - state.tail_points:
        return _Plan(row, state, True)
    cutoff = min(min((b.first for b in tail), default=math.inf), stream_plan.cutoff)
    if cutoff < stream_plan.read_from:
        return _Plan(row, state, True)
    return _Plan(row, state, False, stream_plan.read_from, cutoff)


def _recomputed(period: Period, cutoff: float) -> bool:
    """Months ending after the cutoff; no deployment (an incremental plan keeps them)."""
    return period.kind == MONTH and period.stop is not None and period.stop > cutoff


def _read_bins(
    source: StreamSource, plans: Sequence[tuple[str, _Plan]]
) -> tuple[dict[tuple[str, str, str], Sequence[BinRow]], dict[tuple[str, str, str], float] | None]:
    """The bins of these streams — from the beginning for those computed whole, from their read
    start for the others — and the longest span read per stream (None: not known). One read
    where the source offers it (``bins_of_streams``), else one per instrument and start."""
    requests = [(refdes, p.row.method, p.row.stream, *_read_start(p)) for refdes, p in plans]
    if not requests:
        return {}, {}
    many = getattr(source, "bins_of_streams", None)
    if many is not None:
        return many(requests, _ALL_TIME[1])
    groups: dict[tuple[str, float], list[tuple[str, str]]] = defaultdict(list)
    for refdes, method, stream, start, _ in requests:
        groups[(refdes, start)].append((method, stream))
    bins: dict[tuple[str, str, str], Sequence[BinRow]] = {}
    for (refdes, start), keys in groups.items():
        for (method, stream), rows in source.bins(refdes, keys, start, _ALL_TIME[1]).items():
            bins[(refdes, method, stream)] = rows
    return bins, None


def _read_start(stream_plan: _Plan) -> tuple[float, int | None]:
    """Where a stream's read starts: its bins ending after the first value that start at or after
    the second (None: any; see _longest_bin)."""
    if stream_plan.whole:
        return _ALL_TIME[0], None
    span = stream_plan.state.longest_bin
    return stream_plan.read_from, None if span is None else math.floor(stream_plan.read_from - span) - 1


def _tail_points(row: StreamRow, bins: Sequence[BinRow]) -> int:
    """Points of the bins ending after the stream's last point (normally none)."""
    last = row.last
    if last is None:
        return 0
    return sum([b.points for b in bins if b.last > last])


def _write(session: Session, results: Sequence[_Result], marks: dict[str, str], now: datetime) -> None:
    """Write the recomputed rows and the streams' coverage_stream rows, a statement each.

    A stream computed whole loses its rows first (its periods may be fewer now); the rows of the
    months recomputed from new bins are updated in place (upsert: a new month is inserted), and
    a recomputed month that has no window any more is deleted. A stream's coverage_stream row is
    updated in place, or inserted for a stream computed the first time."""
    c = _C.c
    delete_keys(session, _C, (c.refdes, c.method, c.stream), [
        (refdes, p.row.method, p.row.stream) for refdes, p, *_ in results if p.whole
    ])  # fmt: skip
    delete_keys(session, _C, (c.refdes, c.method, c.stream, c.kind, c.period), [
        (refdes, p.row.method, p.row.stream, period.kind, period.label)
        for refdes, p, chosen, coverage, *_ in results
        if not p.whole
        for period in _without_window(chosen, coverage)
    ])  # fmt: skip
    upsert_rows(session, _C, _COVERAGE_COLUMNS, _COVERAGE_KEY, [
        _coverage_row(refdes, stream_plan.row, item)
        for refdes, stream_plan, _, coverage, *_ in results for item in coverage
    ])  # fmt: skip
    states = [
        (
            refdes, p.state, p.row.points, p.row.first, p.row.last, tail, marks[refdes], now,
            now if p.whole else p.state.refreshed_at, span,
        )
        for refdes, p, _, _, tail, span in results
    ]  # fmt: skip
    update_by_id(session, _S, _STATE_UPDATED, [(state.id, *values) for _, state, *values in states if state])
    insert_rows(session, _S, _STATE_WRITTEN, [
        dict(zip(_STATE_WRITTEN, (refdes, p.row.method, p.row.stream, *values), strict=True))
        for (refdes, state, *values), (_, p, *_) in zip(states, results, strict=True)
        if state is None
    ])  # fmt: skip


def _without_window(chosen: Sequence[Period], coverage: Sequence[PeriodCoverage]) -> list[Period]:
    """The periods recomputed that got no coverage row (no window)."""
    if len(coverage) == len(chosen):
        return []
    covered = {item.period for item in coverage}
    return [period for period in chosen if period not in covered]


def upsert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    key: Sequence[str],
    rows: Sequence[dict[str, Any]],
) -> None:
    """Insert ``rows``, or where a row with the same ``key`` (a unique constraint's columns) is
    there, set its other ``columns``: one statement (on SQLite an executemany)."""
    if not rows:
        return
    updated = [name for name in columns if name not in key]
    if not is_postgres(session):
        statement = sqlite_insert(table)
        excluded = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=list(key), set_={name: excluded[name] for name in updated}
            ),
            list(rows),
        )
        return
    unnest, params = unnest_columns(table, columns, [[row[name] for row in rows] for name in columns])
    assignments = ", ".join(f"{name} = excluded.{name}" for name in updated)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM {unnest} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {assignments}"
    )
    session.execute(text(sql), params)


def delete_keys(
    session: Session, table: Table, columns: Sequence[Column[Any]], keys: Sequence[tuple[Any, ...]]
) -> None:
    """Delete the rows whose ``columns`` equal one of ``keys``: on PostgreSQL one statement joining
    arrays (its text the same for any number of keys), elsewhere in pages of a tuple IN."""
    if not keys:
        return
    if not is_postgres(session):
        for page in range(0, len(keys), _DELETE_PAGE):
            session.execute(delete(table).where(tuple_(*columns).in_(keys[page : page + _DELETE_PAGE])))
        return
    arrays = ", ".join(f"CAST(:k{n} AS {array_type(column)})" for n, column in enumerate(columns))
    names = ", ".join(column.name for column in columns)
    matched = " AND ".join(f"t.{column.name} = k.{column.name}" for column in columns)
    params = {f"k{n}": [key[n] for key in keys] for n in range(len(columns))}
    statement = f"DELETE FROM {table.name} AS t USING unnest({arrays}) AS k ({names}) WHERE {matched}"
    session.execute(text(statement), params)


def _coverage_row(refdes: str, row: StreamRow, item: PeriodCoverage) -> dict:
    return {
        "refdes": refdes,
        "method": row.method,
        "stream": row.stream,
        "kind": item.period.kind,
        "period": item.period.label,
        "period_start": ntp_to_datetime(item.period.start),
        "window_start": ntp_to_datetime(item.window.start),
        "window_stop": ntp_to_datetime(item.window.stop),
        **item.seconds,
    }


def remove_gone(session: Session, ids: Sequence[int]) -> int:
    """Drop the coverage of streams no longer in the stream metadata."""
    if not ids:
        return 0
    gone = session.execute(select(_S.c.refdes, _S.c.method, _S.c.stream).where(_S.c.id.in_(ids))).all()
    session.execute(
        delete(_C).where(
            or_(*(and_(_C.c.refdes == r, _C.c.method == m, _C.c.stream == s) for r, m, s in gone))
        )
    )
    session.execute(delete(_S).where(_S.c.id.in_(ids)))
    return len(ids)


def run_upkeep(
    sessions: Callable[[], AbstractContextManager[Session]],
    sources: CoverageSources,
    now: datetime,
    settings: Settings,
    deadline: float,
    everything: bool = False,
    progress: Callable[[int, int], None] | None = None,
    memory: UpkeepMemory | None = None,
) -> UpkeepReport:
    """Recompute due instruments until ``deadline`` (time.monotonic()), in batches (``batches``);
    ``memory``: what the caller keeps between its rounds (a long-lived process: UpkeepMemory).

    The plan and every batch after it are written in one transaction, committed at least every
    COMMIT_SECONDS with a move of the data revision (the coverage report's answers are kept by
    it): a commit per instrument would cost more than most instruments' work, and an
    interruption loses at most that much (redone next round)."""
    started = time.monotonic()
    report = UpkeepReport()
    # The round's metadata reads share one connection per engine (one checkout and ping).
    with one_connection(), sessions() as session:
        session.begin()
        jobs, gone = plan(session, sources, now, settings, everything, memory)
        report.removed = remove_gone(session, gone)
        written = report.removed > 0
        committed = time.monotonic()
        done = 0
        pace = _Pace()
        while done < len(jobs):
            if time.monotonic() >= deadline:
                report.remaining = len(jobs) - done
                break
            budget = min(COMMIT_SECONDS, deadline - time.monotonic())
            batch = pace.batch(jobs[done:], budget)
            batch_started = time.monotonic()
            streams, whole = update_batch(session, sources, batch, now, settings, whole=everything)
            pace.took(batch, time.monotonic() - batch_started)
            written = True
            done += len(batch)
            report.instruments += len(batch)
            report.streams += streams
            report.whole += whole
            if time.monotonic() - committed >= COMMIT_SECONDS:
                revision.bump(session)
                session.commit()
                session.begin()
                written = False
                committed = time.monotonic()
            if progress is not None:
                progress(done, len(jobs))
        if written:
            revision.bump(session)
        session.commit()
    report.duration = time.monotonic() - started
    return report


#: Most instruments and streams in one batch.
BATCH_INSTRUMENTS = 200
BATCH_STREAMS = 1000
#: Relative cost of a stream computed whole (years of bins) to one recomputed from its new bins.
_WHOLE_WEIGHT = 20.0


class _Pace:
    """How many instruments the next batch takes: as many as the budget holds at the seconds
    per unit of work the batches of this round took so far (a stream due because it moved
    counts 1, any other — computed whole — ``_WHOLE_WEIGHT``), at least one and at most
    BATCH_INSTRUMENTS instruments and BATCH_STREAMS streams."""

    def __init__(self) -> None:
        self.seconds_per_unit = 0.002

    @staticmethod
    def units(job: Job) -> float:
        moved = job.rank[0] == 3
        return sum(1.0 if moved and state is not None else _WHOLE_WEIGHT for _, state in job.due)

    def batch(self, jobs: Sequence[Job], budget: float) -> Sequence[Job]:
        units = streams = 0.0
        for n, job in enumerate(jobs[:BATCH_INSTRUMENTS]):
            units += self.units(job)
            streams += len(job.due)
            if n > 0 and (units * self.seconds_per_unit > budget or streams > BATCH_STREAMS):
                return jobs[:n]
        return jobs[:BATCH_INSTRUMENTS]

    def took(self, batch: Sequence[Job], seconds: float) -> None:
        units = sum(self.units(job) for job in batch)
        if units > 0:
            self.seconds_per_unit = seconds / units
