"""The port-agent statistics consumer against the real RabbitMQ broker, on both databases.

Every test has a queue of its own (the ``amqp_queue`` fixture deletes it after). Waiting is
by polling a condition with a generous limit; no test asserts a duration.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pika
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ooi_status import demo, port_store
from ooi_status.model.monitor import MonitorHeartbeat, PortCount
from ooi_status.monitor.daemon import Daemon
from ooi_status.monitor.expected import read_expected_csv, upsert_expected
from ooi_status.monitor.leader import make_lock
from ooi_status.monitor.port_stats import BACKOFF, CONNECTING, CONSUMING, PortStatsConsumer, dead_letter_queue

LIMIT = 60.0  # seconds a condition may take before the test fails (never a measured figure)
START = 1_796_030_000


def message(refdes: str = "CE01ISSM-MFD35-04-ADCPTM000", i: int = 0, **fields: object) -> bytes:
    body = {"reference_designator": refdes, "bytes_in": 100 + i, "bytes_out": 0, "end_time": START + 10 * i,
            "elapsed": 10.0, "adds": 0, "num_clients": {"client": 1}, **fields}  # fmt: skip
    return json.dumps(body).encode()


def wait_for(condition: Callable[[], bool], what: str, limit: float = LIMIT) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {limit} s: {what}")
        time.sleep(0.05)


class Broker:
    """A publishing connection of the test's own."""

    def __init__(self, url: str, queue: str) -> None:
        self.url, self.queue = url, queue
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.queue_declare(queue, durable=True)
        self.channel.queue_declare(dead_letter_queue(queue), durable=True)

    def publish(self, *bodies: bytes) -> None:
        for body in bodies:
            self.channel.basic_publish("", self.queue, body, pika.BasicProperties(delivery_mode=2))

    def depth(self, queue: str | None = None) -> int:
        return self.channel.queue_declare(queue or self.queue, passive=True).method.message_count

    def dead_letters(self) -> list[tuple[dict, bytes]]:
        found = []
        while True:
            method, properties, body = self.channel.basic_get(dead_letter_queue(self.queue), auto_ack=True)
            if method is None:
                return found
            found.append((properties.headers, body))

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


@pytest.fixture
def consumer_settings(db_settings, amqp_url, amqp_queue):
    return db_settings.replace(AMQP_URL=amqp_url, AMQP_QUEUE=amqp_queue, PORT_COUNT_BATCH_SIZE=20,
                               PORT_COUNT_BATCH_SECONDS=0.2, AMQP_RECONNECT_MAX=1.0)  # fmt: skip


@pytest.fixture
def broker(amqp_url, amqp_queue) -> Iterator[Broker]:
    handle = Broker(amqp_url, amqp_queue)
    yield handle
    handle.close()


@pytest.fixture
def consumer(consumer_settings) -> Iterator[PortStatsConsumer]:
    running = PortStatsConsumer(consumer_settings)
    yield running
    running.stop()


def stored(engine) -> tuple[int, int]:
    """(rows, distinct (refdes, end_time) pairs) of port_count."""
    with Session(engine) as session:
        rows = session.scalar(select(func.count()).select_from(PortCount))
        pairs = session.scalar(select(func.count()).select_from(
            select(PortCount.refdes, PortCount.end_time).distinct().subquery()))  # fmt: skip
    return rows, pairs


def test_messages_are_stored_once_and_acknowledged(consumer, broker, monitor_db):
    bodies = [message(i=i) for i in range(50)] + [message("RS01SLBS-LJ01A-12-CTDBPO101", i) for i in range(5)]
    broker.publish(*bodies)
    broker.publish(*bodies[:10])  # the same counts again: stored once
    consumer.start()
    wait_for(lambda: consumer.stored == 65 and broker.depth() == 0, "65 messages stored and acknowledged")
    assert stored(monitor_db.engine) == (55, 55)
    with Session(monitor_db.engine) as session:
        row = session.scalars(select(PortCount).order_by(PortCount.end_time)).first()
        summaries = port_store.port_summaries(session, None, row.end_time + timedelta(days=1), 600)
    assert (row.bytes_in, row.elapsed, row.clients) == (100, 10.0, 1)
    assert set(summaries) == {"CE01ISSM-MFD35-04-ADCPTM000", "RS01SLBS-LJ01A-12-CTDBPO101"}


