"""Benchmark of the notification step (messages for people) over the ``ooi-fleet`` scenario.

    python -m benchmarks.notify [--backend postgresql|sqlite|both] [--instruments 3000] [--runs 10]

Builds the ``ooi-fleet`` fleet (4 monitored streams per instrument) and 20 subscriptions
(10 immediate for everything, 5 immediate per site from degraded, 5 daily digests). Between
timed steps the metadata is moved (untimed) and a check round runs and commits (untimed),
with the clock moving one minute per round, as the monitor runs them; each timing covers
``notify_round`` and its commit (or ``queue_digests``):

- ``steady``: nothing changed since the last step;
- ``changing``: 1 % of the streams changed (a new sample each round, so none is flapping);
- ``site_down``: every stream of one site (1,000 instruments, 4,000 streams) failed at once;
- ``digests``: the 5 daily digests over the fleet with a day's history behind them.
Prints a table and one JSON line. No targets in BENCHMARKS.md: figures are reported.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from benchmarks.common import add_database_arguments, analyze, backends, postgres_database
from benchmarks.fleet import NOW, STREAMS_PER_INSTRUMENT, load_metadata, prepare_monitor, sqlite_database
from ooi_status.config import Settings, load_settings
from ooi_status.db import make_engine
from ooi_status.model.metadata import StreamMetadata
from ooi_status.model.monitor import Subscription
from ooi_status.monitor.check import CheckMemory, MonitorSource, run_round
from ooi_status.monitor.notify import notify_round, queue_digests
from ooi_status.sources.postgres import PostgresDeploymentSource, PostgresStreamSource
from ooi_status.times import datetime_to_ntp

MINUTE = timedelta(minutes=1)


def subscribe(engine: Engine, created_at: datetime) -> None:
    rows = [("email", f"all{i}@example.org", "", "failed", "immediate") for i in range(10)]
    rows += [("chat", f"https://chat.example.org/hooks/{i}", f"FL{i % 3:02d}SITE", "degraded", "immediate")
             for i in range(5)]  # fmt: skip
    rows += [("email", f"daily{i}@example.org", "", "degraded", "digest") for i in range(5)]
    with Session(engine) as session, session.begin():
        for kind, target, match, min_status, mode in rows:
            session.add(Subscription(kind=kind, target=target, match=match, min_status=min_status, mode=mode,
                                     created_by="bench", created_at=created_at))  # fmt: skip


class Fleet:
    def __init__(self, metadata: Engine, monitor: Engine, settings: Settings) -> None:
        self.metadata, self.monitor, self.settings = metadata, monitor, settings
        self.source = MonitorSource(PostgresStreamSource(metadata), PostgresDeploymentSource(metadata))
        self.memory = CheckMemory()
        self.now = NOW

    def set_data(self, stale_ids: list[int] | None = None, stale_site: str | None = None) -> None:
        table = StreamMetadata.__table__
        with self.metadata.begin() as conn:
            conn.execute(update(table).values(last=datetime_to_ntp(self.now - timedelta(seconds=30))))
            stale = datetime_to_ntp(self.now - timedelta(hours=2))
            if stale_ids:
                conn.execute(update(table).where(table.c.id.in_(stale_ids)).values(last=stale))
            if stale_site:
                conn.execute(update(table).where(table.c.subsite == stale_site).values(last=stale))

    def check(self) -> None:
        with Session(self.monitor) as session, session.begin():
            run_round(self.source, session, self.now, self.settings, self.memory)

    def notify(self) -> tuple[float, int]:
        started = time.perf_counter()
        with Session(self.monitor) as session, session.begin():
            plan = notify_round(session, self.now, self.settings)
        return time.perf_counter() - started, sum(len(m.text) for _, m in plan.messages)

    def step(self, **stale: Any) -> tuple[float, int]:
        self.now += MINUTE
        self.set_data(**stale)
        self.check()
        return self.notify()


def measure(backend: str, args: argparse.Namespace, stack: ExitStack, folder: Path) -> dict[str, Any]:
    def database(name: str) -> str:
        if backend == "postgresql":
            return stack.enter_context(postgres_database(args.postgres))
        return stack.enter_context(sqlite_database(folder, name))

    metadata_url = database("metadata")
    load_metadata(metadata_url, args.instruments)
    settings = load_settings(environ={}, overrides={"METADATA_URL": metadata_url, "DATA_DIR": str(folder)})
    metadata = make_engine(metadata_url, settings)
    stack.callback(metadata.dispose)
    monitor = prepare_monitor(database("monitor"), settings)
    stack.callback(monitor.dispose)
    subscribe(monitor, NOW - timedelta(days=2))
    fleet = Fleet(metadata, monitor, settings)
    fleet.step()  # first statuses
    fleet.step()
    analyze(monitor)
    streams = args.instruments * STREAMS_PER_INSTRUMENT
    steady = [fleet.step()[0] for _ in range(args.runs)]
    rng = random.Random(5)
    changing = []
    for _ in range(args.runs):
        changing.append(fleet.step(stale_ids=rng.sample(range(1, streams + 1), streams // 100))[0])
    fleet.step()
    site_down, size = fleet.step(stale_site="FL00SITE")
    fleet.settings = settings.replace(DIGEST_HOUR=(fleet.now + MINUTE).hour)
    fleet.now = fleet.now.replace(minute=0) + timedelta(hours=1)
    started = time.perf_counter()
    with Session(monitor) as session, session.begin():
        digests = queue_digests(session, fleet.now, fleet.settings)
    digest_s = time.perf_counter() - started
    return {
        "backend": backend, "streams": streams, "subscriptions": 20,
        "steady_s": round(statistics.median(steady), 4), "changing_s": round(statistics.median(changing), 4),
        "changing_streams": streams // 100, "site_down_s": round(site_down, 4), "site_down_text_bytes": size,
        "digests": digests, "digests_s": round(digest_s, 4),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notify", description=__doc__)
    add_database_arguments(parser)
    parser.add_argument("--instruments", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    results = []
    for backend in backends(args):
        with ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
            results.append(measure(backend, args, stack, Path(folder)))
    print("backend     streams  steady    changing(1%)  site down (4,000 streams)  5 digests")
    for r in results:
        site = f"{r['site_down_s']:.3f} s ({r['site_down_text_bytes']:,} chars)"
        print(f"{r['backend']:<11} {r['streams']:>7}  {r['steady_s']:.4f} s  {r['changing_s']:.4f} s      "
              f"{site}   {r['digests_s']:.3f} s")  # fmt: skip
    print(json.dumps({"benchmark": "notify", "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
