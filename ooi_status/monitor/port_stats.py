"""The port-agent statistics consumer: AMQP_QUEUE → port_count, in a thread of the leading monitor.

Delivery contract (at least once, never a duplicate row):

- messages are taken in batches (PORT_COUNT_BATCH_SIZE, or whatever arrived within
  PORT_COUNT_BATCH_SECONDS); a batch is stored in one transaction, and only once that
  transaction committed is the batch acknowledged (one multiple-ack of its last delivery
  tag). A monitor killed between the commit and the ack gets the batch back from the broker
  on the next connection: the rows are unique on (refdes, end_time), the insert skips the
  ones stored, so nothing is stored twice;
- a bad message (see ooi_status.port_counts) is republished, with ``x-reason`` and
  ``x-detail`` headers, to the dead-letter queue ``<AMQP_QUEUE>.dead`` that the consumer
  declares, committed by the broker (a channel transaction) before its batch commits and is
  acknowledged; its reason is counted in port_stats_rejection (what /metrics shows) and logged
  at most once a minute per reason. The queue itself needs no dead-letter arguments, so a
  queue the port agents already declared is used as it is. A crash between the commit and the ack counts a bad
  message (and dead-letters it) a second time: the counters are at least once too;
- any broker fault (connection refused or cut, broker restart, the queue deleted, a channel
  error) ends the connection; the consumer reconnects after 1 s, doubling up to
  AMQP_RECONNECT_MAX, declares its queues again, and the broker hands back every message it
  had not acknowledged. A monitor database that does not answer is handled the same way:
  nothing is acknowledged, the connection is dropped, messages wait in the queue;
- retention (roll-up of raw counts into hourly sums, pruning) runs every
  PORT_COUNT_UPKEEP_INTERVAL seconds from the same thread, in transactions of
  PORT_COUNT_UPKEEP_BATCH rows, whether or not the broker answers.

While a batch commits, the next one arrives: batches are parsed on the connection's thread
and stored, in order, by a writer thread of the same connection; acknowledgements still go
out on the connection's thread, after the commit. After a failed batch nothing later of that
connection is stored or acknowledged.

Nothing here is shared with the check round: the threads have their own engine and
connections, and the daemon only starts and stops them (as it gains and loses the leader lock).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ooi_status import port_store
from ooi_status.config import Settings
from ooi_status.db import describe_error, make_engine
from ooi_status.port_counts import BadMessage, PortCountRecord, parse_message
from ooi_status.times import utcnow

log = logging.getLogger(__name__)

#: Consumer states, for logs and tests.
IDLE, CONNECTING, CONSUMING, BACKOFF, STOPPED = "idle", "connecting", "consuming", "backoff", "stopped"
#: Seconds between two log lines about the same kind of bad message.
LOG_EVERY = 60.0
BROKER_ERRORS = (pika.exceptions.AMQPError, OSError)


class BrokerCancelled(Exception):
    """The broker ended the consumer (its queue was deleted, say): reconnect and declare again."""


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dead"


class ReasonLog:
    """Logs a bad message at most once per reason per ``every`` seconds, with how many were quiet."""

    def __init__(self, every: float = LOG_EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._last: dict[str, float] = {}
        self._quiet: Counter[str] = Counter()

    def bad(self, exc: BadMessage) -> bool:
        """Log this refusal unless its reason was logged within ``every`` seconds; True when logged."""
        moment = self.clock()
        last = self._last.get(exc.reason)
        if last is not None and moment - last < self.every:
            self._quiet[exc.reason] += 1
            return False
        quiet = self._quiet.pop(exc.reason, 0)
        self._last[exc.reason] = moment
        more = f" ({quiet} more since the last line)" if quiet else ""
        log.warning("port-agent message dead-lettered: %s%s", exc, more)
        return True


@dataclass(frozen=True, slots=True)
class _Batch:
    """A parsed batch: the good records, the bad ones' reasons, the delivery tag to acknowledge."""

    good: list[PortCountRecord]
    reasons: Counter[str]
    last_tag: int


