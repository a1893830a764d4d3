"""Benchmark ``ooi-fleet`` (spec BENCHMARKS.md): check rounds of the monitor over a whole fleet.

    python -m benchmarks.fleet [--backend postgresql|sqlite|both] [--streams 12000[,100000]] [--runs 10]

For each backend and fleet size, builds ``demo.fleet_observatory()`` (4 monitored streams per
instrument, one open deployment each, last data 0–2 h ago) into a fresh metadata database,
migrates a fresh monitor database and loads ``demo.fleet_expected()`` (warn 600 s, fail
1,800 s) into it; the databases are created and dropped (PostgreSQL on --postgres) or live in
a temporary folder (SQLite). Every round runs as the monitor runs it: one Session per round,
``run_round`` inside ``session.begin()``, committed when the block ends; a timing covers the
round and its commit. The clock is fixed, so rounds see the same ``now``.

Figures, in seconds:
- ``first``: the first round, which creates every monitor row (median over --first-runs
  fresh monitor databases; the last one is kept for the other figures);
- ``steady``: median of --runs rounds where nothing changed (the changes are counted: 0);
- ``changing``: median of --runs rounds before each of which a fixed 1 % sample of the streams
  has its stream_metadata.last moved (not timed), alternately to now and to now - 2 h, so that
  each round flips them operational <-> failed and queues their events;
- ``memory``: resident set size (/proc/self/statm) after steady round 10 and after round
  --memory-rounds, and the difference in MiB (0 rounds: not measured).
Prints a table, then one JSON line with every figure and the targets of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, update
from sqlalchemy.orm import Session

from benchmarks.common import add_database_arguments, analyze, backends, postgres_database
from ooi_status import demo
from ooi_status.config import Settings, load_settings
from ooi_status.db import make_engine
from ooi_status.migrate import upgrade
from ooi_status.model.metadata import StreamMetadata
from ooi_status.monitor.check import CheckMemory, MonitorSource, RoundReport, run_round
from ooi_status.monitor.expected import ExpectedRow, upsert_expected
from ooi_status.sources.postgres import PostgresDeploymentSource, PostgresStreamSource
from ooi_status.times import datetime_to_ntp

NOW = datetime(2025, 1, 1, tzinfo=UTC)
STREAMS_PER_INSTRUMENT = 4
CHANGING_FRACTION = 0.01
MEMORY_FIRST = 10
MIB = 1024 * 1024
#: Targets of BENCHMARKS.md (seconds, PostgreSQL), by figure and fleet size.
TARGETS: dict[str, dict[int, float]] = {
    "first": {12_000: 3.0},
    "steady": {12_000: 0.3, 100_000: 2.0},
    "changing": {12_000: 0.5},
}


def target(figure: str, streams: int) -> float | None:
    return TARGETS[figure].get(streams)


# --- databases ----------------------------------------------------------------------------------


@contextmanager
def sqlite_database(folder: Path, name: str) -> Iterator[str]:
    yield f"sqlite:///{folder / f'{name}_{uuid.uuid4().hex[:6]}.sqlite'}"


def load_metadata(url: str, instruments: int) -> None:
    engine = create_engine(url)
    try:
        demo.write_observatory(engine, demo.fleet_observatory(NOW, instruments=instruments))
        analyze(engine)
    finally:
        engine.dispose()


def prepare_monitor(url: str, settings: Settings) -> Engine:
    """A migrated monitor database holding the fleet's expected streams."""
    upgrade(url)
    engine = make_engine(url, settings)
    rows = [ExpectedRow(**row) for row in demo.fleet_expected()]
    with Session(engine) as session, session.begin():
        upsert_expected(session, rows)
    return engine


# --- rounds -------------------------------------------------------------------------------------


class Rounds:
    """Check rounds on one monitor database, each in its own Session and transaction."""

    def __init__(self, source: MonitorSource, engine: Engine, settings: Settings) -> None:
        self.source = source
        self.engine = engine
        self.settings = settings
        self.memory = CheckMemory()

    def run(self) -> tuple[float, RoundReport]:
        """One round and its commit: (seconds, report)."""
        started = time.perf_counter()
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            report = run_round(self.source, session, NOW, self.settings, self.memory)
        return time.perf_counter() - started, report


