"""``ooi_status_monitor --notify-preview``: what the next round and the next digests would send,
with nothing written and nothing sent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.notify_world import NODE, NODE_INSTRUMENTS, build_world
from ooi_status.model.monitor import DeployedStream, NotifyState, PendingUpdate, StatusHistory
from ooi_status.monitor import cli


def test_preview_prints_the_next_round_and_digests_and_writes_nothing(
    db_settings, empty_metadata_db, monitor_db, events_server, now, capsys
):
    settings = events_server.settings_for(db_settings)
    world = build_world(empty_metadata_db.engine, monitor_db.engine, settings, now)
    try:
        world.step(now)
        world.subscribe(now, target="ops@example.org")
        world.subscribe(now, target="daily@example.org", mode="digest")
        world.set_data(now + timedelta(hours=1), stale=set(NODE_INSTRUMENTS[:5]))
        before = _counts(monitor_db.engine)
        events = len(events_server.requests)
        assert cli.parse_args(["--notify-preview"]).notify_preview
        assert cli.notify_preview(settings, now + timedelta(hours=1)) == 0
    finally:
        world.close()
    out = capsys.readouterr().out
    assert "== Next round: changes since 2026-11-23 12:00 UTC: 1 message(s)" in out
    assert "--- subscription 1: email to ops@example.org" in out
    assert f"Subject: [ooi_status] {NODE}: 5 instruments failed" in out
    assert "== Next daily digests (07:00 UTC): 1 message(s)" in out
    assert "--- subscription 2: email to daily@example.org" in out
    assert "Streams: operational 2, degraded 0, failed 5, not tracked 0" in out
    assert _counts(monitor_db.engine) == before
    assert len(events_server.requests) == events


def _counts(engine) -> tuple:
    with Session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(PendingUpdate)),
            session.scalar(select(func.count()).select_from(StatusHistory)),
            tuple(session.scalars(select(DeployedStream.status).order_by(DeployedStream.id))),
            session.scalar(select(NotifyState.at)),
        )