class _Writer:
    """Stores one connection's batches in order, in a thread of its own, while the next arrives.

    A batch is acknowledged only after its transaction committed: the writer hands the ack to
    the connection's thread (pika's ``add_callback_threadsafe``), which sends it. After a
    failure the writer stores nothing more for this connection (a later batch's multiple-ack
    would acknowledge the failed one's messages too); the consumer sees the failure on its next
    message, raises it, and the connection is dropped, so every unacknowledged message comes
    back. At most one batch waits for the writer while it stores another: memory stays bounded
    by the prefetch count.
    """

    def __init__(self, consumer: PortStatsConsumer, channel: BlockingChannel) -> None:
        self._consumer = consumer
        self._channel = channel
        self._connection = channel.connection
        self._batches: queue.Queue[_Batch | None] = queue.Queue(maxsize=1)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="port-stats-writer", daemon=True)
        self._thread.start()

    def submit(self, batch: _Batch) -> None:
        self.raise_failure()
        self._batches.put(batch)

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def drain(self) -> None:
        """Wait until every batch handed over is stored, then send their acks; raises a failure."""
        self._batches.join()
        self.raise_failure()
        self._connection.process_data_events(time_limit=0)  # runs the acks queued by the writer

    def close(self) -> None:
        self._batches.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            batch = self._batches.get()
            try:
                if batch is None:
                    return
                if self._failure is None:
                    self._store(batch)
            finally:
                self._batches.task_done()

    def _store(self, batch: _Batch) -> None:
        try:
            self._consumer.store(batch)
            self._connection.add_callback_threadsafe(
                functools.partial(self._consumer.acknowledge, self._channel, batch)
            )
        except BaseException as exc:  # handed to the consumer's thread, which handles it
            self._failure = exc


