"""Soak: two monitors under bad luck for a few minutes, then the database must still add up.

    python -m benchmarks.soak                      # 200 s of chaos, then a drain (≤ 5 minutes)
    python -m benchmarks.soak --chaos 30 --drain 40 --instruments 25 --flip 0.03   # a short run

Builds a fleet (``demo.fleet_observatory``: 2,500 instruments × 4 monitored streams, warn
600 s, fail 1,800 s) in a fresh PostgreSQL metadata database and migrates a fresh monitor
database beside it, where a first check round records every stream's first status (then
cleared from the history and the outbox: the soak's changes are its own). A check round over
10,000 streams lasts long enough for a standby to start its own in the middle of it. Then,
all on this machine:

- two ``ooi_status_monitor`` daemons (CHECK_INTERVAL and NOTIFY_INTERVAL 1 s, NOTIFY_TIMEOUT
  2 s, CLAIM_LEASE 10 s, backoff 1–4 s), one leading and one on standby;
- a loop that moves ``--flip`` (0.3 %) of the streams to now or two hours back every second
  or so, so that statuses keep changing (operational <-> failed);
- chaos: every few seconds one of SIGKILL a monitor (restarted 0.5–3 s later), terminate
  every PostgreSQL backend of the monitor database, or terminate only the backend holding the
  leader's advisory lock just after a whole second, as the leader's check round starts, and
  then a SIGHUP to both monitors, so that the standby polls the lock at once instead of at its
  next STANDBY_POLL (the split-brain case: the leader's round goes on on its other connection
  while the standby takes the lock and checks);
- a stand-in events service that changes mode every ~15 s: ``ok`` (201), ``hang`` (answers
  after the client gave up), ``flap`` (201 or 503 at random), ``refuse`` (not listening); and
  one asset whose events are always answered 302 (each is dead after MAX_STATUS_POST_FAILURES
  while the others go on).

Then the flipping and the chaos stop, the service answers 201 to everything, the monitors
deliver until nothing is pending (``--drain`` s at most), get a SIGTERM, and the invariants
are read from the monitor database:

1. one history row per change: each stream's history is one chain (every row's old status is
   the previous row's new status, from the status of the first round; the last new status is
   the stream's);
2. one event per change: the events of each stream, in queue order, are its history rows
   (same old -> new in the notes, eventStartTime = the change's time);
3. every event delivered or dead, none pending; dead only for the 302 asset;
4. none lost: every delivered event was received by the service (a retry after a timeout
   may have sent it twice: counted), and each asset's events first arrived in queue order;
5. both monitors exit 0 on SIGTERM.

Prints a table and one JSON line; exit status 1 when an invariant fails. Not a benchmark of
speed: the figures are counts. Traffic stays on loopback; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from benchmarks.common import DEFAULT_POSTGRES, postgres_databases
from ooi_status import demo, migrate
from ooi_status.config import load_settings
from ooi_status.db import Databases
from ooi_status.model.metadata import MetadataBase, StreamMetadata
from ooi_status.model.monitor import (
    DEAD,
    DELIVERED,
    EVENTS_SINK,
    DeployedStream,
    MonitorLeader,
    PendingUpdate,
    StatusHistory,
)
from ooi_status.monitor.check import MonitorSource, run_round
from ooi_status.monitor.expected import ExpectedRow, upsert_expected
from ooi_status.sources import deployment_source, stream_source
from ooi_status.times import datetime_to_ntp, datetime_to_unix_ms, utcnow

MODES = ("ok", "hang", "flap", "refuse")
#: The asset whose events are redirected for the whole chaos phase (the fleet's 8th instrument).
REDIRECTED = "FLEET-000007"
NOTIFY_TIMEOUT = 2.0


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the events service ---------------------------------------------------------------------------


@dataclass
class Received:
    asset: str
    name: str | None
    start: int | None
    notes: str | None
    status: int

    def key(self) -> tuple[Any, ...]:
        return (self.asset, self.name, self.start, self.notes)


@dataclass
class EventsService:
    """A loopback events service whose mode the soak changes; records what it received."""

    port: int = 0
    mode: str = "ok"
    redirect: bool = True
    received: list[Received] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    rng: random.Random = field(default_factory=lambda: random.Random(3))

    def start(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    message = json.loads(body)
                except ValueError:
                    message = {}
                status = service.answer(message)
                if status is None:  # hang: answer long after the client gave up
                    time.sleep(NOTIFY_TIMEOUT + 1)
                    status = 201
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def set_mode(self, mode: str) -> None:
        if mode == "refuse":
            self.stop()
        elif self.server is None:
            self.start()
        self.mode = mode

    def answer(self, message: dict[str, Any]) -> int | None:
        asset = str(message.get("assetUid"))
        with self.lock:
            if self.redirect and asset == REDIRECTED:
                status: int | None = 302
            elif self.mode == "hang":
                status = None
            elif self.mode == "flap":
                status = 201 if self.rng.random() < 0.5 else 503
            else:
                status = 201
            self.answers[str(status or "hang")] += 1
            self.received.append(
                Received(
                    asset,
                    message.get("eventName"),
                    message.get("eventStartTime"),
                    message.get("notes"),
                    status or 201,
                )  # fmt: skip
            )
        return status


# --- the monitors -----------------------------------------------------------------------------------


@dataclass
class Monitors:
    env: dict[str, str]
    folder: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: Counter[str] = field(default_factory=Counter)
    kills: int = 0

    def start(self, name: str) -> None:
        self.starts[name] += 1
        log = (self.folder / f"{name}.log").open("ab")
        command = [sys.executable, "-m", "ooi_status.monitor.entry"]
        self.processes[name] = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is None:
            process.kill()
            self.kills += 1
        process.wait(timeout=30)

    def hang_up(self) -> None:
        """SIGHUP to every running monitor: settings reloaded, and a standby polls the lock at once."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGHUP)

    def stop_all(self, timeout: float = 30) -> dict[str, int | None]:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        deadline = time.monotonic() + timeout
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
                codes[name] = None
        return codes

    def log_counts(self) -> dict[str, int]:
        patterns = {
            "check_rounds": "check round:",
            "check_rounds_fenced": "check round rolled back",
            "notification_steps_fenced": "notification round rolled back",
            "delivery_rounds_fenced": "deliver round rolled back",
            "step_downs": "stepping down",
            "epochs_taken": "leadership epoch",
            "rounds_skipped": "round skipped",
            "tracebacks": "Traceback",
        }
        counts = Counter[str]()
        for path in self.folder.glob("*.log"):
            content = path.read_text(errors="replace")
            for name, pattern in patterns.items():
                counts[name] += content.count(pattern)
        return {name: counts[name] for name in patterns}


