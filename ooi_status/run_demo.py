"""The ``ooi_status_demo`` command: the whole service on the embedded default, from a fresh clone.

Creates the SQLite databases in DATA_DIR, builds the synthetic observatory (once),
migrates the monitor schema, loads the expected-intervals tables, then runs until Ctrl-C:

- the monitor (the ooi_status_monitor daemon, with the demo's live-data step before each
  check: the observatory's live streams move forward, some stall for a while, a few never
  come back, so statuses change as you watch);
- the API under gunicorn with gevent workers on :9000 (ooi_status.gunicorn_conf), with a
  fresh API key for writes (printed once, valid while the demo runs);
- a small stand-in for the OOI events service on NOTIFY_URL_ROOT:NOTIFY_URL_PORT (when that
  is this machine and the port is free) that accepts every status event with 201 and logs
  it, so the outbox delivers as it would in production;
- when an AMQP broker answers (AMQP_URL, or RabbitMQ on this machine as guest), port agents
  for the observatory's instruments that publish byte counts to AMQP_QUEUE every 10 s
  (demo_ports.py: some with bytes whatever their streams do, some only while their streams
  deliver, some silent), and the monitor consumes them, so the diagnosis of failed
  instruments shows. Without a broker the demo runs without port statistics.

Ctrl-C (SIGINT), SIGTERM or SIGHUP (a closed terminal) stops all three, each finishing what it
was doing; should the demo process itself be killed, the monitor and gunicorn stop with it
(Linux: they ask the kernel for a SIGTERM when their parent dies).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Engine, inspect

from ooi_status import commands, demo, demo_ports, migrate
from ooi_status.config import Settings, mask_url, settings_or_exit
from ooi_status.db import Databases
from ooi_status.keys import hash_api_key, new_api_key
from ooi_status.logs import setup_logging
from ooi_status.monitor.daemon import BeforeCheck
from ooi_status.monitor.expected import read_expected_csv, upsert_expected
from ooi_status.times import utcnow

log = logging.getLogger("ooi_status.demo")

#: Days of bins of a demo observatory of 40 instruments; larger fleets get proportionally
#: fewer (at least 60), so that 3,000 instruments still build in about a minute.
HISTORY_DAYS = 1460


def history_days(instruments: int) -> int:
    return max(60, min(HISTORY_DAYS, HISTORY_DAYS * 40 // max(instruments, 1)))


#: The broker the demo tries when AMQP_URL is not set: RabbitMQ's defaults on this machine.
LOCAL_BROKER = "amqp://guest:guest@127.0.0.1:5672/%2F"


def prepare(settings: Settings, now: datetime, instruments: int = 40, seed: int = 7) -> dict[str, int]:
    """Migrate, build the observatory if the metadata database is empty, load expected intervals."""
    migrate.upgrade(settings.MONITOR_URL)
    databases = Databases(settings)
    built = 0
    try:
        if "stream_metadata" not in inspect(databases.metadata).get_table_names():
            observatory = demo.demo_observatory(
                now, instruments=instruments, seed=seed, history_days=history_days(instruments)
            )
            demo.write_observatory(databases.metadata, observatory)
            built = len(observatory.streams)
        rows = read_expected_csv(demo.EXPECTED_CSV) + read_expected_csv(demo.DEMO_EXPECTED_CSV)
        with databases.monitor_session() as session, session.begin():
            created, updated = upsert_expected(session, rows)
    finally:
        databases.dispose()
    return {"streams_built": built, "expected_created": created, "expected_updated": updated}


class _EventsHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/events/postto/"):
            try:
                message = json.loads(body)
                log.info("event for %s: %s %s", self.path.rsplit("/", 1)[-1], message.get("eventName"),
                         message.get("notes"))  # fmt: skip
                self.send_response(201)
            except ValueError:
                self.send_response(400)
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Requests are logged by do_POST."""


def start_events_service(settings: Settings) -> ThreadingHTTPServer | None:
    """The stand-in events service, when NOTIFY_URL_ROOT is this machine and its port is free."""
    host = urlsplit(settings.NOTIFY_URL_ROOT).hostname
    if host not in ("localhost", "127.0.0.1"):
        return None
    try:
        server = ThreadingHTTPServer(("127.0.0.1", int(settings.NOTIFY_URL_PORT)), _EventsHandler)
    except OSError as exc:
        log.info("events service port %s in use (%s): events go to whatever listens there",
                 settings.NOTIFY_URL_PORT, exc.strerror)  # fmt: skip
        return None
    threading.Thread(target=server.serve_forever, name="demo-events", daemon=True).start()
    return server


def live_step(seed: int) -> BeforeCheck:
    """The demo's step before each check round: the observatory's live streams move forward."""

    def step(metadata: Engine, now: datetime) -> None:
        demo.advance_live(metadata, now, seed)

    return step


def run_live_monitor(seed: int) -> int:
    """The demo's monitor process: ooi_status_monitor with the live-data step."""
    from ooi_status.monitor import cli

    return cli.main([], before_check=live_step(seed))


def start_port_agents(
    settings: Settings, seed: int
) -> tuple[demo_ports.PortAgentPublisher | None, str | None]:
    """The demo's port agents and the broker's URL, when a broker answers; else (None, None)."""
    url = settings.AMQP_URL or LOCAL_BROKER
    if not demo_ports.broker_answers(url):
        log.info("no AMQP broker answers at %s: the demo runs without port-agent statistics",
                 mask_url(url))  # fmt: skip
        return None, None
    publisher = demo_ports.PortAgentPublisher(url, settings.AMQP_QUEUE, Databases(settings).metadata, seed)
    publisher.start()
    log.info("demo port agents publish to %s on %s", settings.AMQP_QUEUE, mask_url(url))
    return publisher, url


