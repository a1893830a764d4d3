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
of those months alone. The row of an open deployment needs every bin since the deployment
started: it is recomputed with the stream once COVERAGE_OPEN_DEPLOYMENT_SECONDS have passed
since the stream was last computed whole (0: always). Anything else is computed whole.

Work per round is bounded: instruments are processed one by one, moved streams first, then
new ones, then the longest unrefreshed, until the deadline the caller gives; the work is
committed at least every second, so an interrupted round keeps most of what it finished.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, tuple_
from sqlalchemy.orm import Session

from ooi_status.availability.engine import Bin, Deployment, Rules
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
from ooi_status.model.monitor import Coverage, CoverageStream
from ooi_status.monitor.bulk import insert_rows
from ooi_status.sources.base import BinRow, DeploymentRow, DeploymentSource, StreamRow, StreamSource
from ooi_status.times import datetime_to_ntp, ntp_to_datetime, unix_ms_to_ntp

log = logging.getLogger(__name__)

_ALL_TIME = (-1e12, 1e12)  # NTP seconds before and after any real bin
#: Longest a run of upkeep work goes uncommitted.
COMMIT_SECONDS = 1.0
_C = Coverage.__table__
_S = CoverageStream.__table__
#: What a stream's coverage was computed from (a coverage_stream row, read as a plain row).
_STATE_COLUMNS = (
    _S.c.id, _S.c.refdes, _S.c.method, _S.c.stream, _S.c.count, _S.c.first, _S.c.last,
    _S.c.tail_points, _S.c.deployments, _S.c.computed_at, _S.c.refreshed_at,
)  # fmt: skip
#: Columns written (ooi_status.monitor.bulk): a coverage_stream row, a coverage row.
_STATE_WRITTEN = tuple(column.name for column in _STATE_COLUMNS[1:])
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


def plan(
    session: Session, sources: CoverageSources, now: datetime, settings: Settings, everything: bool = False
) -> tuple[list[Job], list[int]]:
    """The instruments with streams due, most urgent first, and the ids of coverage_stream rows
    whose stream is gone from the stream metadata. ``everything``: every stream (a full build)."""
    prefix = settings.AVAILABILITY_EXCLUDED_METHOD_PREFIX
    rows = [row for row in sources.streams.streams() if not _excluded(row.method, prefix)]
    states = {(s.refdes, s.method, s.stream): s for s in session.execute(select(*_STATE_COLUMNS))}
    refresh_before = now - timedelta(seconds=settings.COVERAGE_REFRESH_SECONDS)
    jobs: dict[str, Job] = {}
    seen = set()
    for row in rows:
        refdes = refdes_of(row)
        key = (refdes, row.method, row.stream)
        seen.add(key)
        job = jobs.get(refdes)
        if job is None:
            job = jobs[refdes] = Job(refdes, [], [])
        job.rows.append(row)
        state = states.get(key)
        rank = _urgency(row, state, refresh_before, everything)
        if rank is not None:
            job.due.append((row, state))
            job.rank = max(job.rank, rank)
    gone = [state.id for key, state in states.items() if key not in seen]
    due = sorted((job for job in jobs.values() if job.due), key=lambda job: job.rank, reverse=True)
    return due, gone


def _urgency(
    row: StreamRow, state: Any, refresh_before: datetime, everything: bool
) -> tuple[int, float] | None:
    """How urgent a stream is (higher first), or None when its coverage is up to date."""
    if everything:
        return (1, 0.0)
    if state is None:
        return (2, 0.0)
    if (state.count, state.first, state.last) != (row.count, row.first, row.last):
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


def update_instrument(
    session: Session,
    sources: CoverageSources,
    job: Job,
    now: datetime,
    settings: Settings,
    whole: bool = False,
) -> tuple[int, int]:
    """Recompute the due streams of one instrument in the caller's transaction; (streams, whole)."""
    deployment_rows = sources.deployments.deployments(job.refdes)
    deployed = engine_deployments(deployment_rows)
    marks = fingerprint(deployment_rows)
    now_ntp = datetime_to_ntp(now)
    firsts = [row.first for row in job.rows if row.first is not None]
    periods = instrument_periods(deployed, min(firsts) if firsts else None, now_ntp)
    # An open deployment's row needs every bin since it started: recomputed whole, now and then.
    lagging = None
    if any(d.stop is None or d.stop > now_ntp for d in deployed):
        lagging = now - timedelta(seconds=settings.COVERAGE_OPEN_DEPLOYMENT_SECONDS)
    # A stream not computed whole for COVERAGE_REFRESH_SECONDS is due for exactly that.
    stale = now - timedelta(seconds=settings.COVERAGE_REFRESH_SECONDS)
    plans = [
        _stream_plan(row, state, marks, whole or (state is not None and state.refreshed_at < stale), lagging)
        for row, state in job.due
    ]
    bins = _read_bins(sources.streams, job.refdes, plans)
    rules = Rules.from_settings(settings)
    results = []
    for stream_plan in plans:
        key = (stream_plan.row.method, stream_plan.row.stream)
        stream_bins = bins.get(key, [])
        if not stream_plan.whole:
            stream_plan = _check_tail(stream_plan, stream_bins)
            if stream_plan.whole:
                stream_bins = _read_bins(sources.streams, job.refdes, [stream_plan]).get(key, [])
        chosen = periods if stream_plan.whole else [p for p in periods if _recomputed(p, stream_plan.cutoff)]
        coverage = stream_coverage(
            StreamBins(Bin(b.first, b.last, b.count) for b in stream_bins),
            deployed,
            chosen,
            now_ntp,
            None,
            rules,
        )
        results.append((stream_plan, chosen, coverage, _tail_points(stream_plan.row, stream_bins)))
    _write(session, job.refdes, results, marks, now)
    return len(results), sum(1 for stream_plan, *_ in results if stream_plan.whole)


