"""Benchmark ``api-load`` (spec BENCHMARKS.md): run_gunicorn.sh under 64 concurrent connections.

    python benchmarks/api_load.py [--postgres URL] [--duration 30] [--connections 64] [--runs 1]

Builds ``ooi-fleet`` (3,000 instruments, 12,000 monitored streams) and ``ooi-10y`` into two
fresh PostgreSQL databases (dropped afterwards), runs a first monitor check round over them,
starts run_gunicorn.sh (2 gevent workers) on a free loopback port, and drives it with ``wrk``
(or, without wrk, a threaded client in this file) for a bounded time, mixing
``/stream?status=failed``, ``/instrument?refdes=CE`` and ``/available/<refdes>``, once with
``Accept-Encoding: gzip`` (as browsers and ``curl --compressed`` send it) and once without
(``--gzip``). Prints a table and one JSON line of figures.
Loopback only; every wait is bounded; the server is stopped by its pid.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import DEFAULT_POSTGRES, postgres_databases  # noqa: E402
from ooi_status import demo, migrate  # noqa: E402
from ooi_status.model.monitor import ExpectedStream  # noqa: E402
from ooi_status.monitor.check import MonitorSource, run_round  # noqa: E402
from ooi_status.sources.postgres import PostgresDeploymentSource, PostgresStreamSource  # noqa: E402

WRK_SCRIPT = """
local paths = {%s}
local headers = %s
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_s": %%f, "errors": %%d, ' ..
    '"p50_ms": %%f, "p99_ms": %%f, "max_ms": %%f}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--duration", type=int, default=30, help="seconds of load per run (at most 120)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1, help="runs; the median is reported")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--gzip",
        choices=["both", "on", "off"],
        default="both",
        help="send Accept-Encoding: gzip (as browsers and curl --compressed do), not, or both (default)",
    )
    args = parser.parse_args(argv)
    args.duration = max(1, min(args.duration, 120))
    return args


def merged(first: demo.Observatory, second: demo.Observatory) -> demo.Observatory:
    """Both observatories in one, the second's row ids moved past the first's."""
    assets, events = len(first.assets), len(first.events)
    streams, partitions = len(first.streams), len(first.partitions)
    out = demo.Observatory(
        *(
            list(rows)
            for rows in (
                first.assets,
                first.instruments,
                first.events,
                first.deployments,
                first.streams,
                first.partitions,
            )
        )
    )
    out.assets += [{**row, "assetid": row["assetid"] + assets} for row in second.assets]
    out.instruments += [{**row, "assetid": row["assetid"] + assets} for row in second.instruments]
    out.events += [{**row, "eventid": row["eventid"] + events} for row in second.events]
    out.deployments += [
        {**row, "eventid": row["eventid"] + events, "sassetid": row["sassetid"] + assets}
        for row in second.deployments
    ]
    out.streams += [{**row, "id": row["id"] + streams} for row in second.streams]
    out.partitions += [{**row, "id": row["id"] + partitions} for row in second.partitions]
    return out


def expected_rows(obs: demo.Observatory) -> list[dict[str, object]]:
    """Fleet intervals (warn 600 s, fail 1,800 s) for every monitored (stream, method)."""
    pairs = sorted({(s["stream"], s["method"]) for s in obs.streams if s["method"] in demo.MONITORED})
    return [
        {"name": name, "method": method, "expected_rate": 0.0, "warn_interval": 600, "fail_interval": 1800}
        for name, method in pairs
    ]


