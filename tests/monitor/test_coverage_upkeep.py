"""The monitor keeps the coverage table: ``--build-coverage``, the upkeep step, its budget."""

from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import func, select

from ooi_status.model.monitor import Coverage, CoverageStream
from ooi_status.monitor.build_coverage import ProgressBar, build_coverage
from ooi_status.monitor.daemon import Daemon, Monitor

CLOSED_PG = "postgresql+psycopg2://postgres@127.0.0.1:9/none"


def counts(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(Coverage)).scalar_one(),
            conn.execute(select(func.count()).select_from(CoverageStream)).scalar_one(),
        )


def test_build_coverage_computes_every_stream_with_a_progress_bar(run, metadata_db, monitor_db) -> None:  # type: ignore[no-untyped-def]
    status, _, err = run("--build-coverage")
    assert status == 0, err
    lines = err.splitlines()
    assert lines[0].startswith("coverage [") and lines[-2] == f"coverage [{'#' * 30}] 12/12 instruments"
    assert lines[-1].startswith("coverage built: ") and " streams of 12 instruments in " in lines[-1]
    rows, streams = counts(monitor_db.engine)
    assert rows > streams > 12


def test_build_coverage_without_its_database_says_so(db_settings) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    assert build_coverage(db_settings.replace(METADATA_URL=CLOSED_PG), out) == 1
    assert out.getvalue().startswith("ooi_status_monitor: coverage not built: ")


def test_the_progress_bar_redraws_one_line_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    bar = ProgressBar(out)
    for done in range(1, 5):
        bar(done, 4)
    assert out.getvalue().count("\r") == 4 and out.getvalue().endswith("] 4/4 instruments\n")


def test_the_upkeep_step_builds_and_then_only_follows_changes(
    db_settings, metadata_db, monitor_db, now
) -> None:  # type: ignore[no-untyped-def]
    monitor = Monitor(db_settings, clock=lambda: now)
    try:
        assert monitor.coverage(time.monotonic() - 1)  # no time: nothing done, nothing failed
        assert counts(monitor_db.engine) == (0, 0)
        assert monitor.coverage(time.monotonic() + 60)
        built = counts(monitor_db.engine)
        assert monitor.coverage(time.monotonic() + 60)
    finally:
        monitor.close()
    assert built[1] > 12 and counts(monitor_db.engine) == built


def test_an_unreachable_metadata_database_skips_the_upkeep(db_settings, now, caplog) -> None:  # type: ignore[no-untyped-def]
    monitor = Monitor(db_settings.replace(METADATA_URL=CLOSED_PG), clock=lambda: now)
    try:
        assert monitor.coverage(time.monotonic() + 60) is False
    finally:
        monitor.close()
    assert any(r.getMessage().startswith("coverage upkeep skipped: ") for r in caplog.records)


@pytest.mark.parametrize(("seconds_left", "runs"), [(1.0, False), (60.0, True)])
def test_the_upkeep_runs_only_in_the_time_left_before_the_next_round(db_settings, seconds_left, runs) -> None:  # type: ignore[no-untyped-def]
    daemon = Daemon(db_settings.replace(COVERAGE_BUDGET_SECONDS=5.0))
    deadlines: list[float] = []
    daemon.monitor.coverage = lambda deadline: deadlines.append(deadline) or True  # type: ignore[method-assign]
    try:
        daemon._upkeep_coverage(time.time() + seconds_left)
    finally:
        daemon.monitor.close()
    assert bool(deadlines) is runs
    assert all(deadline <= time.monotonic() + 5.0 for deadline in deadlines)
