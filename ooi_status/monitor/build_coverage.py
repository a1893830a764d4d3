"""``ooi_status_monitor --build-coverage``: compute the coverage of every stream, with a progress bar.

For a new installation (or after changing the availability settings): the running monitor
keeps the table up to date from then on, a bounded share of the work per round. The build
takes the leader lock, so that it and a running monitor never write the same rows at once;
the work is committed every second or so, so an interrupted build keeps its progress (and
the monitor finishes it).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ooi_status.config import Settings
from ooi_status.db import Databases, describe_error
from ooi_status.monitor.daemon import DEPENDENCY_ERRORS
from ooi_status.monitor.leader import make_lock
from ooi_status.reports.coverage_upkeep import CoverageSources, run_upkeep
from ooi_status.sources import deployment_source, stream_source
from ooi_status.times import utcnow

BAR_WIDTH = 30


class ProgressBar:
    """``coverage [#####.....] 120/3000 instruments`` on one line of a terminal, redrawn in place;
    elsewhere (a log file) a line at every tenth of the work."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.live = out.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if not self.live and tenth == self.shown:
            return
        self.shown = tenth
        filled = done * BAR_WIDTH // max(total, 1)
        line = f"coverage [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} instruments"
        self.out.write(("\r" + line) if self.live else line + "\n")
        if self.live and done == total:
            self.out.write("\n")
        self.out.flush()


def build_coverage(settings: Settings, out: TextIO | None = None) -> int:
    """0 when every stream's coverage is computed; 1 when a database did not answer or another
    monitor holds the leader lock. Progress and the outcome go to ``out`` (stderr)."""
    out = sys.stderr if out is None else out
    lock = make_lock(settings)
    if not lock.acquire():
        print("ooi_status_monitor: another monitor holds the leader lock: it builds the coverage "
              "itself, round by round; stop it to build everything at once", file=out)  # fmt: skip
        return 1
    databases = Databases(settings)
    streams = stream_source(settings, databases)
    started = time.monotonic()
    try:
        report = run_upkeep(
            databases.monitor_session, CoverageSources(streams, deployment_source(databases)), utcnow(),
            settings, deadline=float("inf"), everything=True, progress=ProgressBar(out),
        )  # fmt: skip
    except DEPENDENCY_ERRORS as exc:
        print(f"ooi_status_monitor: coverage not built: {describe_error(exc)}", file=out)
        return 1
    finally:
        streams.close()
        databases.dispose()
        lock.release()
    print(
        f"coverage built: {report.streams} streams of {report.instruments} instruments "
        f"in {time.monotonic() - started:.1f} s",
        file=out,
    )
    return 0
