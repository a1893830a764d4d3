"""The notification step in the daemon: its own transaction after the check round, a
watermark so that nothing is lost when it fails, and the first step after installation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.notify_world import NODE, NODE_INSTRUMENTS, NotifyWorld, build_world
from ooi_status.model.monitor import DeployedStream, NotifyState
from ooi_status.monitor import daemon

HOUR = timedelta(hours=1)


@pytest.fixture
def world(
    db_settings, empty_metadata_db, monitor_db, events_server, smtp_server, now
) -> Iterator[NotifyWorld]:
    settings = smtp_server.settings_for(events_server.settings_for(db_settings))
    built = build_world(empty_metadata_db.engine, monitor_db.engine, settings, now)
    built.step(now)
    built.subscribe(now)
    yield built
    built.close()


def test_a_failing_step_keeps_the_round_and_the_next_step_sends_its_changes(
    world, smtp_server, now, monkeypatch, caplog
):
    real = daemon.notify_round

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the notification step")

    monkeypatch.setattr(daemon, "notify_round", broken)
    world.step(now + HOUR, stale=set(NODE_INSTRUMENTS[:5]))
    assert "notification step failed" in caplog.text
    assert smtp_server.messages == []
    with Session(world.engine) as session:  # the round itself landed
        statuses = session.scalars(select(DeployedStream.status)).all()
        assert sorted(statuses).count("failed") == 5
        assert session.scalar(select(NotifyState.at)) == now  # the watermark did not move
    monkeypatch.setattr(daemon, "notify_round", real)
    world.step(now + 2 * HOUR, stale=set(NODE_INSTRUMENTS[:5]))
    assert [m["Subject"] for m in smtp_server.messages] == [f"[ooi_status] {NODE}: 5 instruments failed"]


def test_the_watermark_follows_the_rounds(world, now):
    world.step(now + HOUR)
    with Session(world.engine) as session:
        assert session.scalar(select(NotifyState.at)) == now + HOUR
