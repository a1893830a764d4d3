"""Benchmark ``reports`` (spec BENCHMARKS.md): the coverage and uptime reports and the coverage upkeep.

    python -m benchmarks.reports [--backend postgresql|sqlite|both] [--instruments 3000] [--years 10]

Scenario: ``ooi-10y`` plus a fleet of --instruments instruments, each with one open deployment
and one stream of daily bins over --years years (``demo.daily_bins``: runs of missing days,
sparse days), written into a fresh metadata database (PostgreSQL: COPY); a fresh monitor
database holds 12,000 deployed streams (4 per fleet instrument) with 30 days of status
history. The clock is fixed at the end of the data.

Figures (medians of --runs, through the Flask test client where a request is timed):
- ``build``: ``--build-coverage`` of every stream (once);
- ``coverage_month``: GET /report/coverage (by month, by instrument, the default 12 months),
  and ``coverage_10y`` the same from the first month of the data: answered from the rows the
  API keeps by data revision (a repeated request); ``coverage_month_cold`` and
  ``coverage_10y_cold`` the same after the data revision moved each time (the first request
  after an upkeep commit: the rows computed);
- ``uptime_streams``: GET /report/uptime?window=30d&group=stream (12,000 rows, from the
  cumulative seconds of the history, filled once after the bulk load: ``history_fill_s``): the
  body kept by data revision and window (a repeated request in the same minute), and
  ``uptime_streams_cold`` the same after the data revision moved each time (the first request
  after a check round's commit), ``uptime_streams_round`` the same after a round that changed
  120 streams (1 %) each time (their rows filled as the monitor fills them); ``uptime_instruments`` and
  ``uptime_instruments_cold`` the same by instrument (rolled up in SQL);
- ``incremental``: one upkeep round after 1 % of the 12,000 streams' worth of coverage streams
  (120) got a new bin, months only (their open deployments follow within the hour), and
  ``incremental_whole`` the same round when those streams' open deployments are due too; the
  rounds are a monitor's, which keeps the rows it read between rounds (after a first round with
  nothing moved, ``first_round_ms``, that reads them whole).
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, update
from sqlalchemy.orm import Session

from benchmarks.common import add_database_arguments, analyze, backends, postgres_databases
from ooi_status import demo, revision
from ooi_status.api import create_app, current_databases
from ooi_status.config import Settings, load_settings
from ooi_status.db import Databases, make_engine
from ooi_status.migrate import upgrade
from ooi_status.model.metadata import PartitionMetadata, StreamMetadata
from ooi_status.model.monitor import DeployedStream, ExpectedStream, ReferenceDesignator, StatusHistory
from ooi_status.monitor.bulk import insert_rows
from ooi_status.reports.coverage_upkeep import CoverageSources, UpkeepMemory, run_upkeep
from ooi_status.reports.uptime import fill_cumulative
from ooi_status.sources import deployment_source, stream_source
from ooi_status.times import datetime_to_ntp

START = datetime(2015, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 1, 1, tzinfo=UTC)
STREAMS_PER_INSTRUMENT = 4
MOVED = 120  # 1 % of 12,000 streams
TARGETS_MS = {
    "coverage_month": 200.0,
    "coverage_month_cold": 200.0,
    "uptime_streams": 200.0,
    "uptime_streams_cold": 200.0,
    "incremental": 100.0,
}
STATUSES = ("operational", "degraded", "failed")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fleet_refdes(index: int) -> str:
    return f"FL{index // 1000:02d}SITE-N{index % 1000:04d}-01-CTDBPA{index % 1000:03d}"


# --- the metadata: ooi-10y and the fleet's ten years of daily bins ------------------------------


def load_metadata(url: str, instruments: int, years: int) -> None:
    engine = create_engine(url)
    try:
        demo.write_observatory(engine, demo.ten_year_observatory())
        fleet = demo.Observatory()
        start = NOW - timedelta(days=round(365.25 * years))
        for index in range(instruments):
            fleet.add_deployment(fleet_refdes(index), 1, start, None, f"FLEET-{index:06d}")
        _write_events(engine, fleet, offset=100_000)
        rng = random.Random(17)
        batch: list[tuple] = []
        streams: list[dict[str, Any]] = []
        for index in range(instruments):
            refdes = fleet_refdes(index)
            subsite, node, sensor = refdes.split("-", 2)
            bins = demo.daily_bins(rng, start, NOW, 1440)
            key = (subsite, node, sensor, "streamed", "fleet_sample")
            batch.extend((*key, "cass", b, c, f, la) for b, c, f, la in bins)
            streams.append(
                {
                    "subsite": subsite,
                    "node": node,
                    "sensor": sensor,
                    "method": "streamed",
                    "stream": "fleet_sample",
                    "count": sum(b[1] for b in bins),
                    "first": bins[0][2],
                    "last": bins[-1][3],
                }
            )
            if len(batch) > 500_000:
                _write_bins(engine, batch)
                batch = []
        _write_bins(engine, batch)
        with engine.begin() as conn:
            base = conn.execute(select(func.max(StreamMetadata.id))).scalar_one()
            conn.execute(
                StreamMetadata.__table__.insert(), [{"id": base + i + 1, **s} for i, s in enumerate(streams)]
            )
        analyze(engine)
    finally:
        engine.dispose()


def _write_events(engine: Engine, obs: demo.Observatory, offset: int) -> None:
    """Deployments with ids beyond ooi-10y's."""
    for table in (obs.assets, obs.instruments, obs.events, obs.deployments):
        for row in table:
            for key in ("assetid", "eventid", "sassetid"):
                if row.get(key) is not None:
                    row[key] += offset
    demo.write_observatory(engine, demo.Observatory(obs.assets, obs.instruments, obs.events, obs.deployments))


