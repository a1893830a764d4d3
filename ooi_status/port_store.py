"""Port counts in the monitor schema: storing, summarizing for the diagnosis, series, retention.

Written by the monitor's consumer (``store_counts``, ``record_rejections``) and its retention
passes (``roll_up``, ``prune``); read by the API (``port_summaries``, ``port_series``,
``rejection_counts``). Everything is set-based: a batch of messages is two statements, a
summary of the whole fleet two queries.

Retention keeps every byte counted: a raw count older than PORT_COUNT_RAW_DAYS (from the start
of its hour) is added to its hour's sum and deleted in one transaction, so a series that reads
both tables never counts a byte twice nor misses one, even between two batches of a pass.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ooi_status.db import is_postgres, rowcount
from ooi_status.diagnosis import PortSummary
from ooi_status.model.monitor import PortAgent, PortCount, PortCountHourly, PortStatsRejection
from ooi_status.monitor.bulk import unnest_columns
from ooi_status.port_counts import PortCountRecord

_PC, _PH, _PA, _PR = (m.__table__ for m in (PortCount, PortCountHourly, PortAgent, PortStatsRejection))
HOUR = timedelta(hours=1)
#: Above this many instruments a summary reads every port agent rather than a long IN list.
_IN_LIST_MAX = 1000


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One stored count (``time`` its end) or one hourly sum (``time`` the start of its hour)."""

    time: datetime
    bytes: int
    seconds: float

    @property
    def rate(self) -> float:
        """Bytes per second, two decimals; 0 for a count of no duration."""
        return round(self.bytes / self.seconds, 2) if self.seconds > 0 else 0.0


