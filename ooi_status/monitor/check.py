"""One check round: every active stream's status, set-based (spec/MONITOR.md).

A round reads the open deployments and the stream metadata of the monitored methods (two
queries to the metadata source), then the monitor schema in three queries (instruments,
expected streams, deployed streams), whatever the size of the fleet. It creates the rows
it sees for the first time, computes every status with the pure rules of ooi_status.status,
and writes in bulk: status changes, their history rows and outbox events, the per-stream
bookkeeping of the streams whose metadata moved, and the heartbeat.

Transactions: run_round writes in the caller's session and never commits. The caller
commits once per round, so a round lands whole or not at all: a process that dies mid-round
leaves the previous state, and the next round sees the same changes again (no change is
lost, none is recorded twice).

Decisions:
- A stream is active when its method is monitored and its instrument has an open
  deployment whose asset has a UID (sources.base.DeploymentSource.open_deployments).
- The rollup of an event is the instrument's status over all its deployed streams after
  the round's changes, as /instrument shows it.
- A poison row (an interval or count the rules refuse, a last-data time that is not a
  finite number) is logged once per process and skipped; the rest of the round goes on.
- Bookkeeping (last data time, count, rate window) is written only for the streams whose
  values differ from the stored ones: a steady fleet costs no writes but the heartbeat.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from ooi_status.config import Settings, defaults
from ooi_status.model.monitor import (
    EVENTS_SINK,
    PENDING,
    DeployedStream,
    ExpectedStream,
    PendingUpdate,
    ReferenceDesignator,
    StatusHistory,
)
from ooi_status.monitor.heartbeat import CHECK, write_heartbeat
from ooi_status.sources.base import DeploymentSource, OpenDeployment, StreamRow, StreamSource
from ooi_status.status import (
    Intervals,
    Overrides,
    RateWindow,
    Status,
    advance_rate_window,
    asset_status_event,
    change_notes,
    effective_intervals,
    rollup,
    rollup_reason,
    stream_status,
)
from ooi_status.times import datetime_to_unix_ms, ntp_to_datetime

log = logging.getLogger(__name__)

_RD = ReferenceDesignator.__table__
_ES = ExpectedStream.__table__
_DS = DeployedStream.__table__


@dataclass(frozen=True, slots=True)
class MonitorSource:
    """Where a round reads: stream metadata (PostgreSQL or Cassandra) and deployments."""

    streams: StreamSource
    deployments: DeploymentSource


@dataclass
class RoundReport:
    streams_checked: int = 0
    changes: int = 0
    events_queued: int = 0
    created_instruments: int = 0
    created_expected: int = 0
    created_streams: int = 0
    skipped: int = 0
    bookkeeping_written: int = 0
    duration: float = 0.0


@dataclass
class CheckMemory:
    """What a long-running monitor remembers between rounds: poison rows already logged."""

    logged: set[Any] = field(default_factory=set)

    def log_once(self, key: Any, message: str, *args: Any) -> None:
        if key not in self.logged:
            self.logged.add(key)
            log.warning(message, *args)


@dataclass(frozen=True, slots=True)
class ActiveStream:
    refdes: str
    deployment: OpenDeployment
    row: StreamRow


@dataclass(frozen=True, slots=True)
class Change:
    """One stream's status change, with what the event's notes are made from."""

    stream_id: int
    refdes: str
    asset_uid: str
    stream: str
    old: Status
    new: Status
    elapsed: timedelta | None
    intervals: Intervals
    measured_rate: float | None


def read_active(source: MonitorSource, now: datetime, methods: Iterable[str]) -> list[ActiveStream]:
    """The active streams: monitored method, open deployment with an asset UID (two reads)."""
    open_now = source.deployments.open_deployments(datetime_to_unix_ms(now))
    active = []
    for row in source.streams.streams(methods=sorted(set(methods))):
        refdes = f"{row.subsite}-{row.node}-{row.sensor}"
        deployment = open_now.get(refdes)
        if deployment is not None:
            active.append(ActiveStream(refdes, deployment, row))
    return active


def run_round(
    source: MonitorSource,
    session: Session,
    now: datetime,
    settings: Settings | None = None,
    memory: CheckMemory | None = None,
) -> RoundReport:
    """Check every active stream at ``now``; writes in ``session``, the caller commits."""
    started = time.monotonic()
    settings = settings or Settings(defaults())
    memory = memory or CheckMemory()
    report = RoundReport()
    active = read_active(source, now, settings.MONITORED_METHODS)
    state = MonitorState.load(session, active, now, report)
    changes, bookkeeping = evaluate(active, state, now, settings, memory, report)
    write_changes(session, state, changes, now, settings, report)
    if bookkeeping:
        session.execute(_bookkeeping_statement(), bookkeeping)
    report.bookkeeping_written = len(bookkeeping)
    report.streams_checked = len(active) - report.skipped
    report.duration = time.monotonic() - started
    write_heartbeat(
        session, CHECK, now, report.duration, ok=True, streams_checked=report.streams_checked,
        changes=report.changes,
    )  # fmt: skip
    return report


# --- the monitor schema: read once, create what is new ------------------------------------------


@dataclass
class MonitorState:
    refdes_ids: dict[str, int]
    expected: dict[tuple[str, str], Row[Any]]  # (name, method) → expected_stream row
    deployed: dict[tuple[int, int], Row[Any]]  # (refdes id, expected id) → deployed_stream row
    statuses: dict[int, str]  # deployed stream id → status, after this round's changes
    by_instrument: dict[int, list[int]]  # refdes id → its deployed stream ids

    @classmethod
    def load(
        cls, session: Session, active: Sequence[ActiveStream], now: datetime, report: RoundReport
    ) -> MonitorState:
        refdes_ids = _ensure_instruments(session, {a.refdes for a in active}, report)
        expected = _ensure_expected(session, {(a.row.stream, a.row.method) for a in active}, report)
        deployed = _ensure_deployed(session, active, refdes_ids, expected, report)
        statuses = {row.id: row.status for row in deployed.values()}
        by_instrument: dict[int, list[int]] = defaultdict(list)
        for (refdes_id, _), row in deployed.items():
            by_instrument[refdes_id].append(row.id)
        return cls(refdes_ids, expected, deployed, statuses, by_instrument)


def _ensure_instruments(session: Session, names: set[str], report: RoundReport) -> dict[str, int]:
    known = dict(session.execute(select(_RD.c.name, _RD.c.id)).all())
    new = sorted(names - known.keys())
    if new:
        session.execute(insert(_RD), [{"name": name} for name in new])
        known = dict(session.execute(select(_RD.c.name, _RD.c.id)).all())
        log.info("%d new instrument(s): %s", len(new), _sample(new))
    report.created_instruments = len(new)
    return known


def _expected_rows(session: Session) -> dict[tuple[str, str], Row[Any]]:
    query = select(
        _ES.c.id, _ES.c.name, _ES.c.method, _ES.c.expected_rate, _ES.c.warn_interval, _ES.c.fail_interval
    )
    return {(row.name, row.method): row for row in session.execute(query)}


def _ensure_expected(
    session: Session, keys: set[tuple[str, str]], report: RoundReport
) -> dict[tuple[str, str], Row[Any]]:
    known = _expected_rows(session)
    new = sorted(keys - known.keys())
    if new:
        rows = [
            {"name": name, "method": method, "expected_rate": 0.0, "warn_interval": 0, "fail_interval": 0}
            for name, method in new
        ]
        session.execute(insert(_ES), rows)
        known = _expected_rows(session)
        log.info(
            "%d new expected stream(s), not tracked until their intervals are set: %s",
            len(new),
            _sample(f"{method} {name}" for name, method in new),
        )
    report.created_expected = len(new)
    return known


def _deployed_rows(session: Session) -> dict[tuple[int, int], Row[Any]]:
    query = select(
        _DS.c.id, _DS.c.reference_designator_id, _DS.c.expected_stream_id, _DS.c.expected_rate,
        _DS.c.warn_interval, _DS.c.fail_interval, _DS.c.status, _DS.c.last_data_time, _DS.c.particle_count,
        _DS.c.rate_base_count, _DS.c.rate_base_time, _DS.c.measured_rate,
    )  # fmt: skip
    return {(row.reference_designator_id, row.expected_stream_id): row for row in session.execute(query)}


def _ensure_deployed(
    session: Session,
    active: Sequence[ActiveStream],
    refdes_ids: dict[str, int],
    expected: dict[tuple[str, str], Row[Any]],
    report: RoundReport,
) -> dict[tuple[int, int], Row[Any]]:
    known = _deployed_rows(session)
    keys = {(refdes_ids[a.refdes], expected[(a.row.stream, a.row.method)].id) for a in active}
    new = sorted(keys - known.keys())
    if new:
        rows = [
            {"reference_designator_id": r, "expected_stream_id": e, "status": Status.NOT_TRACKED.value}
            for r, e in new
        ]
        session.execute(insert(_DS), rows)
        known = _deployed_rows(session)
        log.info("%d new deployed stream(s)", len(new))
    report.created_streams = len(new)
    return known


def _sample(items: Iterable[str], most: int = 10) -> str:
    items = list(items)
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


# --- the rules over every active stream ---------------------------------------------------------


def evaluate(
    active: Sequence[ActiveStream],
    state: MonitorState,
    now: datetime,
    settings: Settings,
    memory: CheckMemory,
    report: RoundReport,
) -> tuple[list[Change], list[dict[str, Any]]]:
    """Status of every active stream: (changes, bookkeeping rows to write)."""
    changes: list[Change] = []
    bookkeeping: list[dict[str, Any]] = []
    expected_intervals: dict[int, Intervals] = {}
    for item in active:
        expected = state.expected[(item.row.stream, item.row.method)]
        stored = state.deployed[(state.refdes_ids[item.refdes], expected.id)]
        try:
            intervals = _intervals(expected, stored, expected_intervals)
            last_data, window = _observation(item.row, stored, now, settings.RATE_WINDOW)
            status = stream_status(last_data, intervals, now, window.rate, settings.RATE_DEGRADED_FRACTION)
        except (ValueError, OverflowError, TypeError) as exc:
            memory.log_once(
                ("poison", stored.id, str(exc)),
                "skipping %s %s %s (deployed stream %d): %s",
                item.refdes, item.row.method, item.row.stream, stored.id, exc,
            )  # fmt: skip
            report.skipped += 1
            continue
        if _moved(stored, last_data, item.row.count, window):
            bookkeeping.append(_bookkeeping_row(stored.id, last_data, item.row.count, window, now))
        if status != stored.status:
            elapsed = None if last_data is None else now - last_data
            changes.append(
                Change(stored.id, item.refdes, item.deployment.asset_uid, item.row.stream,
                       Status(stored.status), status, elapsed, intervals, window.rate)
            )  # fmt: skip
            state.statuses[stored.id] = status.value
        log.debug("%s %s %s: %s", item.refdes, item.row.method, item.row.stream, status)
    return changes, bookkeeping


def _intervals(expected: Row[Any], stored: Row[Any], cache: dict[int, Intervals]) -> Intervals:
    defaults_ = cache.get(expected.id)
    if defaults_ is None:
        defaults_ = Intervals(expected.expected_rate, expected.warn_interval, expected.fail_interval)
        cache[expected.id] = defaults_
    overrides = Overrides(stored.expected_rate, stored.warn_interval, stored.fail_interval)
    return effective_intervals(defaults_, overrides)


def _observation(
    row: StreamRow, stored: Row[Any], now: datetime, rate_window: float
) -> tuple[datetime | None, RateWindow]:
    """The stream's last data time (None: no data point) and its rate window after this round."""
    if row.last is None:
        last_data = None
    elif not math.isfinite(row.last):
        raise ValueError(f"stream_metadata.last is not a finite number: {row.last!r}")
    else:
        last_data = ntp_to_datetime(row.last)
    count = row.count
    if count is not None and count < 0:
        raise ValueError(f"stream_metadata.count is negative: {count}")
    window = RateWindow(stored.rate_base_count, stored.rate_base_time, stored.measured_rate)
    return last_data, advance_rate_window(window, count, now, rate_window)