# --- set-up, flipping and chaos -----------------------------------------------------------------------


def prepare(urls: dict[str, str], instruments: int, folder: Path) -> dict[int, str]:
    """The fleet, the monitor schema, and a first check round whose changes (every stream's first
    status) are then cleared from the history and the outbox: the soak's changes are its own, and
    the monitors do not start with thousands of events to deliver. The statuses it leaves."""
    now = utcnow()
    migrate.upgrade(urls["monitor"])
    metadata = create_engine(urls["metadata"])
    MetadataBase.metadata.create_all(metadata)
    demo.write_observatory(metadata, demo.fleet_observatory(now, instruments=instruments))
    metadata.dispose()
    settings = load_settings(
        environ={}, overrides={"MONITOR_URL": urls["monitor"], "METADATA_URL": urls["metadata"],
                               "DATA_DIR": str(folder)},
    )  # fmt: skip
    databases = Databases(settings)
    source = MonitorSource(stream_source(settings, databases), deployment_source(databases))
    try:
        with databases.monitor_session() as session, session.begin():
            upsert_expected(session, [ExpectedRow(**row) for row in demo.fleet_expected()])
        with databases.monitor_session() as session, session.begin():
            run_round(source, session, now, settings)
            session.execute(delete(PendingUpdate))
            session.execute(delete(StatusHistory))
        with databases.monitor_session() as session:
            return {
                ident: status
                for ident, status in session.execute(select(DeployedStream.id, DeployedStream.status))
            }
    finally:
        source.streams.close()
        databases.dispose()


