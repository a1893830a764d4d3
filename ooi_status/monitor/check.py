"""One check round: every active stream's status, set-based (spec/MONITOR.md).

A round reads the open deployments and the stream metadata of the monitored methods (two
queries to the metadata source), then the monitor schema in three queries (instruments,
expected streams, deployed streams), whatever the size of the fleet. It creates the rows
it sees for the first time, computes every status with the pure rules of ooi_status.status,
and writes in bulk (ooi_status.monitor.bulk): status changes, their history rows and outbox
events, the per-stream bookkeeping of the streams whose metadata moved, and the heartbeat. A
round that wrote anything the API lists (a new row, a change, bookkeeping) moves the data
revision (ooi_status.revision) in the same transaction; a round that changed nothing does not.

Transactions: run_round writes in the caller's session and never commits. The caller
commits once per round, so a round lands whole or not at all: a process that dies mid-round
leaves the previous state, and the next round sees the same changes again (no change is
lost, none is recorded twice).

Decisions:
- A stream is active when its method is monitored and its instrument has an open
  deployment whose asset has a UID (sources.base.DeploymentSource.open_deployments).
- A deployed stream seen for the first time is inserted with the status and bookkeeping
  of this round already computed; its previous status counts as notTracked, so a real first
  status is a change with its history row and event.
- The rollup of an event is the instrument's status over all its deployed streams after
  the round's changes, as /instrument shows it.
- A poison row (an interval the rules refuse, a count below 0, a last-data time beyond any
  date) is logged once per process and skipped; the rest of the round goes on.
- Bookkeeping (last data time, count, rate window) is written only for the streams whose
  values differ from the stored ones: a steady fleet costs no writes but the heartbeat.

The loop over the streams is the one place where the cost per stream matters (12,000 to
100,000 of them every minute): it works on tuples with names (rows read by the names of their
fields, ooi_status.monitor.state) and caches the effective intervals of each distinct
(expected stream, overrides) pair. The bulk writes take column names; their types are the
model's (ooi_status.monitor.bulk).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.config import Settings, defaults
from ooi_status.model.monitor import (
    EVENTS_SINK,
    PENDING,
    DeployedStream,
    PendingUpdate,
    StatusHistory,
)
from ooi_status.monitor.bulk import insert_rows, update_by_id
from ooi_status.monitor.heartbeat import CHECK, write_heartbeat
from ooi_status.monitor.marks import ACKNOWLEDGEMENT, reenable_due
from ooi_status.monitor.state import FIRST_SEEN, DeployedRow, ExpectedRow, MonitorState
from ooi_status.sources.base import DeploymentSource, StreamSource
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

_DS = DeployedStream.__table__
_HISTORY = StatusHistory.__table__
_OUTBOX = PendingUpdate.__table__
#: Statuses an operator can acknowledge; any other status clears an acknowledgement.
_ACKNOWLEDGEABLE = (Status.FAILED.value, Status.DEGRADED.value)


class Bookkeeping(NamedTuple):
    """A stream's bookkeeping as a round computes it (columns of deployed_stream, by name)."""

    last_data_time: datetime | None
    particle_count: int | None
    rate_base_count: int | None
    rate_base_time: datetime | None
    measured_rate: float | None


_NO_BOOKKEEPING = Bookkeeping(None, None, None, None, None)
#: Columns of a deployed stream inserted by a round (the rows of _new_row).
_NEW_STREAM = (
    "reference_designator_id", "expected_stream_id", "status", "status_time", "checked_at",
    *Bookkeeping._fields,
)  # fmt: skip
#: Columns of the round's history rows and outbox events (the rows of _write_changes, _events).
_HISTORY_COLUMNS = ("deployed_stream_id", "old_status", "new_status", "changed_at", "elapsed", "note")
_OUTBOX_COLUMNS = (
    "deployed_stream_id", "asset_uid", "sink", "message", "state", "error_count", "attempts", "created_at",
    "next_attempt_at",
)  # fmt: skip


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


class ActiveStream(NamedTuple):
    refdes: str
    asset_uid: str
    method: str
    stream: str
    points: int | None
    last: float | None


class Change(NamedTuple):
    """One stream's status change, with what the event's notes are made from."""

    key: tuple[int, int]  # (reference designator id, expected stream id)
    stream_id: int | None  # None: inserted by this round, id known after the insert
    refdes: str
    asset_uid: str
    stream: str
    old: str
    new: Status
    elapsed: timedelta | None
    intervals: Intervals
    measured_rate: float | None


