"""Benchmark ``ooi-10y`` (spec BENCHMARKS.md): GET /available/<refdes> through the Flask test client.

    python -m benchmarks.availability [--backend postgresql|sqlite|both] [--runs 50]

Builds the scenario with ``demo.ten_year_observatory()`` into fresh databases that it
creates and drops (a PostgreSQL database on --postgres, a temporary SQLite file), then
times each figure over --runs requests after --warmup unmeasured ones. The app's clock is
fixed at 2025-01-01T00:00:00Z, the end of the generated data, so the figures do not depend
on the day they are taken. Each figure is taken twice: with the default settings (warm: the
answer kept by its ETag, the bins kept on SQLite) and with every request computing its answer
from the database (cold: API_ANSWER_CACHE_BYTES=0 and AVAILABILITY_BIN_CACHE_ROWS=0, what the
first request after new data costs). Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine

from benchmarks.common import add_database_arguments, analyze, backends, postgres_database
from ooi_status import demo
from ooi_status.api import create_app, current_databases
from ooi_status.config import load_settings

NOW = datetime(2025, 1, 1, tzinfo=UTC)
FIGURES = {
    "full": ("", 25.0),
    "one_stream": ("?method=streamed&stream=ctdbp_no_sample", 3.0),
    "svg": ("?format=svg", 40.0),
}


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="ooistatus_bench_") as folder:
        yield f"sqlite:///{Path(folder) / 'metadata.sqlite'}"


def load(url: str) -> None:
    engine = create_engine(url)
    try:
        demo.write_observatory(engine, demo.ten_year_observatory())
        analyze(engine)
    finally:
        engine.dispose()


def measure(url: str, runs: int, warmup: int, warm: bool) -> dict[str, dict[str, float]]:
    """Median and 95th percentile (ms) of each figure, and what one answer holds."""
    with tempfile.TemporaryDirectory(prefix="ooistatus_bench_data_") as data_dir:
        overrides: dict[str, object] = {"METADATA_URL": url, "DATA_DIR": data_dir}
        if not warm:
            overrides.update(API_ANSWER_CACHE_BYTES=0, AVAILABILITY_BIN_CACHE_ROWS=0)
        settings = load_settings(environ={}, overrides=overrides)
        app = create_app(settings, CLOCK=lambda: NOW)
        client = app.test_client()
        results = {}
        for figure, (query, _) in FIGURES.items():
            path = f"/available/{demo.TEN_YEAR_REFDES}{query}"
            for _ in range(warmup):
                response = client.get(path)
                assert response.status_code == 200, response.data[:300]
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
            results[figure] = {
                "median_ms": round(statistics.median(timings), 2),
                "p95_ms": round(statistics.quantiles(timings, n=20)[-1], 2),
                "bytes": len(response.data),
            }
        with app.app_context():
            current_databases().dispose()
    return results


def run(backend: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    database = postgres_database(args.postgres) if backend == "postgresql" else sqlite_database()
    with database as url:
        started = time.perf_counter()
        load(url)
        print(f"{backend}: ooi-10y loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        kept = measure(url, args.runs, args.warmup, warm=True)
        read = measure(url, args.runs, args.warmup, warm=False)
        for figure, values in read.items():
            kept[figure]["read_median_ms"] = values["median_ms"]
            kept[figure]["read_p95_ms"] = values["p95_ms"]
        return kept


def table(figures: dict[str, dict[str, dict[str, float]]]) -> str:
    """Medians and p95 warm (answers kept, the default) and cold (computed from the database every time)."""
    lines = [
        f"{'backend':<11} {'figure':<11} {'warm':>8} {'p95':>8} {'cold: median':>13} {'p95':>8} "
        f"{'target':>7} {'bytes':>8}   (ms)"
    ]
    for backend, results in figures.items():
        for figure, v in results.items():
            target = f"{FIGURES[figure][1]:.0f}" if backend == "postgresql" else "-"
            lines.append(
                f"{backend:<11} {figure:<11} {v['median_ms']:>8.2f} {v['p95_ms']:>8.2f} "
                f"{v['read_median_ms']:>13.2f} {v['read_p95_ms']:>8.2f} {target:>7} {v['bytes']:>8}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.availability", description=__doc__.split("\n")[0]
    )
    add_database_arguments(parser)
    parser.add_argument("--runs", type=int, default=50, help="measured requests per figure (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests first (default 5)")
    args = parser.parse_args(argv)
    chosen = backends(args)
    figures = {backend: run(backend, args) for backend in chosen}
    print(table(figures))
    targets = {figure: target for figure, (_, target) in FIGURES.items()}
    targets["full_warm"] = 10.0
    print(json.dumps({"scenario": "ooi-10y", "runs": args.runs, "figures": figures, "targets_ms": targets}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