def flip_streams(metadata: Engine, rng: random.Random, fraction: float) -> int:
    """Move a few streams to now (fresh) or two hours back (failed)."""
    table = StreamMetadata.__table__
    now = utcnow()
    with metadata.begin() as conn:
        ids = list(conn.execute(select(table.c.id)).scalars())
        chosen = rng.sample(ids, max(1, int(len(ids) * fraction)))
        fresh = [i for i in chosen if rng.random() < 0.5]
        stale = [i for i in chosen if i not in set(fresh)]
        if fresh:
            conn.execute(update(table).where(table.c.id.in_(fresh)).values(last=datetime_to_ntp(now)))
        if stale:
            old = datetime_to_ntp(now - timedelta(hours=2))
            conn.execute(update(table).where(table.c.id.in_(stale)).values(last=old))
    return len(chosen)


def terminate_backends(admin: Engine, database: str, lock_only: bool) -> int:
    """Terminate the monitor database's backends (all of them, or the advisory lock's holder)."""
    if lock_only:
        query = text(
            "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = :db"
        )
    else:
        query = text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :db AND pid <> pg_backend_pid()"
        )
    with admin.connect() as conn:
        return sum(1 for ok in conn.execute(query, {"db": database}).scalars() if ok)


@dataclass
class Chaos:
    kills: int = 0
    backend_kills: int = 0
    lock_backend_kills: int = 0
    backends_terminated: int = 0
    mode_changes: int = 0
    modes: Counter[str] = field(default_factory=Counter)
    flips: int = 0


def run_chaos(
    args: argparse.Namespace, monitors: Monitors, service: EventsService, metadata: Engine, admin: Engine,
    database: str,
) -> Chaos:  # fmt: skip
    rng = random.Random(args.seed)
    chaos = Chaos()
    end = time.monotonic() + args.chaos
    next_flip = next_mode = next_kill = next_backends = time.monotonic()
    restart_at: dict[str, float] = {}
    while time.monotonic() < end:
        moment = time.monotonic()
        if moment >= next_flip:
            chaos.flips += flip_streams(metadata, rng, args.flip)
            next_flip = moment + rng.uniform(0.5, 1.5)
        if moment >= next_mode:
            mode = rng.choice([m for m in MODES if m != service.mode])
            service.set_mode(mode)
            chaos.mode_changes += 1
            chaos.modes[mode] += 1
            next_mode = moment + rng.uniform(10, 20)
        if moment >= next_kill:
            name = rng.choice(sorted(monitors.processes))
            if name not in restart_at:
                monitors.kill(name)
                chaos.kills += 1
                restart_at[name] = moment + rng.uniform(0.5, 3)
            next_kill = moment + rng.uniform(8, 16)
        if moment >= next_backends:
            lock_only = rng.random() < 0.5
            if lock_only:  # just as the leader's round starts (checks run at whole seconds)
                time.sleep(1.02 - time.time() % 1)
            chaos.backends_terminated += terminate_backends(admin, database, lock_only)
            if lock_only:  # the standby's wait ends now (a reload), not at its next poll
                monitors.hang_up()
            if lock_only:
                chaos.lock_backend_kills += 1
            else:
                chaos.backend_kills += 1
            next_backends = moment + rng.uniform(4, 9)
        for name, when in list(restart_at.items()):
            if moment >= when:
                monitors.start(name)
                del restart_at[name]
        time.sleep(0.1)
    for name in restart_at:
        monitors.start(name)
    return chaos


# --- the invariants ------------------------------------------------------------------------------------

_NOTES = re.compile(r"^\((\w+) -> (\w+)\)")


