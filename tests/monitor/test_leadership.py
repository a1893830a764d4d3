"""Fenced leadership: a monitor that lost the leader lock without knowing never commits a round.

The split brain these tests reproduce: the connection holding the leader's advisory lock dies
while the leader's round runs on another connection; a standby takes the lock and checks; the
old round then reaches its commit. Without a fence both rounds record the same changes.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from ooi_status.model.monitor import EVENTS_SINK, PENDING, MonitorLeader, PendingUpdate, StatusHistory
from ooi_status.monitor.daemon import Daemon, Monitor
from ooi_status.monitor.leader import AdvisoryLock, FileLeaderLock, Leadership, make_leadership


def terminate_lock_backend(leadership: Leadership, url: str) -> None:
    """The lock holder's backend dies (a killed backend, a network blip), its process lives on."""
    lock = leadership.lock
    assert isinstance(lock, AdvisoryLock) and lock.conn is not None
    pid = lock.conn.connection.dbapi_connection.get_backend_pid()  # type: ignore[union-attr]
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            # With a timeout, PostgreSQL answers once the backend has ended and its locks are free.
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar()
    finally:
        admin.dispose()


def lose_the_lock(leadership: Leadership, url: str) -> None:
    """The leader loses its lock without being told: PostgreSQL backend killed; lock file removed."""
    if isinstance(leadership.lock, FileLeaderLock):
        leadership.lock.path.unlink()
    else:
        terminate_lock_backend(leadership, url)


def history_and_events(engine) -> tuple[list[StatusHistory], list[PendingUpdate]]:
    with Session(engine) as session:
        history = list(session.scalars(select(StatusHistory).order_by(StatusHistory.id)))
        events = list(
            session.scalars(
                select(PendingUpdate).where(PendingUpdate.sink == EVENTS_SINK).order_by(PendingUpdate.id)
            )
        )
    return history, events


def assert_one_row_and_one_event_per_change(
    history: list[StatusHistory], events: list[PendingUpdate]
) -> None:
    per_stream_and_time = Counter((h.deployed_stream_id, h.changed_at) for h in history)
    assert max(per_stream_and_time.values()) == 1
    chains: dict[int, str] = {}
    for row in history:  # each stream's history is one chain: old = the previous new
        assert row.old_status == chains.get(row.deployed_stream_id, "notTracked"), row.deployed_stream_id
        chains[row.deployed_stream_id] = row.new_status
    assert len(events) == len(history)
    assert Counter(e.deployed_stream_id for e in events) == Counter(h.deployed_stream_id for h in history)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_split_brain_round_held_at_commit_records_each_change_once(demo_settings, monitor_db, now):
    """The leader's round is held at its commit; its lock backend is terminated; the standby
    takes the lock and checks; the held round then goes on: exactly one history row and one
    event per change, and the overtaken monitor steps down."""
    clock = [now]
    first, second = make_leadership(demo_settings), make_leadership(demo_settings)
    reached, go = threading.Event(), threading.Event()
    go.set()

    def held_fence(session: Session) -> None:
        reached.set()
        assert go.wait(30)
        first.fence(session)

    old = Monitor(demo_settings, clock=lambda: clock[0], fence=held_fence)
    new = Monitor(demo_settings, clock=lambda: clock[0], fence=second.fence)
    outcomes: dict[str, bool] = {}
    try:
        assert first.acquire() and not second.acquire()
        assert old.check()  # the first statuses, committed normally
        before, _ = history_and_events(monitor_db.engine)
        clock[0] = now + timedelta(hours=3)
        reached.clear()
        go.clear()
        held = threading.Thread(target=lambda: outcomes.update(old=old.check()))
        held.start()
        assert reached.wait(60)  # the old leader's round wrote its changes, and waits at its commit
        terminate_lock_backend(first, monitor_db.url)
        assert second.acquire()  # the standby takes the lock (and a new epoch) at once
        standby = threading.Thread(target=lambda: outcomes.update(new=new.check()))
        standby.start()  # its round waits for the rows the held round changed
        go.set()
        held.join(60)
        standby.join(60)
    finally:
        go.set()
        old.close()
        new.close()
        second.release()
        first.release()
    assert outcomes == {"old": False, "new": True}
    assert old.overtaken.is_set() and not new.overtaken.is_set()
    history, events = history_and_events(monitor_db.engine)
    assert len(history) > len(before)  # streams failed in those three hours
    assert_one_row_and_one_event_per_change(history, events)