def changing_sample(streams: int) -> list[int]:
    """A fixed 1 % of the stream_metadata ids (ids run from 1, one per stream)."""
    return sorted(random.Random(5).sample(range(1, streams + 1), max(1, round(streams * CHANGING_FRACTION))))


def set_last(engine: Engine, ids: list[int], last: datetime) -> None:
    table = StreamMetadata.__table__
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.id.in_(ids)).values(last=datetime_to_ntp(last)))


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def median_of(rounds: list[tuple[float, RoundReport]], field: str) -> float:
    return statistics.median(getattr(report, field) for _, report in rounds)


def measure(
    backend: str, streams: int, args: argparse.Namespace, stack: ExitStack, folder: Path
) -> dict[str, Any]:
    def database(name: str) -> str:
        if backend == "postgresql":
            return stack.enter_context(postgres_database(args.postgres))
        return stack.enter_context(sqlite_database(folder, name))

    instruments = max(1, streams // STREAMS_PER_INSTRUMENT)
    streams = instruments * STREAMS_PER_INSTRUMENT
    metadata_url = database("metadata")
    started = time.perf_counter()
    load_metadata(metadata_url, instruments)
    say(f"{backend} {streams}: metadata built in {time.perf_counter() - started:.1f} s")

    settings = load_settings(environ={}, overrides={"METADATA_URL": metadata_url, "DATA_DIR": str(folder)})
    metadata = make_engine(metadata_url, settings)
    stack.callback(metadata.dispose)
    source = MonitorSource(PostgresStreamSource(metadata), PostgresDeploymentSource(metadata))

    firsts: list[tuple[float, RoundReport]] = []
    for _ in range(args.first_runs):
        engine = prepare_monitor(database("monitor"), settings)
        stack.callback(engine.dispose)
        rounds = Rounds(source, engine, settings)
        firsts.append(rounds.run())
        say(f"{backend} {streams}: first round {firsts[-1][0]:.2f} s")
    first = firsts[-1][1]
    analyze(rounds.engine)

    steady = [rounds.run() for _ in range(args.runs)]
    say(f"{backend} {streams}: steady rounds, median {statistics.median(t for t, _ in steady):.3f} s")

    sample = changing_sample(streams)
    set_last(metadata, sample, NOW - timedelta(hours=2))
    rounds.run()  # the sample starts failed: every timed round below flips all of it
    changing = []
    for index in range(args.runs):
        set_last(metadata, sample, NOW if index % 2 == 0 else NOW - timedelta(hours=2))
        changing.append(rounds.run())
    say(f"{backend} {streams}: changing rounds, median {statistics.median(t for t, _ in changing):.3f} s")

    memory = memory_rounds(rounds.run, args.memory_rounds)
    if memory:
        say(f"{backend} {streams}: {args.memory_rounds} steady rounds, RSS {memory['growth_mib']:+.1f} MiB")

    return {
        "backend": backend,
        "streams": streams,
        "instruments": instruments,
        "streams_checked": first.streams_checked,
        "first_s": round(statistics.median(t for t, _ in firsts), 3),
        "first_runs_s": [round(t, 3) for t, _ in firsts],
        "first_created_streams": first.created_streams,
        "steady_s": round(statistics.median(t for t, _ in steady), 4),
        "steady_max_s": round(max(t for t, _ in steady), 4),
        "steady_changes": max(r.changes for _, r in steady),
        "steady_bookkeeping": max(r.bookkeeping_written for _, r in steady),
        "steady_us_per_stream": round(statistics.median(t for t, _ in steady) / streams * 1e6, 2),
        "changing_s": round(statistics.median(t for t, _ in changing), 4),
        "changing_streams": len(sample),
        "changing_changes": median_of(changing, "changes"),
        "changing_events": median_of(changing, "events_queued"),
        "memory": memory,
        "targets_s": {f: target(f, streams) for f in TARGETS} if backend == "postgresql" else {},
    }


def memory_rounds(run: Callable[[], tuple[float, RoundReport]], count: int) -> dict[str, Any] | None:
    """RSS after steady round 10 and after round ``count``, with a sparse trace in between."""
    if count <= MEMORY_FIRST:
        return None
    trace: list[tuple[int, float]] = []
    every = max(1, count // 10)
    changes = 0
    for number in range(1, count + 1):
        changes += run()[1].changes
        if number in (MEMORY_FIRST, count) or number % every == 0:
            trace.append((number, round(rss_bytes() / MIB, 1)))
    at_first = next(mib for number, mib in trace if number == MEMORY_FIRST)
    at_last = trace[-1][1]
    return {
        "rounds": count,
        "rss_at_10_mib": at_first,
        "rss_at_end_mib": at_last,
        "growth_mib": round(at_last - at_first, 1),
        "changes": changes,
        "trace_mib": trace,
    }


def run(backend: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    for streams in args.streams:
        with tempfile.TemporaryDirectory(prefix="ooistatus_bench_") as folder, ExitStack() as stack:
            results.append(measure(backend, streams, args, stack, Path(folder)))
    return results


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- report -------------------------------------------------------------------------------------


def _with_target(value: float, limit: float | None, width: int, digits: int) -> str:
    shown = f"{value:.{digits}f}"
    if limit is not None:
        shown += f" (≤{limit:g}{'' if value <= limit else ' !'})"
    return f"{shown:>{width}}"


def table(results: list[dict[str, Any]]) -> str:
    """One line per backend and fleet size; targets in brackets, '!' where one is missed."""
    lines = [
        f"{'backend':<11} {'streams':>8} {'first s':>14} {'steady s':>16} {'chg':>4} {'µs/stream':>9} "
        f"{'changing s':>16} {'events':>6} {'memory MiB (10 → end, Δ)':>26}"
    ]
    for r in results:
        limits = r["targets_s"]
        memory = r["memory"]
        shown_memory = (
            f"{memory['rss_at_10_mib']:.1f} → {memory['rss_at_end_mib']:.1f}, {memory['growth_mib']:+.1f}"
            f" ({memory['rounds']})"
            if memory
            else "-"
        )
        lines.append(
            f"{r['backend']:<11} {r['streams']:>8} "
            f"{_with_target(r['first_s'], limits.get('first'), 14, 2)} "
            f"{_with_target(r['steady_s'], limits.get('steady'), 16, 3)} {r['steady_changes']:>4} "
            f"{r['steady_us_per_stream']:>9.1f} "
            f"{_with_target(r['changing_s'], limits.get('changing'), 16, 3)} {r['changing_events']:>6g} "
            f"{shown_memory:>26}"
        )
    return "\n".join(lines)


def stream_counts(value: str) -> list[int]:
    try:
        counts = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of stream counts: {value!r}") from None
    if not counts or min(counts) < STREAMS_PER_INSTRUMENT:
        raise argparse.ArgumentTypeError(f"stream counts must be at least {STREAMS_PER_INSTRUMENT}")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__.split("\n")[0])
    add_database_arguments(parser)
    parser.add_argument(
        "--streams",
        type=stream_counts,
        default=[12_000],
        help="fleet sizes, comma-separated, 4 streams per instrument (default 12000)",
    )
    parser.add_argument("--runs", type=int, default=10, help="timed steady and changing rounds (default 10)")
    parser.add_argument(
        "--first-runs", type=int, default=3, help="first rounds, each on a fresh monitor database (default 3)"
    )
    parser.add_argument(
        "--memory-rounds",
        type=int,
        default=200,
        help="steady rounds for the memory figure; 0 skips it (default 200, the spec asks 1000)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.first_runs < 1:
        parser.error("--runs and --first-runs must be at least 1")
    chosen = backends(args)
    results = [result for backend in chosen for result in run(backend, args)]
    print(table(results))
    targets = {figure: {str(n): s for n, s in limits.items()} for figure, limits in TARGETS.items()}
    print(
        json.dumps(
            {
                "scenario": "ooi-fleet",
                "runs": args.runs,
                "first_runs": args.first_runs,
                "memory_rounds": args.memory_rounds,
                "figures": results,
                "targets_s": targets,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
