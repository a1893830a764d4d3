"""Benchmark: the cost of one /metrics scrape as the fleet grows, with and without per-stream ages.

    python -m benchmarks.metrics [--backend postgresql|sqlite|both] [--instruments 3000,30000] [--runs 10]

For each backend and fleet size, builds ``demo.fleet_observatory()`` (4 monitored streams per
instrument) and a monitor database after one real check round (as ``benchmarks.fleet``), then
scrapes ``/metrics`` through the Flask test client --runs times with METRICS_STREAM_DATA_AGE
on and off. Prints per case the median seconds, the body size and the number of series, then
one JSON line. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.common import add_database_arguments, analyze, backends, postgres_database
from benchmarks.fleet import Rounds, load_metadata, prepare_monitor, say, sqlite_database
from ooi_status.api import create_app
from ooi_status.config import load_settings
from ooi_status.db import make_engine
from ooi_status.monitor.check import MonitorSource
from ooi_status.sources.postgres import PostgresDeploymentSource, PostgresStreamSource


def scrape(settings: Any, runs: int) -> dict[str, Any]:
    client = create_app(settings).test_client()
    client.get("/metrics")  # warm-up: engines, first queries
    timings, body = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        body = client.get("/metrics").get_data(as_text=True)
        timings.append(time.perf_counter() - started)
    series = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
    return {"median_s": round(statistics.median(timings), 4), "bytes": len(body), "series": series}


def measure(backend: str, instruments: int, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    with ExitStack() as stack:

        def database(name: str) -> str:
            if backend == "postgresql":
                return stack.enter_context(postgres_database(args.postgres))
            return stack.enter_context(sqlite_database(folder, name))

        metadata_url, monitor_url = database("metadata"), database("monitor")
        load_metadata(metadata_url, instruments)
        settings = load_settings(
            environ={},
            overrides={"METADATA_URL": metadata_url, "MONITOR_URL": monitor_url, "DATA_DIR": str(folder)},
        )
        metadata = make_engine(metadata_url, settings)
        stack.callback(metadata.dispose)
        engine = prepare_monitor(monitor_url, settings)
        stack.callback(engine.dispose)
        source = MonitorSource(PostgresStreamSource(metadata), PostgresDeploymentSource(metadata))
        Rounds(source, engine, settings).run()
        analyze(engine)
        result = {"backend": backend, "instruments": instruments, "streams": instruments * 4}
        for age in (True, False):
            figures = scrape(settings.replace(METRICS_STREAM_DATA_AGE=age), args.runs)
            result["with_stream_age" if age else "without_stream_age"] = figures
            say(f"{backend} {instruments} instruments, stream ages {'on' if age else 'off'}: {figures}")
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.metrics", description=__doc__.split("\n")[0])
    add_database_arguments(parser)
    parser.add_argument(
        "--instruments", default="3000", help="fleet sizes, comma-separated, 4 streams each (default 3000)"
    )
    parser.add_argument("--runs", type=int, default=10, help="timed scrapes per case (default 10)")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for backend in backends(args):
            for instruments in (int(part) for part in args.instruments.split(",")):
                results.append(measure(backend, instruments, args, Path(folder)))
    print(f"{'backend':<11} {'instruments':>11} {'streams':>8} {'ages on: s':>11} {'series':>7} "
          f"{'ages off: s':>12} {'series':>7}")  # fmt: skip
    for r in results:
        on, off = r["with_stream_age"], r["without_stream_age"]
        print(f"{r['backend']:<11} {r['instruments']:>11} {r['streams']:>8} {on['median_s']:>11.3f} "
              f"{on['series']:>7} {off['median_s']:>12.3f} {off['series']:>7}")  # fmt: skip
    print(json.dumps({"benchmark": "metrics", "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