def child_environment(settings: Settings, key_hash: str, amqp_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["OOISTATUS_DATA_DIR"] = str(Path(settings.DATA_DIR).resolve())
    env["OOISTATUS_MONITOR_URL"] = settings.MONITOR_URL
    env["OOISTATUS_METADATA_URL"] = settings.METADATA_URL
    env["OOISTATUS_API_KEYS"] = json.dumps({**settings.API_KEYS, "demo": key_hash})
    env["PSYCOGREEN"] = "true"
    if amqp_url:
        env["OOISTATUS_AMQP_URL"] = amqp_url
    return env


def _end_with_parent() -> None:
    """In the child (Linux): SIGTERM when the demo process dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


#: What the demo's children are called when one of them exits.
CHILD_NAMES = ("the monitor", "the API (gunicorn)")


def start_processes(
    env: dict[str, str], bind: str, workers: int, seed: int = 7
) -> list[subprocess.Popen[bytes]]:
    """The monitor and gunicorn, in the order of CHILD_NAMES."""
    monitor = [sys.executable, "-m", "ooi_status.run_demo", "--live-monitor", "--seed", str(seed)]
    api = [sys.executable, "-m", "gunicorn", "-c", "python:ooi_status.gunicorn_conf", "-k", "gevent",
           "-w", str(workers), "-b", bind, "--access-logfile", "-", "--graceful-timeout", "10",
           "ooi_status.api:app"]  # fmt: skip
    preexec = _end_with_parent if sys.platform.startswith("linux") else None
    return [subprocess.Popen(command, env=env, preexec_fn=preexec) for command in (monitor, api)]


def describe_exit(name: str, returncode: int) -> str:
    """``the monitor exited with signal 9`` / ``... with status 1``."""
    if returncode < 0:
        return f"{name} exited with signal {-returncode}"
    return f"{name} exited with status {returncode}"


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


def announce(settings: Settings, summary: dict[str, int], port: int, key: str) -> None:
    print(f"monitor schema migrated: {mask_url(settings.MONITOR_URL)}")
    print(
        f"metadata database: {mask_url(settings.METADATA_URL)} "
        f"({summary['streams_built']} streams built now; 0 = already there)"
    )
    print(f"expected streams: {summary['expected_created']} created, {summary['expected_updated']} updated")
    base = f"http://localhost:{port}"
    print(f"\nooi_status is starting on {base} (Ctrl-C stops it). Try:")
    for path in ("/", "/instrument?status=failed", "/stream?status=degraded", "/expected", "/health",
                 "/metrics", "/openapi.json"):  # fmt: skip
        print(f"  {base}{path}")
    print(f"API key for writes (this demo only): {key}")
    print(f"  curl -X PUT -H 'X-API-Key: {key}' {base}/stream/1/disable\n", flush=True)


DESCRIPTION = """\
The whole ooi_status service on the embedded SQLite default, from an empty folder.

Creates the SQLite databases in DATA_DIR (./data), builds a synthetic observatory (once),
migrates the monitor schema and loads the expected intervals; then runs the monitor (whose
streams move, stall and fail as you watch), the API under gunicorn, and a stand-in OOI events
service, until Ctrl-C. --prepare-only stops after the databases are ready.
"""


def positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = commands.parser("ooi_status_demo", DESCRIPTION)
    parser.add_argument(
        "--instruments", type=positive, default=40, help="instruments in a new demo observatory"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the demo observatory")
    parser.add_argument("--port", type=int, default=9000, help="port of the API (all interfaces)")
    parser.add_argument("--workers", type=positive, default=2, help="gunicorn worker processes")
    parser.add_argument("--prepare-only", action="store_true", help="build and load the databases, then exit")
    parser.add_argument("--live-monitor", action="store_true", help=argparse.SUPPRESS)  # the demo's own child
    args = parser.parse_args(argv)
    if args.live_monitor:
        return run_live_monitor(args.seed)
    settings = settings_or_exit("ooi_status_demo")
    setup_logging(settings.LOG_FORMAT, "INFO", "demo")
    summary = prepare(settings, utcnow(), args.instruments, args.seed)
    key = new_api_key()
    if args.prepare_only:
        print(f"prepared: {summary}; start the service with ooi_status_demo")
        return 0
    events = start_events_service(settings)
    port_agents, amqp_url = start_port_agents(settings, args.seed)
    processes = start_processes(
        child_environment(settings, hash_api_key(key), amqp_url),
        f"0.0.0.0:{args.port}",
        args.workers,
        args.seed,
    )
    announce(settings, summary, args.port, key)
    stop = threading.Event()
    # SIGHUP too: a closed terminal stops the demo rather than reloading its children.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    status = 0
    try:
        while not stop.wait(1.0):
            exited = [(name, p.returncode) for name, p in zip(CHILD_NAMES, processes, strict=True)
                      if p.poll() is not None]  # fmt: skip
            if exited:
                for name, returncode in exited:
                    log.error("%s: stopping the demo", describe_exit(name, returncode))
                status = 1  # e.g. the port was taken: say so to the shell too
                break
    finally:
        stop_processes(processes)
        if events is not None:
            events.shutdown()
        if port_agents is not None:
            port_agents.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
