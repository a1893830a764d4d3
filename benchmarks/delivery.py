"""Benchmark ``delivery`` (spec BENCHMARKS.md): the event outbox against a loopback events service.

    python -m benchmarks.delivery [--backend postgresql|sqlite|both] [--events 10000] [--runs 3]
                                  [--outage 30]

Queues --events events over --assets assets (in order per asset: ``seq`` 1, 2, ...) into a
fresh monitor database (a PostgreSQL database created on --postgres and dropped afterwards,
or a temporary SQLite file; both migrated by Alembic), and delivers them with
``deliver_due`` to an events service in a child process on 127.0.0.1:

- **throughput**: the service answers 201; events/s over all rounds until the queue is
  empty (median of --runs, the queue rebuilt each run);
- **outage**: the service answers 503 for the first --outage seconds after its first
  request, then 201. ``deliver_due`` runs in a loop, the clock advancing NOTIFY_INTERVAL per
  round (a real pause of --pause s between rounds that delivered nothing); from what the
  service acknowledged: events lost (never answered 201), out of order per asset (an
  acknowledged seq lower than one acknowledged before it for the same asset), duplicates.

Bounded: at most --max-rounds rounds and outage + 120 s per outage run. Prints a table,
then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.orm import Session

from benchmarks.common import add_database_arguments, backends, postgres_database
from ooi_status import migrate
from ooi_status.config import Settings, load_settings
from ooi_status.db import make_engine
from ooi_status.model.monitor import DEAD, DELIVERED, PENDING, PendingUpdate
from ooi_status.monitor.delivery import DeliveryReport, EventsClient, deliver_due

NOW = datetime(2025, 1, 1, tzinfo=UTC)
TARGET_EVENTS_PER_S = 1000


# --- the events service (child process) ------------------------------------------------------


class _Service(ThreadingHTTPServer):
    daemon_threads = True
    outage = 0.0
    started: float | None = None
    received: list[tuple[str, int, int]]
    lock: threading.Lock

    def status_now(self) -> int:
        with self.lock:
            if self.started is None:
                self.started = time.monotonic()
            return 503 if time.monotonic() - self.started < self.outage else 201


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Service

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = self.server.status_now()
        with self.server.lock:
            self.server.received.append((body["assetUid"], body["seq"], status))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(conn: Connection, outage: float) -> None:
    """Child process: serve until told to stop, then send back what was received."""
    service = _Service(("127.0.0.1", 0), _Handler)
    service.outage, service.received, service.lock = outage, [], threading.Lock()
    thread = threading.Thread(target=service.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    conn.send(service.server_address[1])
    conn.recv()
    service.shutdown()
    service.server_close()
    with service.lock:
        conn.send(list(service.received))


@contextmanager
def events_service(outage: float) -> Iterator[tuple[int, list[tuple[str, int, int]]]]:
    """(port, received): ``received`` is filled with (asset, seq, status) when the block ends."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=serve, args=(child, outage), daemon=True)
    process.start()
    received: list[tuple[str, int, int]] = []
    try:
        if not parent.poll(30):
            raise RuntimeError("the events service did not start within 30 s")
        yield parent.recv(), received
        parent.send("stop")
        if parent.poll(30):
            received.extend(parent.recv())
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)


# --- databases and the queue -----------------------------------------------------------------


@contextmanager
def monitor_database(backend: str, server_url: str) -> Iterator[str]:
    """A fresh, migrated monitor database, dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ooistatus_bench_") as folder:
            url = f"sqlite:///{Path(folder) / 'monitor.sqlite'}"
            migrate.upgrade(url)
            yield url
        return
    with postgres_database(server_url) as url:
        migrate.upgrade(url)
        yield url


def queue_events(engine: Engine, events: int, assets: int) -> None:
    """An empty outbox, then ``events`` events round-robin over ``assets`` assets."""
    fixed = {"sink": "events", "state": PENDING, "error_count": 0, "attempts": 0}
    rows: list[dict[str, Any]] = []
    for n in range(events):
        asset = f"BENCH-ASSET-{n % assets:05d}"
        message = {"@class": ".AssetStatusEvent", "assetUid": asset, "seq": n // assets + 1}
        rows.append(
            {**fixed, "asset_uid": asset, "message": message, "created_at": NOW, "next_attempt_at": NOW}
        )
    with engine.begin() as conn:
        conn.execute(delete(PendingUpdate))
        conn.execute(insert(PendingUpdate), rows)


def states(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        query = select(PendingUpdate.state, func.count()).group_by(PendingUpdate.state)
        return {state: count for state, count in session.execute(query).tuples()}


def bench_settings(data_dir: str, url: str, port: int) -> Settings:
    overrides = {"DATA_DIR": data_dir, "MONITOR_URL": url, "NOTIFY_URL_ROOT": "http://127.0.0.1"}
    return load_settings(environ={}, overrides={**overrides, "NOTIFY_URL_PORT": port, "NOTIFY_TIMEOUT": 5.0})


def deliver_round(engine: Engine, client: EventsClient, now: datetime, settings: Settings) -> DeliveryReport:
    with Session(engine) as session:
        return deliver_due(session, client, now, settings)


# --- the two figures ---------------------------------------------------------------------------


def throughput(engine: Engine, settings: Settings, args: argparse.Namespace) -> float:
    """Events/s of one run: every round until nothing is left."""
    queue_events(engine, args.events, args.assets)
    client = EventsClient(settings)
    delivered, started = 0, time.perf_counter()
    try:
        for _ in range(args.max_rounds):
            report = deliver_round(engine, client, NOW, settings)
            delivered += report.delivered
            if report.delivered == 0:
                break
    finally:
        client.close()
    elapsed = time.perf_counter() - started
    if delivered != args.events:
        raise RuntimeError(f"throughput run delivered {delivered} of {args.events} events")
    return delivered / elapsed


def outage_run(engine: Engine, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Deliver through an outage; what the service acknowledged, and the rounds it took."""
    queue_events(engine, args.events, args.assets)
    client = EventsClient(settings)
    now, rounds, deadline = NOW, 0, time.monotonic() + args.outage + 120
    try:
        while rounds < args.max_rounds and time.monotonic() < deadline:
            report = deliver_round(engine, client, now, settings)
            rounds += 1
            if states(engine).get(PENDING, 0) == 0:
                break
            if report.delivered == 0:
                time.sleep(args.pause)
            now += timedelta(seconds=settings.NOTIFY_INTERVAL)
    finally:
        client.close()
    return {"rounds": rounds, "simulated_s": (now - NOW).total_seconds(), "states": states(engine)}