def check_invariants(engine: Engine, service: EventsService, baseline: dict[int, str]) -> dict[str, Any]:
    problems: list[str] = []
    with Session(engine) as session:
        history = session.scalars(select(StatusHistory).order_by(StatusHistory.id)).all()
        streams = {s.id: s.status for s in session.scalars(select(DeployedStream))}
        events = session.scalars(
            select(PendingUpdate).where(PendingUpdate.sink == EVENTS_SINK).order_by(PendingUpdate.id)
        ).all()
        epoch = session.scalar(select(MonitorLeader.epoch).where(MonitorLeader.id == 1))
    by_stream: dict[int, list[StatusHistory]] = defaultdict(list)
    for row in history:
        by_stream[row.deployed_stream_id].append(row)
    for stream_id, rows in by_stream.items():
        previous = baseline.get(stream_id, "notTracked")
        for row in rows:
            if row.old_status != previous:
                problems.append(f"stream {stream_id}: history row {row.id} {row.old_status} -> "
                                f"{row.new_status} after {previous} (a change recorded twice?)")  # fmt: skip
            previous = row.new_status
        if previous != streams.get(stream_id):
            problems.append(f"stream {stream_id}: last history {previous}, status {streams.get(stream_id)}")
    events_by_stream: dict[int, list[PendingUpdate]] = defaultdict(list)
    for event in events:
        events_by_stream[event.deployed_stream_id or 0].append(event)
    for stream_id, rows in by_stream.items():
        queued = events_by_stream.get(stream_id, [])
        if len(queued) != len(rows):
            problems.append(f"stream {stream_id}: {len(rows)} history rows, {len(queued)} events")
            continue
        for change, event in zip(rows, queued, strict=True):
            match = _NOTES.match(event.message.get("notes") or "")
            pair = match.groups() if match else None
            when = datetime_to_unix_ms(change.changed_at)
            if pair != (change.old_status, change.new_status) or event.message.get("eventStartTime") != when:
                problems.append(
                    f"stream {stream_id}: event {event.id} does not match history row {change.id}"
                )
    states = Counter(e.state for e in events)
    not_done = [e.id for e in events if e.state not in (DELIVERED, DEAD)]
    if not_done:
        problems.append(f"{len(not_done)} events neither delivered nor dead (first ids {not_done[:5]})")
    dead_elsewhere = [e.id for e in events if e.state == DEAD and e.asset_uid != REDIRECTED]
    if dead_elsewhere:
        problems.append(
            f"{len(dead_elsewhere)} dead events of assets the service accepted: {dead_elsewhere[:5]}"
        )
    with service.lock:
        received = list(service.received)
    accepted = Counter(r.key() for r in received if r.status == 201)
    lost = [e.id for e in events if e.state == DELIVERED and not accepted[_key(e)]]
    if lost:
        problems.append(f"{len(lost)} delivered events the service never received: {lost[:5]}")
    order_problems = _arrival_order(events, received)
    problems += order_problems
    return {
        "streams_with_history": len(by_stream),
        "changes": len(history),
        "events": len(events),
        "delivered": states[DELIVERED],
        "dead": states[DEAD],
        "pending": len(not_done),
        "posts_received": len(received),
        "duplicate_receipts": sum(n - 1 for n in accepted.values() if n > 1),
        "leadership_epochs": epoch,
        "problems": problems,
    }


def _key(event: PendingUpdate) -> tuple[Any, ...]:
    message = event.message
    return (event.asset_uid, message.get("eventName"), message.get("eventStartTime"), message.get("notes"))


def _arrival_order(events: Any, received: list[Received]) -> list[str]:
    """Each asset's events first arrived in queue order. Two streams of one instrument with the
    same name (telemetered and streamed) that change alike in one round queue identical
    messages, which no receiver can tell apart: such a message counts at its first place."""
    position: dict[tuple[Any, ...], int] = {}
    for event in events:
        position.setdefault(_key(event), event.id)
    seen: set[tuple[Any, ...]] = set()
    last: dict[str, int] = {}
    problems = []
    for r in received:
        key = r.key()
        if key in seen or key not in position:
            continue
        seen.add(key)
        ident = position[key]
        if ident < last.get(r.asset, 0):
            problems.append(f"asset {r.asset}: event {ident} arrived after event {last[r.asset]}")
        last[r.asset] = max(ident, last.get(r.asset, 0))
    return problems


def pending(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.scalars(select(PendingUpdate.id).where(PendingUpdate.state == "pending")).all())


# --- the run ---------------------------------------------------------------------------------------------


