"""The monitor daemon: step functions for one check and one delivery, and the loop around them.

``Monitor.check()`` and ``Monitor.deliver()`` each run one round and return whether every
dependency answered; a database, Cassandra or events service that is down, slow or
erroring makes the round log one line and end, and the next round tries again. The loop
(``Daemon.run``) only schedules them, holds the leader lock, and handles signals:

- checks at every multiple of CHECK_INTERVAL (60: at :00 of each minute), deliveries
  NOTIFY_OFFSET seconds after each multiple of NOTIFY_INTERVAL; a monitor that becomes the
  leader checks at once rather than waiting for the next slot;
- deliveries run in a thread of their own (``Deliverer``) while this monitor leads, so a slow
  events service never holds up a check: a delivery round has its own budget (no POST starts
  after CLAIM_LEASE / 2, each POST gives up after NOTIFY_TIMEOUT), and a round still running
  at its next slot only makes that slot wait;
- a round that finds another monitor's leadership epoch (ooi_status.monitor.leader) is rolled
  back and the monitor steps down to standby;
- SIGTERM/SIGINT: the current rounds finish, the lock is released, exit status 0; a round
  still running SHUTDOWN_GRACE seconds after the signal is abandoned (its transaction rolls
  back, nothing is lost: the next monitor sees the same changes; a delivery's claims expire);
- SIGHUP: settings are read again; a bad settings file is logged and the old settings kept;
- with AMQP_URL set, the port-agent statistics consumer (monitor/port_stats.py) runs in a
  thread of its own while this monitor leads: started when it takes the lock, stopped when
  it loses it or stops. The rounds never call it and never wait for it.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ooi_status.config import Settings, SettingsError, load_settings
from ooi_status.db import Databases, describe_error
from ooi_status.logs import setup_logging
from ooi_status.monitor.check import CheckMemory, MonitorSource, run_round
from ooi_status.monitor.delivery import deliver_due
from ooi_status.monitor.heartbeat import CHECK, DELIVER, write_heartbeat
from ooi_status.monitor.leader import Leadership, NotLeader, make_leadership
from ooi_status.monitor.notify import notify_round, queue_digests
from ooi_status.monitor.port_stats import PortStatsConsumer
from ooi_status.monitor.sinks import Sinks
from ooi_status.reports.coverage_upkeep import CoverageSources, UpkeepMemory, run_upkeep
from ooi_status.reports.uptime import fill_cumulative
from ooi_status.sources import SourceUnavailable, deployment_source, stream_source
from ooi_status.times import utcnow

log = logging.getLogger("ooi_status.monitor")

#: Seconds kept free before the next round when the coverage upkeep takes its turn.
COVERAGE_MARGIN = 2.0
#: Failures of a dependency: the round is skipped with one log line.
DEPENDENCY_ERRORS = (SourceUnavailable, SQLAlchemyError, OSError)

#: A step run before each check round with the metadata engine and the round's time; the demo
#: moves its synthetic observatory forward with one (ooi_status.run_demo), production has none.
BeforeCheck = Callable[[Engine, datetime], object]
#: The last statement of a round's transaction: raises NotLeader when this monitor was overtaken
#: (ooi_status.monitor.leader.Leadership.fence). None: no fence (tests, previews).
Fence = Callable[[Session], None]


class Monitor:
    """One process's databases, sources and events client, made on first use."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        before_check: BeforeCheck | None = None,
        fence: Fence | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.before_check = before_check
        self.fence = fence
        self.databases = Databases(settings)
        self.memory = CheckMemory()
        #: The coverage_stream rows read by the last upkeep round: the next reads those written since.
        self.coverage_memory = UpkeepMemory()
        #: Set when a round found that another monitor took the lead: the daemon steps down.
        self.overtaken = threading.Event()
        self._source: MonitorSource | None = None
        self._client: Sinks | None = None

    def source(self) -> MonitorSource:
        if self._source is None:
            self._source = MonitorSource(
                stream_source(self.settings, self.databases), deployment_source(self.databases)
            )
        return self._source

    def client(self) -> Sinks:
        if self._client is None:
            self._client = Sinks(self.settings)
        return self._client

    def check(self) -> bool:
        """One check round; True when it landed."""
        now = self.clock()
        started = time.monotonic()
        try:
            if self.before_check is not None:
                self.before_check(self.databases.metadata, now)
            with self.databases.monitor_session() as session, session.begin():
                report = run_round(self.source(), session, now, self.settings, self.memory)
                # The cumulative seconds of the round's history rows (and of any written
                # otherwise), read by the uptime report: one index probe when none is missing.
                fill_cumulative(session)
                self._fence(session)
        except NotLeader as exc:
            return self._overtaken(CHECK, exc)
        except DEPENDENCY_ERRORS as exc:
            return self._failed(CHECK, now, started, describe_error(exc))
        except Exception as exc:  # a bug must not stop the monitor: logged whole, round skipped
            log.exception("check round failed")
            return self._failed(CHECK, now, started, describe_error(exc))
        log.info(
            "check round: %d streams checked, %d changes, %d events queued, %d skipped, %.2f s",
            report.streams_checked, report.changes, report.events_queued, report.skipped, report.duration,
        )  # fmt: skip
        self.notify(now)
        return True

    def notify(self, now: datetime) -> bool:
        """Messages for people after a check round, and the digests due: their own transaction,
        so that a failure here never undoes the round (the next step picks its changes up)."""
        try:
            with self.databases.monitor_session() as session, session.begin():
                notify_round(session, now, self.settings)
                queue_digests(session, now, self.settings)
                self._fence(session)
        except NotLeader as exc:
            return self._overtaken("notification", exc)
        except DEPENDENCY_ERRORS as exc:
            log.error("notification step skipped: %s", describe_error(exc))
            return False
        except Exception:  # a bug must not stop the monitor: logged whole, tried again next round
            log.exception("notification step failed")
            return False
        return True

    def coverage(self, deadline: float) -> bool:
        """Coverage upkeep until ``deadline`` (time.monotonic()); True when its sources answered."""
        now = self.clock()
        source = self.source()
        try:
            report = run_upkeep(
                self.databases.monitor_session, CoverageSources(source.streams, source.deployments),
                now, self.settings, deadline, memory=self.coverage_memory,
            )  # fmt: skip
        except DEPENDENCY_ERRORS as exc:
            log.error("coverage upkeep skipped: %s", describe_error(exc))
            return False
        except Exception:  # a bug must not stop the monitor
            log.exception("coverage upkeep failed")
            return False
        if report.streams or report.removed or report.remaining:
            log.info(
                "coverage: %d streams of %d instruments recomputed (%d whole), %d removed, "
                "%d instruments left for later rounds, %.2f s",
                report.streams, report.instruments, report.whole, report.removed, report.remaining,
                report.duration,
            )  # fmt: skip
        return True

    def deliver(self) -> bool:
        """One delivery round; True when the database and every sink answered."""
        now = self.clock()
        started = time.monotonic()
        try:
            with self.databases.monitor_session() as session:
                report = deliver_due(session, self.client(), now, self.settings, fence=self._fence)
                with session.begin():
                    write_heartbeat(
                        session, DELIVER, now, time.monotonic() - started, ok=not report.unreachable,
                        error=_unreachable(report.unreachable), events_delivered=report.delivered,
                        events_failed=report.failed, events_dead=report.dead,
                    )  # fmt: skip
                    self._fence(session)
        except NotLeader as exc:
            return self._overtaken(DELIVER, exc)
        except DEPENDENCY_ERRORS as exc:
            return self._failed(DELIVER, now, started, describe_error(exc))
        except Exception as exc:
            log.exception("delivery round failed")
            return self._failed(DELIVER, now, started, describe_error(exc))
        return not report.unreachable

    def _fence(self, session: Session) -> None:
        if self.fence is not None:
            self.fence(session)

    def _overtaken(self, kind: str, exc: NotLeader) -> bool:
        """A round of a monitor that no longer leads: rolled back, no heartbeat (the heartbeat
        is the leader's); the daemon steps down."""
        log.warning("%s round rolled back: %s", kind, exc)
        self.overtaken.set()
        return False

    def _failed(self, kind: str, now: datetime, started: float, error: str) -> bool:
        """Log one line and record the failed round where the monitor database still answers."""
        log.error("%s round skipped: %s", kind, error)
        try:
            with self.databases.monitor_session() as session, session.begin():
                write_heartbeat(session, kind, now, time.monotonic() - started, ok=False, error=error[:2000])
        except DEPENDENCY_ERRORS as exc:
            log.debug("heartbeat not written: %s", describe_error(exc))
        return False

    def close(self) -> None:
        if self._source is not None:
            self._source.streams.close()
        if self._client is not None:
            self._client.close()
        self.databases.dispose()