_BIN_COLUMNS = ("subsite", "node", "sensor", "method", "stream", "store", "bin", "count", "first", "last")


def _write_bins(engine: Engine, rows: list[tuple]) -> None:
    if not rows:
        return
    base = _max_bin_id(engine)
    if engine.dialect.name == "postgresql":
        text = io.StringIO(
            "".join(f"{base + i + 1}\t" + "\t".join(map(str, row)) + "\n" for i, row in enumerate(rows))
        )
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.copy_expert(
                    f"COPY partition_metadata (id, {', '.join(_BIN_COLUMNS)}) FROM STDIN", text
                )
            raw.commit()
        finally:
            raw.close()
        return
    with engine.begin() as conn:
        conn.execute(
            PartitionMetadata.__table__.insert(),
            [
                dict(zip(("id", *_BIN_COLUMNS), (base + i + 1, *row), strict=True))
                for i, row in enumerate(rows)
            ],
        )


def _max_bin_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(PartitionMetadata.id), 0))).scalar_one()


# --- the monitor: 12,000 deployed streams with 30 days of history -------------------------------


def load_monitor(engine: Engine, instruments: int) -> float:
    """The fleet's streams and history; the seconds the fill of the cumulative seconds took."""
    rng = random.Random(23)
    with Session(engine) as session, session.begin():
        names = [f"fleet_{n}" for n in range(STREAMS_PER_INSTRUMENT)]
        session.add_all(
            ExpectedStream(
                name=n, method="streamed", expected_rate=0.0, warn_interval=600, fail_interval=1800
            )
            for n in names
        )
        session.add_all(ReferenceDesignator(name=fleet_refdes(i)) for i in range(instruments))
        session.flush()
        expected = session.scalars(select(ExpectedStream.id).order_by(ExpectedStream.id)).all()
        refdes = session.scalars(select(ReferenceDesignator.id).order_by(ReferenceDesignator.id)).all()
        session.add_all(
            DeployedStream(reference_designator_id=r, expected_stream_id=e, status="operational")
            for r in refdes
            for e in expected
        )
        session.flush()
        history = []
        for sid in session.scalars(select(DeployedStream.id)):
            status, at = "notTracked", NOW - timedelta(days=40)
            while at < NOW:
                new = rng.choice([s for s in STATUSES if s != status])
                history.append(
                    {
                        "deployed_stream_id": sid,
                        "old_status": status,
                        "new_status": new,
                        "changed_at": at,
                        "elapsed": 60.0,
                    }
                )
                status = new
                at += timedelta(hours=rng.uniform(6, 120) if new == "operational" else rng.uniform(0.2, 12))
            session.execute(update(DeployedStream).where(DeployedStream.id == sid).values(status=status))
        insert_rows(
            session,
            StatusHistory.__table__,
            ("deployed_stream_id", "old_status", "new_status", "changed_at", "elapsed"),
            history,
        )
    # The cumulative seconds the monitor's check step keeps (rows loaded in bulk: all at once).
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        filled = fill_cumulative(session)
    fill_s = time.perf_counter() - started
    analyze(engine)
    say(f"monitor: {instruments * STREAMS_PER_INSTRUMENT} deployed streams, {len(history)} history rows")
    say(f"monitor: cumulative seconds of {filled} history rows filled in {fill_s:.1f} s")
    return fill_s


# --- figures ------------------------------------------------------------------------------------