def seed_monitor(url: str, metadata_url: str, obs: demo.Observatory, now: datetime) -> int:
    """The monitor rows of a real first check round over the observatory; returns streams checked."""
    engine, metadata = create_engine(url), create_engine(metadata_url)
    source = MonitorSource(PostgresStreamSource(metadata), PostgresDeploymentSource(metadata))
    with Session(engine) as session, session.begin():
        session.execute(insert(ExpectedStream), expected_rows(obs))
    with Session(engine) as session, session.begin():
        report = run_round(source, session, now)
    engine.dispose()
    metadata.dispose()
    return report.streams_checked


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(urls: dict[str, str], workers: int, log: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "OOISTATUS_BIND": f"127.0.0.1:{port}",
        "OOISTATUS_WORKERS": str(workers),
        "OOISTATUS_MONITOR_URL": urls["monitor"],
        "OOISTATUS_METADATA_URL": urls["metadata"],
        "OOISTATUS_ACCESS_LOG": "/dev/null",
        "OOISTATUS_LOG_LEVEL": "WARNING",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("OOISTATUS_SETTINGS", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", str(ROOT / "run_gunicorn.sh")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, 60)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(base + "/openapi.json", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("api-load: the server did not start; see its log")


def run_wrk(
    base: str, paths: list[str], connections: int, duration: int, compressed: bool
) -> dict[str, float]:
    headers = '{["Accept-Encoding"] = "gzip"}' if compressed else "{}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (", ".join(json.dumps(p) for p in paths), headers))
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(connections),
                "-d",
                f"{duration}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base,
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    figures = json.loads(next(line for line in out.splitlines() if line.startswith("WRKJSON"))[8:])
    figures["throughput_rps"] = figures["requests"] / figures["duration_s"]
    return figures


def run_python_client(
    base: str, paths: list[str], connections: int, duration: int, compressed: bool
) -> dict[str, float]:
    """64 threads, one keep-alive connection each, until the time is up (and at most 10**6 requests)."""
    headers = {"Accept-Encoding": "gzip"} if compressed else {"Accept-Encoding": "identity"}
    host, port = base.removeprefix("http://").split(":")
    deadline = time.monotonic() + duration
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        mine, i = [], offset
        while time.monotonic() < deadline and len(latencies) + len(mine) < 10**6:
            started = time.perf_counter()
            try:
                conn.request("GET", paths[i % len(paths)], headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status < 400
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
            mine.append(time.perf_counter() - started)
            if not ok:
                with lock:
                    errors[0] += 1
            i += 1
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 30)
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "duration_s": elapsed,
        "errors": errors[0],
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "max_ms": max(latencies) * 1000,
        "throughput_rps": len(latencies) / elapsed,
    }


def load_paths() -> list[str]:
    return ["/stream?status=failed", "/instrument?refdes=CE", f"/available/{demo.TEN_YEAR_REFDES}"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "python")
    now = datetime.now(UTC)
    with (
        postgres_databases(args.postgres, "monitor", "metadata") as urls,
        tempfile.TemporaryDirectory() as tmp,
    ):
        obs = merged(demo.fleet_observatory(now), demo.ten_year_observatory())
        demo.write_observatory(create_engine(urls["metadata"]), obs)
        migrate.upgrade(urls["monitor"])
        streams = seed_monitor(urls["monitor"], urls["metadata"], obs, now)
        with gunicorn(urls, args.workers, Path(tmp) / "gunicorn.log") as base:
            paths = load_paths()
            failed = len(requests.get(base + "/stream?status=failed", timeout=30).json()["status"])
            run = run_wrk if client == "wrk" else run_python_client
            modes = {"both": [True, False], "on": [True], "off": [False]}[args.gzip]
            results = {
                compressed: [
                    run(base, paths, args.connections, args.duration, compressed) for _ in range(args.runs)
                ]
                for compressed in modes
            }
    figures = {
        ("gzip" if compressed else "plain"): {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for compressed, runs in results.items()
    }
    report = {
        "scenario": "api-load",
        "client": client,
        "streams": streams,
        "failed_streams": failed,
        "paths": paths,
        "connections": args.connections,
        "workers": args.workers,
        "runs": args.runs,
        "figures": figures,
        "targets": {"throughput_rps": 1000, "p99_ms": 100, "errors": 0},
    }
    print(f"{'figure':<18} " + " ".join(f"{mode:>10}" for mode in figures))
    for key in ("requests", "throughput_rps", "p50_ms", "p99_ms", "max_ms", "errors"):
        print(f"{key:<18} " + " ".join(f"{values[key]:>10.1f}" for values in figures.values()))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