def _unreachable(sinks: list[str]) -> str | None:
    return f"unreachable: {', '.join(sinks)}" if sinks else None


def next_slot(after: float, interval: float, offset: float = 0.0) -> float:
    """The first moment ``k × interval + offset`` (Unix seconds) strictly after ``after``."""
    return (math.floor((after - offset) / interval) + 1) * interval + offset


class ShutdownTimeout(BaseException):
    """A round outlived SHUTDOWN_GRACE after a stop signal (BaseException: no handler swallows it)."""


class Daemon:
    """The loop: leader lock, schedule, signals. ``run()`` returns the exit status."""

    def __init__(
        self,
        settings: Settings,
        reload: Callable[[], Settings] = load_settings,
        clock: Callable[[], datetime] = utcnow,
        before_check: BeforeCheck | None = None,
    ) -> None:
        self.settings = settings
        self.reload_settings = reload
        self.clock = clock
        self.before_check = before_check
        self.leadership: Leadership = make_leadership(settings)
        self.monitor = self._new_monitor(settings)
        self.stop = threading.Event()
        self.wake = threading.Event()  # set by a signal: the current wait ends early
        self._reload = False
        self._stop_deadline = float("inf")  # time.monotonic() when SHUTDOWN_GRACE runs out
        self.port_stats = port_stats_consumer(settings, clock)
        self.deliverer = Deliverer(self)

    # --- signals ---------------------------------------------------------------------------

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        signal.signal(signal.SIGALRM, self._on_alarm)

    def request_stop(self, signum: int) -> None:
        """A stop signal that came before the handlers were installed (see monitor/entry.py)."""
        self._on_stop(signum, None)

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stop.is_set():
            log.info("%s: stopping after the current round", signal.Signals(signum).name)
            self.stop.set()
            self.wake.set()
            self._stop_deadline = time.monotonic() + self.settings.SHUTDOWN_GRACE
            signal.alarm(max(1, int(self.settings.SHUTDOWN_GRACE)))

    def _on_hup(self, _signum: int, _frame: FrameType | None) -> None:
        self._reload = True
        self.wake.set()

    def _on_alarm(self, _signum: int, _frame: FrameType | None) -> None:
        raise ShutdownTimeout

    # --- the loop --------------------------------------------------------------------------

    def _wait(self, seconds: float) -> None:
        if not (self.stop.is_set() or self._reload):
            self.wake.wait(max(0.0, seconds))
        self.wake.clear()

    def run(self) -> int:
        leader = False
        next_check = 0.0
        try:
            while not self.stop.is_set():
                if self._reload:
                    self._apply_reload()
                stepped_down = self.monitor.overtaken.is_set()
                if stepped_down:
                    self._step_down()
                if not self.leadership.acquire():
                    if leader or next_check == 0.0:
                        log.info("standby: another monitor holds the leader lock; polling every %s s",
                                 self.settings.STANDBY_POLL)  # fmt: skip
                        next_check = -1.0
                    leader = False
                    self._stop_helpers(self.settings.SHUTDOWN_GRACE)
                    self._wait(self.settings.STANDBY_POLL)
                    continue
                if not leader or stepped_down:  # (stepped down, and the lock was free again)
                    log.info("leader: checking every %s s", self.settings.CHECK_INTERVAL)
                    leader, next_check = True, time.time()
                    self._start_helpers()
                next_check = self._due_check(next_check)
                self._wait(next_check - time.time())
        except ShutdownTimeout:
            log.warning(
                "a round outlived SHUTDOWN_GRACE (%s s): abandoned, rolled back", self.settings.SHUTDOWN_GRACE
            )
        finally:
            signal.alarm(0)
            if not self._stop_helpers(max(1.0, min(self._stop_deadline - time.monotonic(),
                                                   self.settings.SHUTDOWN_GRACE))):  # fmt: skip
                log.warning("a delivery round outlived SHUTDOWN_GRACE: abandoned (its claims expire)")
            self.leadership.release()
            self.monitor.close()
        log.info("stopped")
        return 0

    def _start_helpers(self) -> None:
        """What runs beside the check rounds while this monitor leads: deliveries, and the
        port-agent statistics consumer when AMQP_URL is set."""
        if self.stop.is_set():
            return
        self.deliverer.start()
        if self.port_stats is not None and not self.port_stats.running:
            self.port_stats.start()

    def _stop_helpers(self, timeout: float) -> bool:
        """Stop them, waiting at most ``timeout`` s for a delivery round; False if one still runs."""
        stopped = self.deliverer.stop(timeout)
        self._stop_port_stats()
        return stopped

    def _new_monitor(self, settings: Settings) -> Monitor:
        # The fence reads self.leadership when called: a reload may replace it.
        return Monitor(settings, self.clock, self.before_check, fence=lambda s: self.leadership.fence(s))

    def _step_down(self) -> None:
        """A round found another monitor's epoch: give the lock up and wait as a standby (the
        next acquire() takes the lock and a new epoch again if it is free)."""
        log.warning("another monitor took the lead: stepping down")
        self._stop_helpers(self.settings.SHUTDOWN_GRACE)
        self.monitor.overtaken.clear()
        self.leadership.release()

    def _stop_port_stats(self) -> None:
        if self.port_stats is not None and self.port_stats.running:
            self.port_stats.stop(self.settings.SHUTDOWN_GRACE)

    def _due_check(self, next_check: float) -> float:
        if time.time() >= next_check and not self.stop.is_set():
            self.monitor.check()
            next_check = next_slot(time.time(), self.settings.CHECK_INTERVAL)
            self._upkeep_coverage(next_check)
        return next_check

    def _upkeep_coverage(self, next_round: float) -> None:
        """Coverage upkeep in the time left before the next round (Unix seconds), at most
        COVERAGE_BUDGET_SECONDS; it stops between instruments, so it never delays a check by more
        than one instrument's work."""
        left = min(self.settings.COVERAGE_BUDGET_SECONDS, next_round - time.time() - COVERAGE_MARGIN)
        if left > 0 and not self.stop.is_set():
            self.monitor.coverage(time.monotonic() + left)

    def _apply_reload(self) -> None:
        self._reload = False
        try:
            settings = self.reload_settings()
        except SettingsError as exc:
            log.error("SIGHUP: settings not reloaded, keeping the current ones: %s", exc)
            return
        log.info("SIGHUP: settings reloaded from %s", settings.source)
        configure_logging(settings)
        delivering = self.deliverer.running
        self.deliverer.stop(self.settings.SHUTDOWN_GRACE)  # it uses the monitor closed below
        self.monitor.close()
        old, self.settings = self.settings, settings
        self.monitor = self._new_monitor(settings)
        was_consuming = self.port_stats is not None and self.port_stats.running
        self._stop_port_stats()
        self.port_stats = port_stats_consumer(settings, self.clock)
        if (old.MONITOR_URL, old.LOCK_FILE) != (settings.MONITOR_URL, settings.LOCK_FILE):
            self.leadership.release()
            self.leadership = make_leadership(settings)
        # Still the leader as far as the loop knows: the next acquire() stops it if not.
        if was_consuming and self.port_stats is not None:
            self.port_stats.start()
        if delivering:
            self.deliverer.start()