def test_an_overtaken_monitor_commits_no_round_and_steps_down(demo_settings, monitor_db, now, events_server):
    """PostgreSQL: the lock backend dies; SQLite: the lock file is removed. Another monitor takes
    the lock: the first one's check, notification and delivery rounds commit nothing."""
    clock = [now]
    first, second = make_leadership(demo_settings), make_leadership(demo_settings)
    old = Monitor(demo_settings, clock=lambda: clock[0], fence=first.fence)
    new = Monitor(demo_settings, clock=lambda: clock[0], fence=second.fence)
    try:
        assert first.acquire()
        assert old.check()
        queued = history_and_events(monitor_db.engine)[1]
        assert queued and {e.state for e in queued} == {PENDING}
        lose_the_lock(first, monitor_db.url)
        assert second.acquire()
        assert second.epoch == (first.epoch or 0) + 1
        clock[0] = now + timedelta(hours=3)

        assert not old.check()
        assert not old.deliver()  # claims nothing, sends nothing
        assert old.overtaken.is_set()
        assert events_server.requests == []
        history, events = history_and_events(monitor_db.engine)
        assert len(events) == len(queued) and {e.state for e in events} == {PENDING}

        assert not first.acquire()  # it notices the lost lock and cannot take the new one
        assert new.check() and new.deliver()
        epoch = second.epoch
    finally:
        old.close()
        new.close()
        second.release()
        first.release()
    history, events = history_and_events(monitor_db.engine)
    assert_one_row_and_one_event_per_change(history, events)
    assert len(events_server.requests) == len(events)
    with Session(monitor_db.engine) as session:
        leader = session.get(MonitorLeader, 1)
    assert leader is not None and leader.epoch == epoch and leader.holder


def test_file_lock_replaced_under_its_holder_is_lost(tmp_path: Path):
    path = tmp_path / "monitor.lock"
    first, second = FileLeaderLock(path), FileLeaderLock(path)
    try:
        assert first.acquire()
        path.unlink()  # a cleaner removes it: another monitor can lock a new file there
        assert second.acquire()
        assert not first.acquire()  # the first notices, and cannot lock the new file
        second.release()
        assert first.acquire()
    finally:
        first.release()
        second.release()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_daemon_steps_down_when_a_round_finds_it_overtaken(demo_settings, monitor_db, caplog):
    """The daemon's loop: its lock file is removed and another monitor takes the lead; the next
    round is rolled back, the daemon steps down and waits as a standby."""
    caplog.set_level("INFO", logger="ooi_status")
    settings = demo_settings.replace(CHECK_INTERVAL=1, NOTIFY_INTERVAL=1, NOTIFY_OFFSET=0, STANDBY_POLL=1)
    checks: list[object] = []
    daemon = Daemon(settings, before_check=lambda _engine, now: checks.append(now))
    loop = threading.Thread(target=daemon.run, name="daemon")
    other = make_leadership(settings)
    loop.start()
    try:
        assert wait_for(lambda: len(checks) >= 2)
        lose_the_lock(daemon.leadership, monitor_db.url)
        assert other.acquire()
        assert wait_for(lambda: "stepping down" in caplog.text), caplog.text
        assert wait_for(lambda: "standby" in caplog.text), caplog.text
        # Whichever round commits first after the loss is rolled back: the check round or the
        # delivery thread's claim, as the threads happen to run.
        assert re.search(r"(check|notification|deliver) round rolled back: ", caplog.text), caplog.text
        assert daemon.leadership.epoch is None and not daemon.deliverer.running
    finally:
        daemon.stop.set()
        daemon.wake.set()
        loop.join(60)
        other.release()
    history, events = history_and_events(monitor_db.engine)
    assert_one_row_and_one_event_per_change(history, events)


def wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
