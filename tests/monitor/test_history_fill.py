"""The daemon's check transaction fills the cumulative seconds of the history (the uptime report's)."""

from __future__ import annotations

from datetime import timedelta

from api.factories import deployed, expected, history
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ooi_status.model.monitor import StatusHistory
from ooi_status.monitor.daemon import Monitor
from ooi_status.reports.uptime import _cumulative_statement, uptime


def _unfilled(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(StatusHistory).where(StatusHistory.cum_operational.is_(None))
    )


def test_the_check_step_fills_the_rows_of_its_round_and_any_other(demo_settings, monitor_db, now):  # type: ignore[no-untyped-def]
    with Session(monitor_db.engine) as session, session.begin():
        stream = deployed(
            session, "CE01ISSM-MFD35-04-ADCPTM000", expected(session, "written_by_hand"), "failed"
        )
        history(session, stream, [("notTracked", "operational", now - timedelta(hours=5))])
        history(session, stream, [("operational", "failed", now - timedelta(hours=6))])  # out of order
    clock = [now]
    monitor = Monitor(demo_settings, clock=lambda: clock[0])
    try:
        assert monitor.check()
        clock[0] = now + timedelta(hours=3)  # no data for three hours: streams fail
        assert monitor.check()
    finally:
        monitor.close()
    start, stop = now - timedelta(hours=8), now + timedelta(hours=3)
    with Session(monitor_db.engine) as session:
        assert _unfilled(session) == 0
        rows = uptime(session, start, stop, "stream")
        statement, params = _cumulative_statement(session, start, stop)
        fast = [row for row in session.execute(statement, params) if not row.slow]
        assert len(fast) == len(rows) > 1  # every one from the cumulative seconds
        assert rows == uptime(session, start, stop, "stream", cumulative=False)
        assert session.scalar(select(func.count()).select_from(StatusHistory)) > 2  # the rounds wrote some
        (hand,) = [row for row in rows if row["stream"] == "written_by_hand"]
        # Operational before -6 h (the first row's old status), failed -6 h .. -5 h, then operational.
        assert (hand["operational"], hand["failed"], hand["notTracked"]) == (10 * 3600, 3600, 0)