class Deliverer:
    """Delivery rounds in a thread of their own, at NOTIFY_OFFSET after each multiple of
    NOTIFY_INTERVAL, while the daemon leads. A round still running at its next slot makes that
    slot wait (one round at a time); check rounds never wait for it."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running and not self._stop.is_set():
            return
        # Each thread its own stop: one still finishing its round after stop() ends after it.
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), name="delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Ask the thread to stop after its current round; True once it has."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(max(0.0, timeout))
            if self._thread.is_alive():
                return False
            self._thread = None
        return True

    def _run(self, stop: threading.Event) -> None:
        daemon = self.daemon
        while not stop.is_set():
            settings = daemon.settings
            due = next_slot(time.time(), settings.NOTIFY_INTERVAL, settings.NOTIFY_OFFSET)
            if stop.wait(max(0.0, due - time.time())):
                return
            monitor = daemon.monitor
            try:
                monitor.deliver()
            except Exception:  # a bug must not end deliveries: logged whole, tried next slot
                log.exception("delivery round failed")
            if monitor.overtaken.is_set():
                daemon.wake.set()  # the loop steps down
                return


def port_stats_consumer(settings: Settings, clock: Callable[[], datetime]) -> PortStatsConsumer | None:
    """The consumer of port-agent statistics when AMQP_URL is set (not started)."""
    return PortStatsConsumer(settings, clock) if settings.AMQP_URL else None


def run_once(
    settings: Settings, clock: Callable[[], datetime] = utcnow, before_check: BeforeCheck | None = None
) -> int:
    """One check and one delivery (``--once``): 0 when every dependency answered, else 1."""
    leadership = make_leadership(settings)
    if not leadership.acquire():
        log.error("another monitor holds the leader lock: nothing done")
        return 1
    monitor = Monitor(settings, clock, before_check, fence=leadership.fence)
    try:
        checked = monitor.check()
        delivered = monitor.deliver()
    finally:
        leadership.release()
        monitor.close()
    return 0 if checked and delivered else 1


def configure_logging(settings: Settings) -> None:
    setup_logging(settings.LOG_FORMAT, settings.LOG_LEVEL, "monitor")