BAD = [
    ("not_json", b"\x00\xff not json"),
    ("not_json", b""),
    ("not_object", b"[1, 2]"),
    ("missing_field", json.dumps({"reference_designator": "X-Y-Z"}).encode()),
    ("missing_field", message(num_clients={})),
    ("wrong_type", message(bytes_in="12")),
    ("wrong_type", message(end_time=None)),
    ("wrong_type", message(elapsed=True)),
    ("wrong_type", message(num_clients=3)),
    ("wrong_type", message(reference_designator=42)),
    ("negative_value", message(bytes_in=-1)),
    ("negative_value", message(elapsed=-0.5)),
    ("out_of_range", message(reference_designator="")),
    ("out_of_range", message(end_time=1e13)),
]


def test_every_kind_of_bad_message_is_dead_lettered_and_counted(consumer, broker, monitor_db, caplog):
    caplog.set_level("WARNING", logger="ooi_status")
    broker.publish(message(i=0), *[body for _reason, body in BAD], message(i=1))
    consumer.start()
    wait_for(lambda: consumer.stored + consumer.rejected == len(BAD) + 2, "every message handled")
    wait_for(lambda: broker.depth() == 0, "the queue emptied")
    letters = broker.dead_letters()
    assert sorted((h["x-reason"], body) for h, body in letters) == sorted(BAD)
    assert all(h["x-queue"] == broker.queue and h["x-detail"] for h, _body in letters)
    with Session(monitor_db.engine) as session:
        counts = port_store.rejection_counts(session)
    expected: dict[str, int] = {}
    for reason, _body in BAD:
        expected[reason] = expected.get(reason, 0) + 1
    assert counts == expected
    assert stored(monitor_db.engine) == (2, 2)  # the consumer went on past every bad message
    lines = [r.getMessage() for r in caplog.records if "dead-lettered" in r.getMessage()]
    assert sorted(line.split(": ")[1] for line in lines) == sorted(expected)  # once per reason


def test_a_batch_whose_ack_failed_is_redelivered_and_not_stored_twice(consumer, broker, monitor_db):
    failures = [1]

    def fail_once() -> None:
        if failures:
            failures.pop()
            raise pika.exceptions.StreamLostError("connection lost before the ack")

    consumer.after_commit = fail_once
    broker.publish(*[message(i=i) for i in range(20)])
    consumer.start()
    wait_for(lambda: consumer.stored == 20 and broker.depth() == 0, "the batch redelivered and acknowledged")
    assert not failures
    assert stored(monitor_db.engine) == (20, 20)


class FailingFirstStore(PortStatsConsumer):
    """A consumer whose first transaction fails (the monitor database went away, say) while later
    batches of the same connection are already waiting to be stored."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.failed = threading.Event()

    def store(self, batch) -> None:
        if not self.failed.is_set():
            self.failed.set()
            time.sleep(0.5)  # the next batches arrive meanwhile
            raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))
        super().store(batch)


def test_a_failed_batch_is_not_acknowledged_by_a_later_one(consumer_settings, broker, monitor_db, caplog):
    """A later batch's multiple-ack must never cover an earlier batch that was not stored."""
    caplog.set_level("WARNING", logger="ooi_status")
    consumer = FailingFirstStore(consumer_settings.replace(PORT_COUNT_BATCH_SIZE=10))
    broker.publish(*[message(i=i) for i in range(60)])
    consumer.start()
    try:
        wait_for(lambda: broker.depth() == 0 and stored(monitor_db.engine)[0] == 60, "every message stored")
    finally:
        consumer.stop()
    assert consumer.failed.is_set()
    assert stored(monitor_db.engine) == (60, 60)
    assert any("monitor database unavailable" in r.getMessage() for r in caplog.records)


def _connections_named(name: str) -> dict[str, str]:
    """The state of each of the broker's connections whose client names ``name``, by pid."""
    listing = subprocess.run(["rabbitmqctl", "-q", "list_connections", "pid", "state", "client_properties"],
                             capture_output=True, text=True, timeout=120, check=True).stdout  # fmt: skip
    return {line.split("\t")[0]: line.split("\t")[1] for line in listing.splitlines() if name in line}