def timed(
    run: Callable[[], Any], runs: int, warmup: int = 2, before: Callable[[], Any] | None = None
) -> dict[str, float]:
    """Median and max of ``runs`` timed calls of ``run`` after ``warmup`` untimed ones;
    ``before`` (untimed) ahead of each."""
    for _ in range(warmup):
        if before is not None:
            before()
        run()
    timings = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(timings), 1), "max_ms": round(max(timings), 1)}


def requests(settings: Settings, monitor: Engine, runs: int) -> dict[str, dict[str, float]]:
    app = create_app(settings, CLOCK=lambda: NOW)
    client = app.test_client()
    paths = {
        "coverage_month": "/report/coverage",
        "coverage_month_cold": "/report/coverage",
        "coverage_10y": f"/report/coverage?start_time={START:%Y-%m-%d}",
        "coverage_10y_cold": f"/report/coverage?start_time={START:%Y-%m-%d}",
        "uptime_streams": "/report/uptime?window=30d&group=stream",
        "uptime_streams_cold": "/report/uptime?window=30d&group=stream",
        "uptime_streams_round": "/report/uptime?window=30d&group=stream",
        "uptime_instruments": "/report/uptime?window=30d&group=instrument",
        "uptime_instruments_cold": "/report/uptime?window=30d&group=instrument",
    }

    def new_revision() -> None:
        """What a commit (the upkeep's, a check round's) does to the kept report answers: they are
        of no more use."""
        with Session(monitor) as session, session.begin():
            revision.bump(session)

    with Session(monitor) as session:
        streams = session.scalars(select(DeployedStream.id).order_by(DeployedStream.id)).all()
    rounds = iter(range(1, 1_000_000))

    def check_round() -> None:
        """What a check round commits for the uptime report: a change of MOVED streams (1 %) a second
        before the clock, each later than the one before, filled in its transaction."""
        n = next(rounds)
        changed = random.Random(n).sample(streams, min(MOVED, len(streams)))
        at = NOW - timedelta(seconds=1) + timedelta(microseconds=n)
        with Session(monitor) as session, session.begin():
            session.execute(
                StatusHistory.__table__.insert(),
                [{"deployed_stream_id": sid, "old_status": "operational", "new_status": "degraded",
                  "changed_at": at, "elapsed": 60.0} for sid in changed],
            )  # fmt: skip
            fill_cumulative(session)
            revision.bump(session)

    before = {"_cold": new_revision, "_round": check_round}
    results = {}
    for figure, path in paths.items():

        def get(path: str = path) -> int:
            response = client.get(path)
            assert response.status_code == 200, response.data[:300]
            return len(response.data)

        results[figure] = {
            **timed(get, runs, before=before.get(figure[figure.rfind("_") :])),
            "bytes": get(),
            "rows": len(client.get(path).get_json()["rows"]),
        }
    with app.app_context():
        current_databases().dispose()
    return results


def move_streams(metadata: Engine, ids: list[int], now: datetime) -> None:
    """A new bin after the last one of each stream, as ingest adds them."""
    s = StreamMetadata.__table__.c
    with metadata.begin() as conn:
        rows = conn.execute(
            select(s.id, s.subsite, s.node, s.sensor, s.method, s.stream, s.count, s.last).where(
                s.id.in_(ids)
            )
        ).all()
    new = []
    for row in rows:
        first, last = row.last + 30, datetime_to_ntp(now) - 30
        new.append(
            (row.subsite, row.node, row.sensor, row.method, row.stream, "cass", int(first), 3600, first, last)
        )
    _write_bins(metadata, new)
    with metadata.begin() as conn:
        for row, bin_row in zip(rows, new, strict=True):
            conn.execute(
                update(StreamMetadata.__table__)
                .where(s.id == row.id)
                .values(count=row.count + bin_row[7], last=bin_row[9])
            )