def _moved(stored: Row[Any], last_data: datetime | None, count: int | None, window: RateWindow) -> bool:
    before = (stored.last_data_time, stored.particle_count, stored.rate_base_count, stored.rate_base_time)
    return (
        before != (last_data, count, window.base_count, window.base_time)
        or stored.measured_rate != window.rate
    )


def _bookkeeping_row(
    stream_id: int, last_data: datetime | None, count: int | None, window: RateWindow, now: datetime
) -> dict[str, Any]:
    return {
        "b_id": stream_id,
        "b_last": last_data,
        "b_count": count,
        "b_checked": now,
        "b_base_count": window.base_count,
        "b_base_time": window.base_time,
        "b_rate": window.rate,
    }


def _bookkeeping_statement() -> Any:
    return (
        update(_DS)
        .where(_DS.c.id == bindparam("b_id"))
        .values(
            last_data_time=bindparam("b_last"),
            particle_count=bindparam("b_count"),
            checked_at=bindparam("b_checked"),
            rate_base_count=bindparam("b_base_count"),
            rate_base_time=bindparam("b_base_time"),
            measured_rate=bindparam("b_rate"),
        )
    )


# --- what a change writes -----------------------------------------------------------------------


def write_changes(
    session: Session,
    state: MonitorState,
    changes: Sequence[Change],
    now: datetime,
    settings: Settings,
    report: RoundReport,
) -> None:
    """Status, history and outbox rows of every change, in bulk, in the round's transaction."""
    report.changes = len(changes)
    if not changes:
        return
    session.execute(
        update(_DS)
        .where(_DS.c.id == bindparam("c_id"))
        .values(status=bindparam("c_status"), status_time=now),
        [{"c_id": c.stream_id, "c_status": c.new.value} for c in changes],
    )
    session.execute(
        insert(StatusHistory.__table__),
        [
            {"deployed_stream_id": c.stream_id, "old_status": c.old.value, "new_status": c.new.value,
             "changed_at": now, "elapsed": None if c.elapsed is None else c.elapsed.total_seconds()}
            for c in changes
        ],
    )  # fmt: skip
    events = list(_events(state, changes, now, settings))
    session.execute(insert(PendingUpdate.__table__), events)
    report.events_queued = len(events)
    log.debug("%d status change(s), %d event(s) queued", len(changes), len(events))


def _events(
    state: MonitorState, changes: Sequence[Change], now: datetime, settings: Settings
) -> Iterable[dict[str, Any]]:
    sinks = [EVENTS_SINK, *settings.WEBHOOK_URLS]
    rollups: dict[str, tuple[Status, str]] = {}
    for change in changes:
        if change.refdes not in rollups:
            ids = state.by_instrument[state.refdes_ids[change.refdes]]
            statuses = [state.statuses[i] for i in ids]
            rollups[change.refdes] = (rollup(statuses), rollup_reason(statuses))
        overall, reason = rollups[change.refdes]
        notes = change_notes(
            change.old, change.new, change.elapsed, change.intervals,
            change.measured_rate, settings.RATE_DEGRADED_FRACTION,
        )  # fmt: skip
        message = asset_status_event(
            asset_uid=change.asset_uid, stream=change.stream, rollup_status=overall,
            reason=reason, notes=notes, event_time=now,
        )  # fmt: skip
        for sink in sinks:
            yield {
                "deployed_stream_id": change.stream_id, "asset_uid": change.asset_uid, "sink": sink,
                "message": message, "state": PENDING, "error_count": 0, "attempts": 0,
                "created_at": now, "next_attempt_at": now,
            }  # fmt: skip