def monitor_env(urls: dict[str, str], port: int, folder: Path) -> dict[str, str]:
    settings_file = folder / "soak_settings.py"
    settings_file.write_text("LOG_LEVEL = 'INFO'\n")
    return {
        **os.environ,
        "OOISTATUS_SETTINGS": str(settings_file),
        "OOISTATUS_MONITOR_URL": urls["monitor"],
        "OOISTATUS_METADATA_URL": urls["metadata"],
        "OOISTATUS_DATA_DIR": str(folder),
        "OOISTATUS_AUTO_MIGRATE": "never",
        "OOISTATUS_NOTIFY_URL_ROOT": "http://127.0.0.1",
        "OOISTATUS_NOTIFY_URL_PORT": str(port),
        "OOISTATUS_CHECK_INTERVAL": "1",
        "OOISTATUS_NOTIFY_INTERVAL": "1",
        "OOISTATUS_NOTIFY_OFFSET": "0",
        "OOISTATUS_STANDBY_POLL": "1",
        "OOISTATUS_NOTIFY_TIMEOUT": str(NOTIFY_TIMEOUT),
        "OOISTATUS_CLAIM_LEASE": "10",
        "OOISTATUS_RETRY_BACKOFF": "1",
        "OOISTATUS_RETRY_BACKOFF_MAX": "4",
        "OOISTATUS_SHUTDOWN_GRACE": "15",
        "OOISTATUS_COVERAGE_BUDGET_SECONDS": "0.2",
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    with (
        postgres_databases(args.postgres, "monitor", "metadata") as urls,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        baseline = prepare(urls, args.instruments, folder)
        say(f"fleet of {args.instruments} instruments ({len(baseline)} streams) ready")
        service = EventsService()
        service.start()
        monitors = Monitors(monitor_env(urls, service.port, folder), folder)
        metadata = create_engine(urls["metadata"])
        monitor_engine = create_engine(urls["monitor"])
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        database = make_url(urls["monitor"]).database or ""
        codes: dict[str, int | None] = {}
        try:
            for name in ("first", "second"):
                monitors.start(name)
            say(f"two monitors started; {args.chaos:.0f} s of chaos")
            chaos = run_chaos(args, monitors, service, metadata, admin, database)
            say(f"chaos over: {chaos.kills} SIGKILLs, {chaos.backends_terminated} backends killed; draining")
            service.set_mode("ok")
            service.redirect = False
            drain_end = time.monotonic() + args.drain
            while time.monotonic() < drain_end and pending(monitor_engine):
                time.sleep(1)
            drained = time.monotonic() - (drain_end - args.drain)
            codes = monitors.stop_all()
        finally:
            for process in monitors.processes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
            service.stop()
            metadata.dispose()
            admin.dispose()
        figures = check_invariants(monitor_engine, service, baseline)
        monitor_engine.dispose()
        logs = monitors.log_counts()
        if any(code != 0 for code in codes.values()):
            figures["problems"].append(f"monitor exit statuses on SIGTERM: {codes}")
        figures.update(
            seconds=round(time.monotonic() - started, 1),
            chaos_seconds=args.chaos,
            drain_seconds=round(drained, 1),
            instruments=args.instruments,
            monitor_sigkills=chaos.kills,
            monitor_starts=sum(monitors.starts.values()),
            backend_kill_rounds=chaos.backend_kills,
            lock_backend_kills=chaos.lock_backend_kills,
            backends_terminated=chaos.backends_terminated,
            events_service_modes=dict(chaos.modes),
            events_service_answers=dict(service.answers),
            stream_flips=chaos.flips,
            exit_statuses=codes,
            **logs,
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help="server URL (databases are created on it)"
    )
    parser.add_argument("--chaos", type=float, default=200.0, help="seconds of chaos (default 200)")
    parser.add_argument("--drain", type=float, default=45.0, help="seconds at most to deliver what is left")
    parser.add_argument("--instruments", type=int, default=2500, help="fleet size (4 streams each)")
    parser.add_argument("--flip", type=float, default=0.003, help="fraction of the streams moved each time")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    figures = run(args)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        if key != "problems":
            print(f"{key:<{width}}  {value}")
    problems = figures["problems"]
    print(f"{'invariants':<{width}}  {'all hold' if not problems else f'{len(problems)} violated'}")
    for problem in problems[:30]:
        print(f"  ! {problem}")
    print(json.dumps({"soak": figures}, default=str))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