class PortStatsConsumer:
    """Consumes AMQP_QUEUE in a thread of its own: ``start()``, ``stop()``."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.clock = clock
        self.queue: str = settings.AMQP_QUEUE
        self.state = IDLE
        self.stored = 0  # messages stored and acknowledged by this consumer (good ones)
        self.rejected = 0  # bad messages dead-lettered and acknowledged
        self.received = 0  # messages taken into a batch (stored, rejected, or to be)
        #: Called after a batch committed, before it is acknowledged (tests kill the process there).
        self.after_commit: Callable[[], None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._engine: Engine | None = None
        self._reasons = ReasonLog()
        self._next_upkeep = 0.0
        self._dead_channel: BlockingChannel | None = None

    # --- the thread --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="port-stats", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to end (it stores and acknowledges its current batch first) and wait."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.MONITOR_URL, self.settings, pool_size=2)
        return self._engine

    def run(self) -> None:
        delay = 1.0
        log.info("port-agent statistics: consuming %s", self.queue)
        try:
            while not self._stop.is_set():
                self.upkeep_if_due()
                if self._serve_one_connection():
                    delay = 1.0
                if self._stop.is_set():
                    break
                self.state = BACKOFF
                self._wait(delay)
                delay = min(delay * 2, float(self.settings.AMQP_RECONNECT_MAX))
        finally:
            self.state = STOPPED
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def _wait(self, seconds: float) -> None:
        """Sleep until the next attempt; retention passes still run meanwhile."""
        deadline = time.monotonic() + seconds
        while not self._stop.wait(min(1.0, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                return
            self.upkeep_if_due()

    def _serve_one_connection(self) -> bool:
        """One connection's life; True when it got as far as consuming."""
        self.state = CONNECTING
        connection = None
        consumed = False
        try:
            connection = pika.BlockingConnection(self._parameters())
            channel = self._declare(connection)
            consumed = True
            self.state = CONSUMING
            self.consume(channel)
        except BrokerCancelled:
            log.warning("port-agent statistics: the broker cancelled the consumer of %s; declaring it again",
                        self.queue)  # fmt: skip
        except BROKER_ERRORS as exc:
            log.warning(
                "port-agent statistics: broker unavailable: %s", describe_error(exc) or type(exc).__name__
            )
        except SQLAlchemyError as exc:
            log.warning("port-agent statistics: monitor database unavailable, nothing acknowledged: %s",
                        describe_error(exc))  # fmt: skip
        except Exception:  # a bug must not end the thread: logged whole, the connection dropped
            log.exception("port-agent statistics consumer failed")
        finally:
            if connection is not None and connection.is_open:
                with contextlib.suppress(*BROKER_ERRORS):
                    connection.close()
        return consumed

    def _parameters(self) -> pika.URLParameters:
        params = pika.URLParameters(self.settings.AMQP_URL)
        params.connection_attempts = 1
        params.socket_timeout = 10
        params.stack_timeout = 15
        params.blocked_connection_timeout = 60
        params.client_properties = {"connection_name": f"ooi_status port-agent statistics ({self.queue})"}
        return params

    def _declare(self, connection: pika.BlockingConnection) -> BlockingChannel:
        channel = connection.channel()
        try:
            channel.queue_declare(self.queue, durable=True)
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code != 406:
                raise
            # The queue exists with other properties (declared by the port agents): use it as it is.
            channel = connection.channel()
            channel.queue_declare(self.queue, passive=True)
        channel.basic_qos(prefetch_count=2 * int(self.settings.PORT_COUNT_BATCH_SIZE))
        # Dead letters go through a transactional channel of their own: a batch's bad messages
        # are published, then committed by the broker in one round trip, before the batch commits.
        self._dead_channel = connection.channel()
        self._dead_channel.queue_declare(dead_letter_queue(self.queue), durable=True)
        self._dead_channel.tx_select()
        return channel

    # --- consuming ---------------------------------------------------------------------------

    def consume(self, channel: BlockingChannel) -> None:
        """Store and acknowledge batches until stopped; raises on any broker or database fault.

        Batches are parsed and dead-lettered here and stored by a writer thread (``_Writer``),
        so that the next batch arrives while the previous one commits.
        """
        size = int(self.settings.PORT_COUNT_BATCH_SIZE)
        wait = float(self.settings.PORT_COUNT_BATCH_SECONDS)
        batch: list[tuple[int, bytes]] = []
        deadline = 0.0
        writer = _Writer(self, channel)
        try:
            for method, _properties, body in channel.consume(self.queue, inactivity_timeout=min(wait, 0.5)):
                writer.raise_failure()
                if method is not None:
                    if not batch:
                        deadline = time.monotonic() + wait
                    batch.append((method.delivery_tag, body))
                    self.received += 1
                if batch and (len(batch) >= size or time.monotonic() >= deadline or self._stop.is_set()):
                    writer.submit(self.prepare(batch))
                    batch = []
                if self._stop.is_set():
                    writer.drain()
                    channel.cancel()
                    return
                if method is None:
                    self.upkeep_if_due()
            # The generator ends when the broker cancelled the consumer: what was received is stored.
            if batch:
                writer.submit(self.prepare(batch))
            writer.drain()
            raise BrokerCancelled
        finally:
            writer.close()

    def prepare(self, batch: list[tuple[int, bytes]]) -> _Batch:
        """Parse a batch and dead-letter its bad messages (committed by the broker before returning)."""
        good: list[PortCountRecord] = []
        reasons: Counter[str] = Counter()
        for _tag, body in batch:
            try:
                good.append(parse_message(body))
            except BadMessage as exc:
                self._dead_letter(body, exc)
                reasons[exc.reason] += 1
                self._reasons.bad(exc)
        if reasons and self._dead_channel is not None:
            self._dead_channel.tx_commit()  # the broker holds the dead letters before anything is acked
        return _Batch(good, reasons, batch[-1][0])

    def flush(self, channel: BlockingChannel, batch: list[tuple[int, bytes]]) -> None:
        """Store one batch and acknowledge it, in this thread: dead letters → rows committed → ack."""
        prepared = self.prepare(batch)
        self.store(prepared)
        self.acknowledge(channel, prepared)

    def store(self, batch: _Batch) -> None:
        """Commit a batch's rows and rejection counts in one transaction (any thread)."""
        with Session(self.engine()) as session, session.begin():
            port_store.store_counts(session, batch.good)
            port_store.record_rejections(session, dict(batch.reasons), self.clock())
        if self.after_commit is not None:
            self.after_commit()

    def acknowledge(self, channel: BlockingChannel, batch: _Batch) -> None:
        """Acknowledge a committed batch (the connection's thread only)."""
        channel.basic_ack(batch.last_tag, multiple=True)
        self.stored += len(batch.good)
        self.rejected += sum(batch.reasons.values())

    def _dead_letter(self, body: bytes, exc: BadMessage) -> None:
        headers: dict[str, Any] = {
            "x-reason": exc.reason,
            "x-detail": exc.detail[:500],
            "x-queue": self.queue,
        }
        assert self._dead_channel is not None
        self._dead_channel.basic_publish(
            "", dead_letter_queue(self.queue), body, pika.BasicProperties(delivery_mode=2, headers=headers)
        )

    # --- retention ---------------------------------------------------------------------------

    def upkeep_if_due(self) -> None:
        if time.monotonic() < self._next_upkeep:
            return
        self._next_upkeep = time.monotonic() + float(self.settings.PORT_COUNT_UPKEEP_INTERVAL)
        try:
            moved, pruned = upkeep(self.engine(), self.settings, self.clock(), self._stop)
        except SQLAlchemyError as exc:
            log.warning("port counts: retention pass skipped: %s", describe_error(exc))
            return
        if moved or pruned:
            log.info(
                "port counts: %d raw counts rolled up into hourly sums, %d hourly sums pruned", moved, pruned
            )


def upkeep(
    engine: Engine, settings: Settings, now: datetime, stop: threading.Event | None = None
) -> tuple[int, int]:
    """One retention pass: roll up, then prune, one bounded transaction at a time; (moved, pruned)."""
    batch = int(settings.PORT_COUNT_UPKEEP_BATCH)
    totals = [0, 0]
    steps = (
        lambda s: port_store.roll_up(s, now, settings.PORT_COUNT_RAW_DAYS, batch),
        lambda s: port_store.prune(s, now, settings.PORT_COUNT_HOURLY_DAYS, batch),
    )
    for index, step in enumerate(steps):
        while stop is None or not stop.is_set():
            with Session(engine) as session, session.begin():
                done = step(session)
            totals[index] += done
            if done < batch:
                break
    return totals[0], totals[1]
