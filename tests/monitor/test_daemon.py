"""The daemon's steps, its leader lock, its schedule, and the real process under signals."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ooi_status.model.monitor import DeployedStream, MonitorHeartbeat, PendingUpdate
from ooi_status.monitor.daemon import Daemon, Monitor, next_slot, run_once
from ooi_status.monitor.leader import AdvisoryLock, FileLeaderLock
from ooi_status.times import utcnow

CLOSED_PG = "postgresql+psycopg2://postgres@127.0.0.1:9/nowhere"


def at(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("after", "interval", "offset", "slot"),
    [
        (at(2026, 1, 1, 0, 0, 30), 60, 0, at(2026, 1, 1, 0, 1, 0)),
        (at(2026, 1, 1, 0, 1, 0), 60, 0, at(2026, 1, 1, 0, 2, 0)),  # strictly after
        (at(2026, 1, 1, 0, 0, 5), 60, 10, at(2026, 1, 1, 0, 0, 10)),  # delivery at :10
        (at(2026, 1, 1, 0, 0, 10), 60, 10, at(2026, 1, 1, 0, 1, 10)),
        (at(2026, 1, 1, 0, 7, 0), 300, 0, at(2026, 1, 1, 0, 10, 0)),
    ],
)
def test_rounds_are_aligned_to_the_clock(after, interval, offset, slot):
    assert next_slot(after, interval, offset) == slot


# --- the leader lock ----------------------------------------------------------------------------


def test_file_lock_one_leader_then_the_standby_takes_over(tmp_path: Path):
    first, second = FileLeaderLock(tmp_path / "m.lock"), FileLeaderLock(tmp_path / "m.lock")
    assert first.acquire() and first.acquire()  # taken, then confirmed
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


@pytest.mark.postgres
def test_advisory_lock_is_released_when_its_holder_dies(pg_databases):
    url = pg_databases["monitor"]
    first, second = AdvisoryLock(url), AdvisoryLock(url)
    try:
        assert first.acquire()
        assert not second.acquire()
        admin = create_engine(url)
        with admin.connect() as conn:  # the holder's connection dies (server restart, kill)
            pid = first.conn.connection.dbapi_connection.get_backend_pid()
            # With a timeout, PostgreSQL answers once the backend has ended and its lock is free.
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar()
        admin.dispose()
        assert not first.acquire()  # it notices the loss instead of believing it still leads
        assert second.acquire()
        assert not first.acquire()
    finally:
        first.release()
        second.release()


def test_advisory_lock_on_an_unreachable_server_is_not_taken():
    lock = AdvisoryLock(CLOSED_PG)
    assert not lock.acquire()
    lock.release()


# --- the steps: a round survives its dependencies going away ------------------------------------


def heartbeats(engine) -> dict[str, MonitorHeartbeat]:
    with Session(engine) as session:
        return {beat.kind: beat for beat in session.scalars(select(MonitorHeartbeat))}


def test_check_and_deliver_steps_end_to_end(demo_settings, monitor_db, events_server, now):
    """On the demo observatory: a first round, then three hours without data: streams fail."""
    clock = [now]
    monitor = Monitor(demo_settings, clock=lambda: clock[0])
    try:
        assert monitor.check() and monitor.deliver()
        first_events = len(events_server.requests)
        clock[0] = now + timedelta(hours=3)
        assert monitor.check() and monitor.deliver()
    finally:
        monitor.close()
    with Session(monitor_db.engine) as session:
        events = session.scalars(select(PendingUpdate).order_by(PendingUpdate.id)).all()
        statuses = set(session.scalars(select(DeployedStream.status)))
    assert 0 < first_events < len(events)
    assert {e.state for e in events} == {"delivered"}
    assert [r.body for r in events_server.requests] == [e.message for e in events]
    assert "operational" not in statuses and "failed" in statuses  # some streams only have a warn interval
    later = [e.message for e in events[first_events:]]
    assert {m["status"] for m in later} <= {"failed", "degraded"}
    assert all(re.match(r"\(operational -> (failed|degraded)\) data interval threshold exceeded", m["notes"])
               for m in later)  # fmt: skip
    beats = heartbeats(monitor_db.engine)
    assert beats["check"].ok and beats["check"].streams_checked > 0
    assert beats["deliver"].ok and beats["deliver"].events_delivered == len(events) - first_events


def test_each_round_logs_one_info_line_with_its_figures(demo_settings, now, caplog):
    caplog.set_level("INFO", logger="ooi_status")
    monitor = Monitor(demo_settings, clock=lambda: now)
    try:
        monitor.check()
        caplog.clear()
        monitor.check()  # a steady round: nothing new to announce
    finally:
        monitor.close()
    lines = [r for r in caplog.records if r.levelname == "INFO"]
    assert len(lines) == 1
    assert re.fullmatch(
        r"check round: \d+ streams checked, 0 changes, 0 events queued, 0 skipped, [\d.]+ s",
        lines[0].getMessage(),
    )
    assert not [r for r in caplog.records if r.name.startswith("ooi_status") and r.levelno > 20]


def test_an_unreachable_metadata_database_skips_the_round_and_records_it(
    demo_settings, monitor_db, now, caplog
):
    broken = demo_settings.replace(METADATA_URL=CLOSED_PG)
    monitor = Monitor(broken, clock=lambda: now)
    try:
        assert monitor.check() is False  # no exception: logged, skipped
    finally:
        monitor.close()
    beat = heartbeats(monitor_db.engine)["check"]
    assert not beat.ok and "OperationalError" in beat.error
    assert any("check round skipped" in r.getMessage() for r in caplog.records)
    healed = Monitor(demo_settings, clock=lambda: now + timedelta(seconds=60))
    try:
        assert healed.check()
    finally:
        healed.close()
    assert heartbeats(monitor_db.engine)["check"].ok


def test_an_unreachable_monitor_database_skips_both_rounds(demo_settings, now):
    monitor = Monitor(demo_settings.replace(MONITOR_URL=CLOSED_PG), clock=lambda: now)
    try:
        assert monitor.check() is False
        assert monitor.deliver() is False
    finally:
        monitor.close()


def test_an_unreachable_events_service_keeps_the_events(demo_settings, monitor_db, now):
    monitor = Monitor(demo_settings.replace(NOTIFY_URL_PORT=9), clock=lambda: now)
    try:
        assert monitor.check()
        assert monitor.deliver() is False
    finally:
        monitor.close()
    with Session(monitor_db.engine) as session:
        assert set(session.scalars(select(PendingUpdate.state))) == {"pending"}
    beat = heartbeats(monitor_db.engine)["deliver"]
    assert not beat.ok and "unreachable" in beat.error


def test_run_once_exit_status(demo_settings, now):
    assert run_once(demo_settings, clock=lambda: now) == 0
    assert run_once(demo_settings.replace(NOTIFY_URL_PORT=9), clock=lambda: now + timedelta(minutes=40)) == 1


def test_a_live_demo_round_moves_the_observatory(demo_settings, metadata_db, now):
    from ooi_status.model.metadata import StreamMetadata
    from ooi_status.run_demo import live_step

    with metadata_db.engine.connect() as conn:
        before = conn.execute(select(StreamMetadata.last)).scalars().all()
    monitor = Monitor(demo_settings, clock=lambda: now + timedelta(minutes=5), before_check=live_step(7))
    try:
        assert monitor.check()
    finally:
        monitor.close()
    with metadata_db.engine.connect() as conn:
        after = conn.execute(select(StreamMetadata.last)).scalars().all()
    assert sum(a > b for a, b in zip(after, before, strict=True)) > 0


# --- the process: leader and standby, signals ---------------------------------------------------


def start_monitor(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        command = [sys.executable, "-m", "ooi_status.monitor.cli"]
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def daemon_env(settings, settings_file: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OOISTATUS_SETTINGS": str(settings_file),
        "OOISTATUS_MONITOR_URL": settings.MONITOR_URL,
        "OOISTATUS_METADATA_URL": settings.METADATA_URL,
        "OOISTATUS_DATA_DIR": settings.DATA_DIR,
        "OOISTATUS_NOTIFY_URL_ROOT": settings.NOTIFY_URL_ROOT,
        "OOISTATUS_NOTIFY_URL_PORT": str(settings.NOTIFY_URL_PORT),
        "OOISTATUS_CHECK_INTERVAL": "1",
        "OOISTATUS_NOTIFY_INTERVAL": "1",
        "OOISTATUS_NOTIFY_OFFSET": "0",
        "OOISTATUS_STANDBY_POLL": "1",
    }


@pytest.mark.slow
def test_two_daemons_one_leader_the_standby_takes_over(
    demo_settings, monitor_db, events_server, tmp_path: Path
):
    settings_file = tmp_path / "local.py"
    settings_file.write_text("LOG_LEVEL = 'INFO'\n")
    env = daemon_env(demo_settings, settings_file)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    first = start_monitor(env, logs[0])
    second = None
    try:
        assert wait_for(lambda: "check" in heartbeats(monitor_db.engine)), logs[0].read_text()
        second = start_monitor(env, logs[1])
        assert wait_for(lambda: "standby" in logs[1].read_text()), logs[1].read_text()
        settings_file.write_text("CHECK_INTERVL = 1\n")  # a broken file: SIGHUP keeps the old settings
        first.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "settings not reloaded" in logs[0].read_text()), logs[0].read_text()
        assert first.poll() is None
        settings_file.write_text("LOG_LEVEL = 'INFO'\n")
        # Three more rounds of the leader, a second apart: over those two seconds the standby
        # (polling every second) has tried the lock again, and it still only waits.
        rounds = logs[0].read_text().count("check round:")
        assert wait_for(lambda: logs[0].read_text().count("check round:") >= rounds + 3), logs[0].read_text()
        assert "check round" not in logs[1].read_text()
        first.kill()  # the leader dies without releasing anything
        first.wait(timeout=10)
        died = utcnow()
        assert wait_for(lambda: "leader" in logs[1].read_text()), logs[1].read_text()
        assert wait_for(lambda: heartbeats(monitor_db.engine)["check"].started_at > died)
        assert "check round" in logs[1].read_text()
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
        assert "stopped" in logs[1].read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_daemon_outlives_its_metadata_database(demo_settings, monitor_db, events_server, tmp_path: Path):
    """The metadata database refuses connections for a while: rounds fail, the daemon stays, recovers."""
    settings_file = tmp_path / "local.py"
    settings_file.write_text("LOG_LEVEL = 'INFO'\n")
    log = tmp_path / "monitor.log"
    process = start_monitor(daemon_env(demo_settings, settings_file), log)
    name = make_url(demo_settings.METADATA_URL).database
    admin = create_engine(
        make_url(demo_settings.METADATA_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        assert wait_for(lambda: (b := heartbeats(monitor_db.engine).get("check")) is not None and b.ok), (
            log.read_text()
        )
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
        assert wait_for(lambda: not heartbeats(monitor_db.engine)["check"].ok), log.read_text()
        assert process.poll() is None
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert wait_for(lambda: heartbeats(monitor_db.engine)["check"].ok), log.read_text()
        assert "check round skipped" in log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.slow
def test_a_stop_signal_during_start_up_exits_0(settings, tmp_path: Path):
    """SIGTERM while the monitor is still starting (here: migrating a database that accepted the
    connection and says nothing) is a stop like any other: exit status 0, not 143."""
    silent = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    silent.settimeout(30)
    env = {
        **os.environ,
        "OOISTATUS_MONITOR_URL": f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/monitor",
        "OOISTATUS_METADATA_URL": f"sqlite:///{tmp_path / 'metadata.sqlite'}",
        "OOISTATUS_DATA_DIR": settings.DATA_DIR,
        "OOISTATUS_AUTO_MIGRATE": "always",
        "OOISTATUS_LOG_LEVEL": "INFO",
    }
    log = tmp_path / "monitor.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ooi_status.monitor.entry"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        accepted.append(silent.accept()[0])  # the monitor is past its imports, migrating
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # not a timing assertion: the signal is delivered, the start-up goes on
        for connection in accepted:
            connection.close()  # the database goes away: the migration gives up
        silent.close()
        assert process.wait(timeout=60) == 0, log.read_text()
        assert "stopped" in log.read_text()
    finally:
        silent.close()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_slow_events_service_never_holds_up_check_rounds(demo_settings, events_server, tmp_path: Path):
    """The events service answers 201, but only when the test lets it: while that one delivery
    is in flight, check rounds go on at their schedule (counted, not timed)."""
    in_flight, release = threading.Event(), threading.Event()
    posts: list[str] = []

    def slow(path, body):
        posts.append(path)
        in_flight.set()
        release.wait(120)
        return 201

    events_server.responder = slow
    settings = demo_settings.replace(
        CHECK_INTERVAL=1, NOTIFY_INTERVAL=1, NOTIFY_OFFSET=0, NOTIFY_TIMEOUT=120, SHUTDOWN_GRACE=5
    )
    checks: list[datetime] = []
    daemon = Daemon(settings, before_check=lambda _engine, now: checks.append(now))
    outcome: list[int] = []
    loop = threading.Thread(target=lambda: outcome.append(daemon.run()), name="daemon")
    loop.start()
    try:
        assert wait_for(in_flight.is_set), "no delivery started"
        during = len(checks)
        assert wait_for(lambda: len(checks) >= during + 3), f"check rounds stopped at {during}"
        assert len(posts) == 1 and not release.is_set()  # meanwhile: the one delivery, still in flight
    finally:
        release.set()
        daemon.stop.set()
        daemon.wake.set()
        loop.join(60)
    assert outcome == [0]
    assert not daemon.deliverer.running


def test_a_delivery_round_outliving_its_stop_does_not_end_deliveries(settings):
    """A reload stops the delivery thread and starts it again; one still in a hung round when
    the reload gives up waiting must not leave the monitor without deliveries."""
    daemon = Daemon(settings.replace(NOTIFY_INTERVAL=1, NOTIFY_OFFSET=0))
    release, rounds = threading.Event(), []

    def deliver() -> bool:
        rounds.append(threading.current_thread().ident)
        release.wait(30)
        return True

    daemon.monitor.deliver = deliver  # type: ignore[method-assign]  # the thread is the subject here
    try:
        daemon.deliverer.start()
        assert wait_for(lambda: len(rounds) == 1)
        assert not daemon.deliverer.stop(0.1)  # still in its round
        daemon.deliverer.start()
        release.set()
        assert wait_for(lambda: len(set(rounds)) == 2)  # a second thread delivers
        assert daemon.deliverer.stop(30)
    finally:
        release.set()
        daemon.deliverer.stop(30)
        daemon.monitor.close()