def read_active(source: MonitorSource, now: datetime, methods: Iterable[str]) -> list[ActiveStream]:
    """The active streams: monitored method, open deployment with an asset UID (two reads)."""
    open_now = source.deployments.open_deployments(datetime_to_unix_ms(now))
    uids = {refdes: deployment.asset_uid for refdes, deployment in open_now.items()}
    active = []
    for row in source.streams.streams(methods=sorted(set(methods))):
        refdes = f"{row.subsite}-{row.node}-{row.sensor}"
        uid = uids.get(refdes)
        if uid is not None:
            active.append(ActiveStream(refdes, uid, row.method, row.stream, row.points, row.last))
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
    report = RoundReport()
    active = read_active(source, now, settings.MONITORED_METHODS)
    reenabled = reenable_due(session, now)
    state = MonitorState.load(session, {a.refdes for a in active}, {(a.stream, a.method) for a in active})
    report.created_instruments, report.created_expected = state.created_instruments, state.created_expected
    outcome = evaluate(active, state, now, settings, memory or CheckMemory(), report)
    outcome.reenabled = reenabled
    write_round(session, state, outcome, now, settings, report)
    report.streams_checked = len(active) - report.skipped
    report.duration = time.monotonic() - started
    write_heartbeat(
        session, CHECK, now, report.duration, ok=True, streams_checked=report.streams_checked,
        changes=report.changes,
    )  # fmt: skip
    return report


# --- the rules over every active stream ---------------------------------------------------------


@dataclass
class Outcome:
    changes: list[Change] = field(default_factory=list)
    bookkeeping: list[tuple[int, *tuple[Any, ...]]] = field(default_factory=list)  # (id, *Bookkeeping)
    new_rows: list[dict[str, Any]] = field(default_factory=list)
    reenabled: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (status, note)


def evaluate(
    active: Sequence[ActiveStream],
    state: MonitorState,
    now: datetime,
    settings: Settings,
    memory: CheckMemory,
    report: RoundReport,
) -> Outcome:
    """Status of every active stream: its change, its bookkeeping, or its new row."""
    outcome = Outcome()
    window_seconds, fraction = settings.RATE_WINDOW, settings.RATE_DEGRADED_FRACTION
    refdes_ids, expected, deployed = state.refdes_ids, state.expected, state.deployed
    intervals_of: dict[tuple[Any, ...], Intervals] = {}
    for item in active:
        exp = expected[(item.stream, item.method)]
        key = (refdes_ids[item.refdes], exp.id)
        stored = deployed.get(key, FIRST_SEEN)
        points = item.points
        try:
            intervals_key = (exp.id, stored.expected_rate, stored.warn_interval, stored.fail_interval)
            intervals = intervals_of.get(intervals_key)
            if intervals is None:
                intervals = intervals_of[intervals_key] = _intervals(exp, stored)
            last_data = None if item.last is None else ntp_to_datetime(item.last)
            if points is not None and points < 0:
                raise ValueError(f"stream_metadata.count is negative: {points}")
        except (ValueError, OverflowError, TypeError) as exc:
            memory.log_once(
                ("poison", key, str(exc)), "skipping %s %s %s: %s", item.refdes, item.method, item.stream, exc
            )
            report.skipped += 1
            if stored.id is None:  # listed all the same, as not tracked, so that operators see it
                outcome.new_rows.append(_new_row(key, Status.NOT_TRACKED, _NO_BOOKKEEPING, now))
            continue
        b_count, b_time, rate = stored.rate_base_count, stored.rate_base_time, stored.measured_rate
        if points is not None and not _window_open(b_count, b_time, points, now, window_seconds):
            moved = advance_rate_window(RateWindow(b_count, b_time, rate), points, now, window_seconds)
            b_count, b_time, rate = moved.base_count, moved.base_time, moved.rate
        status = stream_status(last_data, intervals, now, rate, fraction)
        if status != stored.status:
            elapsed = None if last_data is None else now - last_data
            outcome.changes.append(
                Change(key=key, stream_id=stored.id, refdes=item.refdes, asset_uid=item.asset_uid,
                       stream=item.stream, old=stored.status, new=status, elapsed=elapsed,
                       intervals=intervals, measured_rate=rate)
            )  # fmt: skip
        if stored.id is not None and (last_data, points, b_count, b_time, rate) == (
            stored.last_data_time, stored.particle_count, stored.rate_base_count, stored.rate_base_time,
            stored.measured_rate,
        ):  # fmt: skip
            continue  # a steady stream: nothing to write
        values = Bookkeeping(
            last_data_time=last_data, particle_count=points, rate_base_count=b_count, rate_base_time=b_time,
            measured_rate=rate,
        )  # fmt: skip
        if stored.id is None:
            outcome.new_rows.append(_new_row(key, status, values, now))
        else:
            outcome.bookkeeping.append((stored.id, *values))
    return outcome


def _window_open(
    b_count: int | None, b_time: datetime | None, count: int, now: datetime, seconds: float
) -> bool:
    """The common case, checked inline: the rate window is open and stays so this round."""
    return (
        b_count is not None
        and b_time is not None
        and b_count <= count
        and b_time <= now
        and (now - b_time).total_seconds() < seconds
    )


def _intervals(exp: ExpectedRow, stored: DeployedRow) -> Intervals:
    return effective_intervals(
        Intervals(exp.expected_rate, exp.warn_interval, exp.fail_interval),
        Overrides(stored.expected_rate, stored.warn_interval, stored.fail_interval),
    )