def _stream_plan(row: StreamRow, state: Any, marks: str, whole: bool, lagging: datetime | None) -> _Plan:
    if (
        whole
        or state is None
        or state.deployments != marks
        or (lagging is not None and state.refreshed_at < lagging)
        or state.last is None
        or row.last is None
        or row.first != state.first
        or (row.count or 0) < (state.count or 0)
        or row.last < state.last
    ):
        return _Plan(row, state, True)
    since = min(state.last, datetime_to_ntp(state.computed_at))
    return _Plan(row, state, False, read_from=month_start(since), cutoff=since)


def _check_tail(stream_plan: _Plan, bins: Sequence[BinRow]) -> _Plan:
    """The incremental plan when the stream only gained points after its previous last one, else whole."""
    row, state = stream_plan.row, stream_plan.state
    tail = [b for b in bins if b.last > state.last]
    gained = (row.count or 0) - (state.count or 0)
    if gained != sum(b.count for b in tail) - state.tail_points:
        return _Plan(row, state, True)
    cutoff = min(min((b.first for b in tail), default=math.inf), stream_plan.cutoff)
    if cutoff < stream_plan.read_from:
        return _Plan(row, state, True)
    return _Plan(row, state, False, stream_plan.read_from, cutoff)


def _recomputed(period: Period, cutoff: float) -> bool:
    """Months ending after the cutoff; no deployment (an incremental plan keeps them)."""
    return period.kind == MONTH and period.stop is not None and period.stop > cutoff


def _read_bins(
    source: StreamSource, refdes: str, plans: Iterable[_Plan]
) -> dict[tuple[str, str], Sequence[BinRow]]:
    """One read for the streams computed whole, one for the others from their earliest month."""
    by_start: dict[float, list[_Plan]] = defaultdict(list)
    partial = [p for p in plans if not p.whole]
    for p in plans:
        if p.whole:
            by_start[_ALL_TIME[0]].append(p)
    if partial:
        by_start[min(p.read_from for p in partial)].extend(partial)
    bins: dict[tuple[str, str], Sequence[BinRow]] = {}
    for start, group in by_start.items():
        keys = [(p.row.method, p.row.stream) for p in group]
        bins.update(source.bins(refdes, keys, start, _ALL_TIME[1]))
    return bins


def _tail_points(row: StreamRow, bins: Sequence[BinRow]) -> int:
    """Points of the bins ending after the stream's last point (normally none)."""
    if row.last is None:
        return 0
    return sum(b.count for b in bins if b.last > row.last)


def _write(
    session: Session,
    refdes: str,
    results: Sequence[tuple[_Plan, Sequence[Period], Sequence[PeriodCoverage], int]],
    marks: str,
    now: datetime,
) -> None:
    """Replace the recomputed rows and the streams' coverage_stream rows."""
    for stream_plan, chosen, _, _ in results:
        row = stream_plan.row
        where = and_(_C.c.refdes == refdes, _C.c.method == row.method, _C.c.stream == row.stream)
        if not stream_plan.whole:
            labels = [(p.kind, p.label) for p in chosen]
            if not labels:
                continue
            where = and_(where, tuple_(_C.c.kind, _C.c.period).in_(labels))
        session.execute(delete(_C).where(where))
    insert_rows(session, _C, _COVERAGE_COLUMNS, [
        _coverage_row(refdes, stream_plan.row, item)
        for stream_plan, _, coverage, _ in results for item in coverage
    ])  # fmt: skip
    keys = [(refdes, p.row.method, p.row.stream) for p, *_ in results]
    session.execute(delete(_S).where(tuple_(_S.c.refdes, _S.c.method, _S.c.stream).in_(keys)))
    insert_rows(session, _S, _STATE_WRITTEN, [
        {
            "refdes": refdes, "method": p.row.method, "stream": p.row.stream, "count": p.row.count,
            "first": p.row.first, "last": p.row.last, "tail_points": tail, "deployments": marks,
            "computed_at": now, "refreshed_at": now if p.whole else p.state.refreshed_at,
        }
        for p, _, _, tail in results
    ])  # fmt: skip


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
) -> UpkeepReport:
    """Recompute due instruments until ``deadline`` (time.monotonic()).

    The plan and every instrument after it are written in one transaction, committed at
    least every COMMIT_SECONDS: a commit per instrument would cost more than most
    instruments' work, and an interruption loses at most that much (redone next round)."""
    started = time.monotonic()
    report = UpkeepReport()
    with sessions() as session:
        session.begin()
        jobs, gone = plan(session, sources, now, settings, everything)
        report.removed = remove_gone(session, gone)
        committed = time.monotonic()
        for done, job in enumerate(jobs):
            if time.monotonic() >= deadline:
                report.remaining = len(jobs) - done
                break
            streams, whole = update_instrument(session, sources, job, now, settings, whole=everything)
            report.instruments += 1
            report.streams += streams
            report.whole += whole
            if time.monotonic() - committed >= COMMIT_SECONDS:
                session.commit()
                session.begin()
                committed = time.monotonic()
            if progress is not None:
                progress(done + 1, len(jobs))
        session.commit()
    report.duration = time.monotonic() - started
    return report