def upkeep(settings: Settings, metadata: Engine, runs: int) -> dict[str, Any]:
    databases = Databases(settings)
    streams = stream_source(settings, databases)
    sources = CoverageSources(streams, deployment_source(databases))
    try:
        started = time.perf_counter()
        built = run_upkeep(databases.monitor_session, sources, NOW, settings, float("inf"), everything=True)
        build_s = time.perf_counter() - started
        say(f"build: {built.streams} streams of {built.instruments} instruments in {build_s:.1f} s")
        with metadata.connect() as conn:
            fleet_ids = (
                conn.execute(select(StreamMetadata.id).where(StreamMetadata.stream == "fleet_sample"))
                .scalars()
                .all()
            )
        chosen = random.Random(5).sample(sorted(fleet_ids), min(MOVED, len(fleet_ids)))
        # The monitor's rounds keep the coverage_stream rows they read: its first round (nothing
        # moved) reads them whole, the next ones only those written since.
        memory = UpkeepMemory()
        started = time.perf_counter()
        run_upkeep(databases.monitor_session, sources, NOW, settings, float("inf"), memory=memory)
        first_ms = (time.perf_counter() - started) * 1000
        say(f"first round (nothing moved, every row read): {first_ms:.1f} ms")
        figures = {}
        for figure, offset, lag in (("incremental", 0, 3600), ("incremental_whole", 10, 0)):
            timings, reports = [], []
            for k in range(runs):
                now = NOW + timedelta(minutes=offset * runs + k + 1)
                move_streams(metadata, chosen, now)
                round_settings = settings.replace(COVERAGE_OPEN_DEPLOYMENT_SECONDS=lag)
                started = time.perf_counter()
                report = run_upkeep(
                    databases.monitor_session, sources, now, round_settings, float("inf"), memory=memory
                )
                timings.append((time.perf_counter() - started) * 1000)
                reports.append(report)
            figures[figure] = {
                "median_ms": round(statistics.median(timings), 1),
                "max_ms": round(max(timings), 1),
                "streams": reports[-1].streams,
                "whole": reports[-1].whole,
            }
        first = {"first_round_ms": round(first_ms, 1)}
        return {"build_s": round(build_s, 1), "build_streams": built.streams, **first, **figures}
    finally:
        streams.close()
        databases.dispose()


@contextmanager
def databases_for(backend: str, args: argparse.Namespace) -> Iterator[dict[str, str]]:
    if backend == "postgresql":
        with postgres_databases(args.postgres, "metadata", "monitor") as urls:
            yield urls
        return
    with tempfile.TemporaryDirectory(prefix="ooistatus_bench_") as folder:
        yield {role: f"sqlite:///{Path(folder) / f'{role}.sqlite'}" for role in ("metadata", "monitor")}


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with databases_for(backend, args) as urls, tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            environ={},
            overrides={
                "METADATA_URL": urls["metadata"],
                "MONITOR_URL": urls["monitor"],
                "DATA_DIR": data_dir,
            },
        )
        started = time.perf_counter()
        load_metadata(urls["metadata"], args.instruments, args.years)
        say(f"{backend}: metadata loaded in {time.perf_counter() - started:.0f} s")
        upgrade(urls["monitor"])
        monitor = make_engine(urls["monitor"], settings)
        metadata = make_engine(urls["metadata"], settings)
        try:
            fill_s = load_monitor(monitor, args.instruments)
            figures = {**upkeep(settings, metadata, args.runs), "history_fill_s": round(fill_s, 1)}
            analyze(monitor)
            figures.update(requests(settings, monitor, args.runs))
        finally:
            monitor.dispose()
            metadata.dispose()
        return figures


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = [f"{'backend':<11} {'figure':<20} {'median ms':>10} {'max ms':>9} {'target':>7}  notes"]
    for backend, figures in results.items():
        lines.append(
            f"{backend:<11} {'build':<20} {figures['build_s'] * 1000:>10.0f} {'':>9} {'-':>7}  "
            f"{figures['build_streams']} streams"
        )
        lines.append(
            f"{backend:<11} {'first_round':<20} {figures['first_round_ms']:>10.1f} {'':>9} {'-':>7}  "
            "the monitor's first upkeep round: nothing moved, every row read"
        )
        lines.append(
            f"{backend:<11} {'history_fill':<20} {figures['history_fill_s'] * 1000:>10.0f} {'':>9} {'-':>7}  "
            "cumulative seconds of every history row, once"
        )
        for figure, values in figures.items():
            if not isinstance(values, dict):
                continue
            target = TARGETS_MS.get(figure)
            notes = ", ".join(f"{k} {v}" for k, v in values.items() if k not in ("median_ms", "max_ms"))
            lines.append(
                f"{backend:<11} {figure:<20} {values['median_ms']:>10.1f} {values['max_ms']:>9.1f} "
                f"{'-' if target is None else f'{target:.0f}':>7}  {notes}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reports", description=__doc__.split("\n")[0])
    add_database_arguments(parser)
    parser.add_argument("--instruments", type=int, default=3000, help="fleet instruments with bins (3000)")
    parser.add_argument("--years", type=int, default=10, help="years of daily bins per instrument (10)")
    parser.add_argument("--runs", type=int, default=10, help="measured runs per figure (10)")
    args = parser.parse_args(argv)
    results = {backend: run(backend, args) for backend in backends(args)}
    print(table(results))
    print(
        json.dumps(
            {
                "scenario": "reports",
                "instruments": args.instruments,
                "years": args.years,
                "runs": args.runs,
                "figures": results,
                "targets_ms": TARGETS_MS,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