def _insert(session: Session, table: Any) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _latest(session: Session, current: Any, new: Any) -> ColumnElement[Any]:
    """The later of two times, either possibly NULL (GREATEST skips NULLs; SQLite's MAX does not)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.greatest(current, new)
    return func.max(func.coalesce(current, new), func.coalesce(new, current))


def _earliest(session: Session, current: Any, new: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.least(current, new)
    return func.min(current, new)


def store_counts(session: Session, records: Sequence[PortCountRecord]) -> None:
    """Insert the counts not stored yet and bring the instruments' port-agent summaries up to date.

    Idempotent: a count already stored (same refdes and end_time) is left as it is, and the
    summaries only move to earlier first times and later last times, so a batch delivered
    again changes nothing.
    """
    if not records:
        return
    rows = list({(r.refdes, r.end_time): r.as_row() for r in reversed(records)}.values())
    agents = _agent_rows(records)
    if is_postgres(session):  # one statement each, over arrays (ooi_status.monitor.bulk)
        session.execute(*_unnest_insert(_PC, rows, "ON CONFLICT (refdes, end_time) DO NOTHING"))
        session.execute(*_unnest_insert(_PA, agents, _AGENT_CONFLICT))
        return
    stmt = _insert(session, _PC).on_conflict_do_nothing(index_elements=["refdes", "end_time"])
    session.execute(stmt, rows)
    session.execute(_agent_upsert(session), agents)


#: A port agent's summary only moves to earlier first times and later last times (NULLs skipped).
_AGENT_CONFLICT = (
    "ON CONFLICT (refdes) DO UPDATE SET "
    "first_time = LEAST(port_agent.first_time, excluded.first_time), "
    "last_time = GREATEST(port_agent.last_time, excluded.last_time), "
    "last_nonzero_time = GREATEST(port_agent.last_nonzero_time, excluded.last_nonzero_time)"
)


def _unnest_insert(table: Any, rows: list[dict[str, Any]], conflict: str) -> tuple[Any, dict[str, Any]]:
    names = list(rows[0])
    source, params = unnest_columns(table, names, [[row[name] for row in rows] for name in names])
    return text(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM {source} {conflict}"), params


def _agent_rows(records: Iterable[PortCountRecord]) -> list[dict[str, Any]]:
    agents: dict[str, dict[str, Any]] = {}
    for r in records:
        start = r.end_time - timedelta(seconds=r.elapsed)
        nonzero = r.end_time if r.bytes_in > 0 else None
        row = agents.get(r.refdes)
        if row is None:
            agents[r.refdes] = {"refdes": r.refdes, "first_time": start, "last_time": r.end_time,
                                "last_nonzero_time": nonzero}  # fmt: skip
            continue
        row["first_time"] = min(row["first_time"], start)
        row["last_time"] = max(row["last_time"], r.end_time)
        if nonzero is not None and (row["last_nonzero_time"] is None or nonzero > row["last_nonzero_time"]):
            row["last_nonzero_time"] = nonzero
    return list(agents.values())


def _agent_upsert(session: Session) -> Any:
    stmt = _insert(session, _PA)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["refdes"],
        set_={
            "first_time": _earliest(session, _PA.c.first_time, new.first_time),
            "last_time": _latest(session, _PA.c.last_time, new.last_time),
            "last_nonzero_time": _latest(session, _PA.c.last_nonzero_time, new.last_nonzero_time),
        },
    )


def record_rejections(session: Session, counts: dict[str, int], now: datetime) -> None:
    """Add refused messages to the per-reason totals (in the caller's transaction)."""
    if not counts:
        return
    stmt = _insert(session, _PR)
    stmt = stmt.on_conflict_do_update(
        index_elements=["reason"], set_={"count": _PR.c["count"] + stmt.excluded["count"], "last_at": now}
    )
    session.execute(stmt, [{"reason": r, "count": n, "last_at": now} for r, n in sorted(counts.items())])


def rejection_counts(session: Session) -> dict[str, int]:
    return {reason: count for reason, count in session.execute(select(_PR.c.reason, _PR.c["count"])).all()}


def port_summaries(
    session: Session, refdes: Collection[str] | None, now: datetime, window: float
) -> dict[str, PortSummary]:
    """The port summary of each instrument named (None: all) that has port statistics."""
    named = refdes is not None and len(refdes) <= _IN_LIST_MAX
    if refdes is not None and not refdes:
        return {}
    sums = select(_PC.c.refdes, func.sum(_PC.c.bytes_in), func.sum(_PC.c.elapsed)).where(
        _PC.c.end_time > now - timedelta(seconds=window), _PC.c.end_time <= now
    )
    agents = select(_PA.c.refdes, _PA.c.first_time, _PA.c.last_nonzero_time)
    if named:
        assert refdes is not None
        sums, agents = sums.where(_PC.c.refdes.in_(refdes)), agents.where(_PA.c.refdes.in_(refdes))
    window_sums = {
        name: (int(b or 0), float(s or 0)) for name, b, s in session.execute(sums.group_by(_PC.c.refdes))
    }
    wanted = None if refdes is None else set(refdes)
    found = {}
    for name, first_time, last_nonzero in session.execute(agents):
        if wanted is None or name in wanted:
            window_bytes, window_seconds = window_sums.get(name, (0, 0.0))
            found[name] = PortSummary(window_bytes, window_seconds, last_nonzero, first_time)
    return found


def port_series(session: Session, refdes: str, start: datetime, stop: datetime) -> list[SeriesPoint]:
    """Counts of one instrument in [start, stop): raw ones and hourly sums, by time."""
    raw = session.execute(
        select(_PC.c.end_time, _PC.c.bytes_in, _PC.c.elapsed).where(
            _PC.c.refdes == refdes, _PC.c.end_time >= start, _PC.c.end_time < stop
        )
    ).all()
    hourly = session.execute(
        select(_PH.c.hour, _PH.c.bytes_in, _PH.c.seconds).where(
            _PH.c.refdes == refdes, _PH.c.hour >= start, _PH.c.hour < stop
        )
    ).all()
    points = [SeriesPoint(time, int(b), float(s)) for time, b, s in [*raw, *hourly]]
    return sorted(points, key=lambda point: point.time)


def raw_cutoff(now: datetime, raw_days: int) -> datetime:
    """Raw counts ending before this (a whole hour) are rolled up."""
    moment = now - timedelta(days=raw_days)
    return moment.replace(minute=0, second=0, microsecond=0)


def roll_up(session: Session, now: datetime, raw_days: int, batch: int) -> int:
    """Move up to ``batch`` raw counts older than the cutoff into hourly sums; how many moved."""
    rows = session.execute(
        select(_PC.c.id, _PC.c.refdes, _PC.c.end_time, _PC.c.bytes_in, _PC.c.elapsed)
        .where(_PC.c.end_time < raw_cutoff(now, raw_days))
        .order_by(_PC.c.end_time)
        .limit(batch)
    ).all()
    if not rows:
        return 0
    sums: dict[tuple[str, datetime], dict[str, Any]] = {}
    for _id, refdes, end_time, bytes_in, elapsed in rows:
        hour = end_time.replace(minute=0, second=0, microsecond=0)
        item = sums.setdefault((refdes, hour), {"refdes": refdes, "hour": hour, "bytes_in": 0,
                                                "seconds": 0.0, "counts": 0})  # fmt: skip
        item["bytes_in"] += bytes_in
        item["seconds"] += elapsed
        item["counts"] += 1
    stmt = _insert(session, _PH)
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["refdes", "hour"],
        set_={
            "bytes_in": _PH.c.bytes_in + new.bytes_in,
            "seconds": _PH.c.seconds + new.seconds,
            "counts": _PH.c.counts + new.counts,
        },
    )
    session.execute(stmt, list(sums.values()))
    session.execute(
        delete(_PC).where(_PC.c.id.in_(bindparam("ids", expanding=True))), {"ids": [r[0] for r in rows]}
    )
    return len(rows)


def prune(session: Session, now: datetime, hourly_days: int, batch: int) -> int:
    """Delete up to ``batch`` hourly sums older than ``hourly_days``, and port agents silent as long."""
    cutoff = now - timedelta(days=hourly_days)
    oldest = select(_PH.c.refdes, _PH.c.hour).where(_PH.c.hour < cutoff).limit(batch)
    pruned = rowcount(session.execute(delete(_PH).where(tuple_(_PH.c.refdes, _PH.c.hour).in_(oldest))))
    gone = select(_PA.c.refdes).where(_PA.c.last_time < cutoff).limit(batch)
    session.execute(delete(_PA).where(_PA.c.refdes.in_(gone)))
    return pruned or 0