def test_a_connection_closed_by_the_broker_is_reopened_and_nothing_is_lost(consumer, broker, monitor_db):
    committed, release = threading.Event(), threading.Event()

    def hold_first_batch() -> None:  # the first batch is committed, not yet acknowledged
        if not committed.is_set():
            committed.set()
            release.wait(LIMIT)

    consumer.after_commit = hold_first_batch
    broker.publish(*[message(i=i) for i in range(40)])
    consumer.start()
    wait_for(committed.is_set, "the first batch committed")
    pids = _connections_named(broker.queue)
    assert list(pids.values()) == ["running"]
    pid = next(iter(pids))
    subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "closed by the test"],
                   check=True, timeout=120)  # fmt: skip
    # Once the broker has closed its side it takes nothing more on that connection but the
    # client's close-ok (which the held consumer cannot send): the first batch's acknowledgement
    # is lost as surely as if the connection were gone (which the broker decides after 30 s).
    wait_for(lambda: _connections_named(broker.queue).get(pid) in (None, "closing", "closed"), "closed")
    release.set()
    broker.publish(*[message(i=i) for i in range(40, 60)])
    wait_for(lambda: broker.depth() == 0 and stored(monitor_db.engine)[0] == 60, "every message stored")
    assert consumer.state == CONSUMING
    assert stored(monitor_db.engine) == (60, 60)


def test_a_deleted_queue_is_declared_again(consumer, broker, monitor_db):
    broker.publish(*[message(i=i) for i in range(10)])
    consumer.start()
    wait_for(lambda: consumer.stored == 10, "the first messages stored")
    broker.channel.queue_delete(broker.queue)
    # The consumer declares the queue again; until then publishing would go nowhere.
    wait_for(lambda: len(_queue_consumers(broker)) == 1, "the queue declared and consumed again")
    broker.publish(*[message(i=i) for i in range(10, 30)])
    wait_for(lambda: consumer.stored == 30 and broker.depth() == 0, "the later messages stored")
    assert stored(monitor_db.engine) == (30, 30)