def _new_row(key: tuple[int, int], status: Status, values: Bookkeeping, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = values._asdict()
    row.update(reference_designator_id=key[0], expected_stream_id=key[1], status=status.value, checked_at=now)
    row["status_time"] = None if status == Status.NOT_TRACKED else now
    return row


# --- what a round writes ------------------------------------------------------------------------


def write_round(
    session: Session,
    state: MonitorState,
    outcome: Outcome,
    now: datetime,
    settings: Settings,
    report: RoundReport,
) -> None:
    """New rows, status changes, history, outbox events and bookkeeping, in bulk."""
    ids = _insert_new(session, outcome.new_rows)
    report.created_streams = len(outcome.new_rows)
    existing = [(c.stream_id, c.new.value) for c in outcome.changes if c.stream_id is not None]
    # A stream that is no longer failed or degraded loses its acknowledgement in the same write.
    handled = [change for change in existing if change[1] not in _ACKNOWLEDGEABLE]
    cleared = dict.fromkeys(ACKNOWLEDGEMENT)
    update_by_id(session, _DS, ["status"], handled, status_time=now, **cleared)
    worse = [change for change in existing if change[1] in _ACKNOWLEDGEABLE]
    update_by_id(session, _DS, ["status"], worse, status_time=now)
    update_by_id(session, _DS, Bookkeeping._fields, outcome.bookkeeping, checked_at=now)
    report.bookkeeping_written = len(outcome.bookkeeping)
    report.changes = len(outcome.changes)
    if outcome.changes or outcome.reenabled:
        _write_changes(session, state, outcome, ids, now, settings, report)
    wrote = outcome.changes or outcome.new_rows or outcome.bookkeeping or outcome.reenabled
    if wrote or state.created_instruments or state.created_expected:
        revision.bump(session)  # the round's last write but the heartbeat (see ooi_status.revision)


def _write_changes(
    session: Session,
    state: MonitorState,
    outcome: Outcome,
    ids: dict[tuple[int, int], int],
    now: datetime,
    settings: Settings,
    report: RoundReport,
) -> None:
    """History rows (a timed disable that ended carries its note) and outbox events of the round's
    status changes."""
    changes = [c if c.stream_id is not None else c._replace(stream_id=ids[c.key]) for c in outcome.changes]
    notes = outcome.reenabled
    history = [_history_row(c, now, _ended_disable_note(notes, c.stream_id)) for c in changes]
    changed = {c.stream_id for c in changes}
    history += [
        {"deployed_stream_id": ident, "old_status": status, "new_status": status, "changed_at": now,
         "elapsed": None, "note": note}
        for ident, (status, note) in notes.items() if ident not in changed
    ]  # fmt: skip
    insert_rows(session, _HISTORY, _HISTORY_COLUMNS, history)
    if not changes:
        return
    events = list(_events(_instrument_statuses(state, outcome), changes, now, settings))
    insert_rows(session, _OUTBOX, _OUTBOX_COLUMNS, events)
    report.events_queued = len(events)
    log.debug("%d status change(s), %d event(s) queued", len(changes), len(events))


def _ended_disable_note(reenabled: dict[int, tuple[str, str]], stream_id: int | None) -> str | None:
    """The note of the stream's timed disable that ended in this round; None: none ended."""
    ended = None if stream_id is None else reenabled.get(stream_id)
    return None if ended is None else ended[1]


def _history_row(change: Change, now: datetime, note: str | None) -> dict[str, Any]:
    elapsed = None if change.elapsed is None else change.elapsed.total_seconds()
    return {"deployed_stream_id": change.stream_id, "old_status": change.old, "new_status": change.new.value,
            "changed_at": now, "elapsed": elapsed, "note": note}  # fmt: skip


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, int], int]:
    """Insert first-seen deployed streams; their ids by (refdes id, expected id)."""
    if not rows:
        return {}
    inserted = insert_rows(
        session, _DS, _NEW_STREAM, rows, ("reference_designator_id", "expected_stream_id", "id")
    )
    found = {(r, e): i for r, e, i in inserted}
    log.info("%d new deployed stream(s)", len(rows))
    return found


def _instrument_statuses(state: MonitorState, outcome: Outcome) -> dict[int, list[str]]:
    """Every instrument's stream statuses after the round (built only when something changed)."""
    statuses = {key: row.status for key, row in state.deployed.items()}
    statuses.update(
        {(r["reference_designator_id"], r["expected_stream_id"]): r["status"] for r in outcome.new_rows}
    )
    statuses.update({c.key: c.new.value for c in outcome.changes})
    by_instrument: dict[int, list[str]] = defaultdict(list)
    for (refdes_id, _), status in statuses.items():
        by_instrument[refdes_id].append(status)
    return by_instrument


def _events(
    by_instrument: dict[int, list[str]], changes: Sequence[Change], now: datetime, settings: Settings
) -> Iterable[dict[str, Any]]:
    sinks = [EVENTS_SINK, *settings.WEBHOOK_URLS]
    rollups: dict[int, tuple[Status, str]] = {}
    for change in changes:
        refdes_id = change.key[0]
        if refdes_id not in rollups:
            statuses = by_instrument[refdes_id]
            rollups[refdes_id] = (rollup(statuses), rollup_reason(statuses))
        overall, reason = rollups[refdes_id]
        notes = change_notes(
            Status(change.old), change.new, change.elapsed, change.intervals,
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
