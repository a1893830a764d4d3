"""Benchmark ``port-stats``: port-agent messages consumed from RabbitMQ and committed to the database.

    python -m benchmarks.port_stats [--backend postgresql|sqlite|both] [--messages 50000] [--runs 3]
                                    [--instruments 500] [--amqp amqp://guest:guest@127.0.0.1:5672/%2F]

Publishes --messages port counts (over --instruments reference designators, 2% of them bad
messages) to a fresh queue, then starts the monitor's consumer (PortStatsConsumer, default batch
settings) on a fresh migrated monitor database and measures, until every message is stored or
dead-lettered and acknowledged (the queue empty):

- messages/s consumed and committed (wall time from the consumer's start);
- the consumer's CPU share: CPU seconds of this process over the same wall time (publishing is
  done before the clock starts, so the process's CPU is the consumer's: parsing, SQL, pika);
- a check that every good message is stored exactly once.

The median run of --runs is reported. The queue and the databases are deleted afterwards.
Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pika
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarks.common import add_database_arguments, backends, postgres_database
from ooi_status import migrate
from ooi_status.config import load_settings
from ooi_status.db import make_engine
from ooi_status.model.monitor import PortCount
from ooi_status.monitor.port_stats import PortStatsConsumer, dead_letter_queue

START = 1_796_000_000
TARGET = 5000.0  # messages/s, on PostgreSQL


def bodies(messages: int, instruments: int) -> tuple[list[bytes], int]:
    """The messages to publish and how many of them are good."""
    out, good = [], 0
    for n in range(messages):
        if n % 50 == 49:
            out.append(b'{"reference_designator": "X-Y-Z", "bytes_in": -1}')
            continue
        refdes = f"CE{n % instruments:04d}SM-MFD35-04-ADCPTM000"
        body = {
            "reference_designator": refdes,
            "bytes_in": 400 * (n % 7),
            "bytes_out": 0,
            "end_time": START + n // instruments,
            "elapsed": 1.0,
            "adds": 0,
            "num_clients": {"client": 1},
        }
        out.append(json.dumps(body).encode())
        good += 1
    return out, good


@contextmanager
def monitor_url(backend: str, server: str) -> Iterator[str]:
    if backend == "postgresql":
        with postgres_database(server) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'monitor.sqlite'}"


def queue_depth(channel: Any, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).method.message_count


def one_run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    queue = f"ooistatus_bench_{uuid.uuid4().hex[:10]}"
    messages, good = bodies(args.messages, args.instruments)
    connection = pika.BlockingConnection(pika.URLParameters(args.amqp))
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)
    with monitor_url(backend, args.postgres) as url:
        migrate.upgrade(url)
        for body in messages:
            channel.basic_publish("", queue, body)
        while queue_depth(channel, queue) < len(messages):  # the broker has them all
            time.sleep(0.1)
        overrides = {"MONITOR_URL": url, "AMQP_URL": args.amqp, "AMQP_QUEUE": queue}
        settings = load_settings(environ={}, overrides={**overrides, "DATA_DIR": tempfile.gettempdir()})
        consumer = PortStatsConsumer(settings)
        consumer._next_upkeep = float("inf")  # retention is not measured here
        cpu0, wall0 = time.process_time(), time.perf_counter()
        consumer.start()
        deadline = wall0 + args.limit
        while consumer.stored + consumer.rejected < len(messages) and time.perf_counter() < deadline:
            time.sleep(0.01)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        consumer.stop()
        engine = make_engine(url, settings)
        with Session(engine) as session:
            rows = session.scalar(select(func.count()).select_from(PortCount))
        engine.dispose()
        dead = queue_depth(channel, dead_letter_queue(queue))
        for name in (queue, dead_letter_queue(queue)):
            channel.queue_delete(name)
    connection.close()
    return {
        "backend": backend,
        "messages": len(messages),
        "seconds": round(wall, 3),
        "messages_per_s": round(len(messages) / wall, 1),
        "cpu_share": round(cpu / wall, 3),
        "stored_rows": rows,
        "expected_rows": good,
        "dead_lettered": dead,
        "exactly_once": rows == good and dead == len(messages) - good,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.port_stats", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_database_arguments(parser)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--instruments", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    parser.add_argument("--limit", type=float, default=600.0, help="longest seconds one run may take")
    args = parser.parse_args(argv)
    results = []
    print(f"{'backend':<10} {'messages':>8} {'seconds':>8} {'msg/s':>9} {'cpu share':>9} {'once':>5}")
    for backend in backends(args):
        runs = sorted((one_run(backend, args) for _ in range(args.runs)), key=lambda r: r["messages_per_s"])
        median = runs[len(runs) // 2]
        median["runs_messages_per_s"] = [r["messages_per_s"] for r in runs]
        median["all_exactly_once"] = all(r["exactly_once"] for r in runs)
        results.append(median)
        print(f"{backend:<11} {median['messages']:>8} {median['seconds']:>8} {median['messages_per_s']:>9} "
              f"{median['cpu_share']:>9} {str(median['all_exactly_once']):>5}")  # fmt: skip
    print(json.dumps({"scenario": "port-stats", "target_messages_per_s": TARGET, "results": results}))
    postgres = [r for r in results if r["backend"] == "postgresql"]
    ok = all(r["all_exactly_once"] for r in results) and all(r["messages_per_s"] >= TARGET for r in postgres)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