def _queue_consumers(broker: Broker) -> list[int]:
    try:
        found = broker.channel.queue_declare(broker.queue, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker:  # not declared yet
        broker.channel = broker.connection.channel()
        return []
    return [1] * found


KILLED_CONSUMER = """
import os, signal, sys
from ooi_status.config import load_settings
from ooi_status.monitor.port_stats import PortStatsConsumer
settings = load_settings(environ={}, overrides=dict(MONITOR_URL=sys.argv[1], AMQP_URL=sys.argv[2],
                         AMQP_QUEUE=sys.argv[3], PORT_COUNT_BATCH_SIZE=25, DATA_DIR=sys.argv[4]))
consumer = PortStatsConsumer(settings)
consumer.after_commit = lambda: os.kill(os.getpid(), signal.SIGKILL)  # dies between commit and ack
consumer.run()
"""


def test_a_consumer_killed_between_insert_and_ack_stores_every_message_once(
    consumer_settings, broker, monitor_db, tmp_path
):
    broker.publish(*[message(i=i) for i in range(100)])
    args = [monitor_db.url, consumer_settings.AMQP_URL, broker.queue, str(tmp_path)]
    process = subprocess.run([sys.executable, "-c", KILLED_CONSUMER, *args], timeout=120, capture_output=True)
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()[-2000:]
    assert stored(monitor_db.engine) == (25, 25)  # its first batch committed
    wait_for(lambda: broker.depth() == 100, "the unacknowledged messages back in the queue")
    survivor = PortStatsConsumer(consumer_settings)
    survivor.start()
    try:
        wait_for(lambda: broker.depth() == 0 and survivor.stored == 100, "everything stored by the next one")
    finally:
        survivor.stop()
    assert stored(monitor_db.engine) == (100, 100)


def test_an_unreachable_broker_is_retried_with_backoff(consumer_settings, caplog):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    consumer = PortStatsConsumer(consumer_settings.replace(AMQP_URL=f"amqp://guest:guest@127.0.0.1:{port}/"))
    caplog.set_level("WARNING", logger="ooi_status")
    consumer.start()
    try:
        wait_for(lambda: sum("broker unavailable" in r.getMessage() for r in caplog.records) >= 2,
                 "two failed attempts")  # fmt: skip
        assert consumer.running and consumer.state in (BACKOFF, CONNECTING)
    finally:
        consumer.stop()
    assert not consumer.running


def test_stop_stores_and_acknowledges_what_it_received(consumer_settings, broker, monitor_db):
    """A partial batch is stored and acknowledged at stop; what was not yet handed over goes back."""
    consumer = PortStatsConsumer(
        consumer_settings.replace(PORT_COUNT_BATCH_SIZE=1000, PORT_COUNT_BATCH_SECONDS=600.0)
    )
    broker.publish(*[message(i=i) for i in range(30)])
    consumer.start()
    wait_for(lambda: broker.depth() == 0, "every message delivered to the consumer")
    wait_for(lambda: consumer.received > 0, "messages taken into the consumer's batch")
    consumer.stop()
    rows, _pairs = stored(monitor_db.engine)
    assert rows == consumer.stored > 0  # stored though the batch was neither full nor due
    wait_for(lambda: rows + broker.depth() == 30, "the rest back in the queue, nothing lost")


# --- the check round never waits for the consumer ------------------------------------------------


@pytest.fixture
def silent_broker() -> Iterator[tuple[str, threading.Event, Callable[[], None]]]:
    """A TCP server that accepts connections and never answers: an AMQP handshake hangs there.

    Yields its URL, an event set once a connection came in, and ``hang_up()``, which closes
    every connection (the handshake then fails at once)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(server.accept()[0])
                accepted.set()

    def hang_up() -> None:
        server.close()
        for conn in held:
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    yield f"amqp://guest:guest@127.0.0.1:{server.getsockname()[1]}/", accepted, hang_up
    hang_up()


def test_a_check_round_lands_while_the_consumer_hangs_on_the_broker(
    db_settings, metadata_db, monitor_db, silent_broker, now
):
    url, accepted, hang_up = silent_broker
    with Session(monitor_db.engine) as session, session.begin():
        upsert_expected(
            session, read_expected_csv(demo.EXPECTED_CSV) + read_expected_csv(demo.DEMO_EXPECTED_CSV)
        )
    settings = db_settings.replace(AMQP_URL=url, AMQP_QUEUE="port_agent_stats")
    daemon = Daemon(settings, clock=lambda: now)
    consumer = daemon.port_stats
    assert consumer is not None and not consumer.running  # started only by the leader's loop
    assert daemon.leadership.acquire()  # its rounds commit only while it leads
    consumer.start()
    try:
        wait_for(accepted.is_set, "the consumer connected to the silent broker")
        assert consumer.state == CONNECTING
        assert daemon.monitor.check()  # the round lands, the consumer still stuck in its handshake
        assert consumer.state == CONNECTING
    finally:
        hang_up()
        consumer.stop()  # joined: no thread of this test outlives it
        daemon.monitor.close()
        daemon.leadership.release()
    assert not consumer.running
    with Session(monitor_db.engine) as session:
        beat = session.get(MonitorHeartbeat, "check")
    assert beat is not None and beat.ok and beat.streams_checked > 0
    # Structurally: the monitor that runs the rounds holds no reference to the consumer.
    assert not any(isinstance(value, PortStatsConsumer) for value in vars(daemon.monitor).values())


def test_only_a_leading_daemon_consumes(db_settings, amqp_url, amqp_queue, tmp_path):
    settings = db_settings.replace(AMQP_URL=amqp_url, AMQP_QUEUE=amqp_queue, STANDBY_POLL=1,
                                   LOCK_FILE=str(tmp_path / "leader.lock"), CHECK_INTERVAL=3600)  # fmt: skip
    other = make_lock(settings)  # another monitor leads
    assert other.acquire()
    daemon = Daemon(settings)
    attempts = []
    real_acquire = daemon.leadership.acquire
    daemon.leadership.acquire = lambda: attempts.append(1) or real_acquire()  # type: ignore[method-assign]
    daemon.monitor.check = lambda: True  # type: ignore[method-assign]  # rounds are not the subject here
    daemon.monitor.deliver = lambda: True  # type: ignore[method-assign]
    loop = threading.Thread(target=daemon.run)
    loop.start()
    try:
        wait_for(lambda: len(attempts) >= 2, "the standby polled the lock twice")
        assert daemon.port_stats is not None and not daemon.port_stats.running
        other.release()
        wait_for(lambda: daemon.port_stats.running, "the new leader consuming")
    finally:
        daemon.stop.set()
        daemon.wake.set()
        loop.join(LIMIT)
    assert not loop.is_alive() and not daemon.port_stats.running