def judge(received: list[tuple[str, int, int]], events: int, assets: int) -> dict[str, int]:
    """Lost, out-of-order and duplicate events, from the service's own record."""
    acknowledged: set[tuple[str, int]] = set()
    highest: dict[str, int] = {}
    out_of_order = duplicates = 0
    for asset, seq, status in received:
        if status != 201:
            continue
        if (asset, seq) in acknowledged:
            duplicates += 1
            continue
        acknowledged.add((asset, seq))
        if seq < highest.get(asset, 0):
            out_of_order += 1
        highest[asset] = max(highest.get(asset, 0), seq)
    queued = {(f"BENCH-ASSET-{n % assets:05d}", n // assets + 1) for n in range(events)}
    refused = sum(1 for *_, status in received if status == 503)
    return {
        "lost": len(queued - acknowledged),
        "out_of_order": out_of_order,
        "duplicates": duplicates,
        "answered_503": refused,
    }


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with monitor_database(backend, args.postgres) as url, tempfile.TemporaryDirectory() as data_dir:
        with events_service(0.0) as (port, _):
            settings = bench_settings(data_dir, url, port)
            engine = make_engine(url, settings)
            rates = [throughput(engine, settings, args) for _ in range(args.runs)]
        with events_service(args.outage) as (port, received):
            settings = bench_settings(data_dir, url, port)
            started = time.perf_counter()
            outage = outage_run(engine, settings, args)
            outage["wall_s"] = round(time.perf_counter() - started, 1)
        outage |= judge(received, args.events, args.assets)
        left = outage.pop("states")
        outage |= {"delivered": left.pop(DELIVERED, 0), "dead": left.pop(DEAD, 0), "left": left}
        engine.dispose()
    return {
        "events_per_s": round(statistics.median(rates)),
        "events_per_s_runs": [round(rate) for rate in rates],
        "outage": outage,
    }


def table(figures: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"{'backend':<11} {'events/s':>9} {'target':>7}   "
        f"{'outage':>6} {'lost':>5} {'order':>6} {'dup':>4} {'503s':>5} {'rounds':>6} {'wall s':>7}"
    ]
    for backend, f in figures.items():
        o = f["outage"]
        lines.append(
            f"{backend:<11} {f['events_per_s']:>9} {TARGET_EVENTS_PER_S:>7}   {args.outage:>5}s "
            f"{o['lost']:>5} {o['out_of_order']:>6} {o['duplicates']:>4} {o['answered_503']:>5} "
            f"{o['rounds']:>6} {o['wall_s']:>7}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.delivery", description=__doc__.split("\n")[0])
    add_database_arguments(parser)
    parser.add_argument("--events", type=int, default=10_000, help="events queued (default 10000)")
    parser.add_argument("--assets", type=int, default=500, help="assets they are spread over (default 500)")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs, median reported (default 3)")
    parser.add_argument("--outage", type=float, default=30.0, help="seconds of 503 answers (default 30)")
    parser.add_argument("--pause", type=float, default=0.2, help="real pause between idle rounds (s)")
    parser.add_argument("--max-rounds", type=int, default=2000, help="bound on rounds per run")
    args = parser.parse_args(argv)
    chosen = backends(args)
    figures = {}
    for backend in chosen:
        figures[backend] = run(backend, args)
        print(f"{backend}: done", file=sys.stderr)
    print(table(figures, args))
    settings = {"events": args.events, "assets": args.assets, "runs": args.runs, "outage_s": args.outage}
    print(json.dumps({"scenario": "delivery", **settings, "figures": figures, "target_events_per_s": 1000}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
