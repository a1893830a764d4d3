"""The demo's port agents: byte counts of the synthetic observatory, published to the local broker.

Each monitored instrument of the demo gets one of three profiles, by its place in the sorted
list of reference designators, so that any demo of three instruments or more shows each:

- ``ingest``: bytes always arrive, whether or not particles come out of them; when its streams
  fail, the diagnosis reads "port agent receiving … B/s: data arrives but no particles …";
- ``comms``: bytes arrive only while its streams deliver (demo.live_state); when they stall or
  die the port agent counts zeros: "no bytes from the port agent since …";
- ``none``: no port agent reports for it (no diagnosis).

The publisher is best-effort: when the broker stops answering it tries again at the next
interval; the demo never depends on it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, select

from ooi_status.demo import MONITORED, _stable_fraction, live_state
from ooi_status.model.metadata import StreamMetadata
from ooi_status.times import utcnow

log = logging.getLogger("ooi_status.demo")

PROFILES = ("ingest", "comms", "none")
#: Seconds between two counts of a demo port agent.
INTERVAL = 10.0


def instrument_streams(engine: Engine) -> dict[str, list[int]]:
    """The ids of the monitored streams of each instrument of the demo's metadata database."""
    table = StreamMetadata.__table__
    columns = (table.c.id, table.c.subsite, table.c.node, table.c.sensor)
    query = select(*columns).where(table.c.method.in_(MONITORED))
    found: dict[str, list[int]] = {}
    with engine.connect() as conn:
        for ident, subsite, node, sensor in conn.execute(query):
            found.setdefault(f"{subsite}-{node}-{sensor}", []).append(ident)
    return found


def profiles(refdes: Iterable[str]) -> dict[str, str]:
    return {name: PROFILES[index % len(PROFILES)] for index, name in enumerate(sorted(refdes))}


def port_messages(streams: dict[str, list[int]], now: datetime, seed: int, elapsed: float) -> list[dict]:
    """One count per reporting instrument, ending at ``now`` (pure: the same arguments, the same counts)."""
    messages = []
    for refdes, profile in profiles(streams).items():
        if profile == "none":
            continue
        flowing = profile == "ingest" or all(live_state(seed, sid, now) == "live" for sid in streams[refdes])
        rate = 50 + int(_stable_fraction(seed, refdes, "rate") * 2000)  # bytes per second
        messages.append({
            "reference_designator": refdes,
            "bytes_in": int(rate * elapsed) if flowing else 0,
            "bytes_out": 0,
            "end_time": now.timestamp(),
            "elapsed": elapsed,
            "adds": 0,
            "num_clients": {"client": 1},
        })  # fmt: skip
    return messages


class PortAgentPublisher:
    """Publishes the demo's counts every INTERVAL seconds in a thread, until ``stop()``."""

    def __init__(self, url: str, queue: str, metadata: Engine, seed: int) -> None:
        self.url, self.queue, self.metadata, self.seed = url, queue, metadata, seed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-port-agents", daemon=True)
        self.published = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        import pika
        import pika.exceptions

        streams = instrument_streams(self.metadata)
        connection = None
        while not self._stop.is_set():
            try:
                if connection is None or not connection.is_open:
                    connection = pika.BlockingConnection(pika.URLParameters(self.url))
                    channel = connection.channel()
                    channel.queue_declare(self.queue, durable=True)
                for message in port_messages(streams, utcnow(), self.seed, INTERVAL):
                    channel.basic_publish("", self.queue, json.dumps(message).encode())
                    self.published += 1
            except (pika.exceptions.AMQPError, OSError) as exc:
                log.info("demo port agents: broker unavailable (%s); trying again", type(exc).__name__)
                connection = None
            self._stop.wait(INTERVAL)
        if connection is not None and connection.is_open:
            connection.close()


def broker_answers(url: str) -> bool:
    """True when an AMQP broker accepts a connection at ``url`` within a few seconds."""
    import pika
    import pika.exceptions

    params = pika.URLParameters(url)
    params.connection_attempts, params.socket_timeout, params.stack_timeout = 1, 3, 5
    try:
        pika.BlockingConnection(params).close()
    except (pika.exceptions.AMQPError, OSError):
        return False
    return True
