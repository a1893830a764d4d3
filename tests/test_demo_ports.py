"""The demo's port agents: every profile present, counts that follow the streams, and publishing."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pika

from ooi_status import demo, demo_ports
from ooi_status.demo_ports import PortAgentPublisher, instrument_streams, port_messages, profiles
from ooi_status.port_counts import parse_message


def test_each_profile_shows_in_any_demo_of_three_instruments():
    assert sorted(profiles(["C-C-C", "A-A-A", "B-B-B"]).items()) == [
        ("A-A-A", "ingest"), ("B-B-B", "comms"), ("C-C-C", "none"),
    ]  # fmt: skip


def test_counts_follow_the_profiles(metadata_db, now):
    streams = instrument_streams(metadata_db.engine)
    assert len(streams) == 12
    kinds = profiles(streams)
    seen = {"ingest": set(), "comms": set()}
    for minute in range(0, 240, 5):  # many live-state periods: stalls come and go
        moment = now + timedelta(minutes=minute)
        messages = port_messages(streams, moment, seed=7, elapsed=10.0)
        assert {m["reference_designator"] for m in messages} == {r for r, k in kinds.items() if k != "none"}
        for message in messages:
            record = parse_message(json.dumps(message).encode())  # a good message for the consumer
            refdes = record.refdes
            live = all(demo.live_state(7, sid, moment) == "live" for sid in streams[refdes])
            if kinds[refdes] == "ingest":
                assert record.bytes_in > 0  # bytes arrive whatever the streams do
            else:
                assert (record.bytes_in > 0) == live
            seen[kinds[refdes]].add(record.bytes_in > 0)
    assert seen["comms"] == {True, False}  # both sides of the diagnosis show up in a demo


def test_the_publisher_puts_counts_on_the_queue(metadata_db, amqp_url, amqp_queue):
    publisher = PortAgentPublisher(amqp_url, amqp_queue, metadata_db.engine, seed=7)
    publisher.start()
    try:
        deadline = time.monotonic() + 60
        while publisher.published == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        publisher.stop()
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    depth = connection.channel().queue_declare(amqp_queue, passive=True).method.message_count
    connection.close()
    assert publisher.published > 0 and depth == publisher.published


def test_no_broker_no_port_agents():
    assert not demo_ports.broker_answers("amqp://guest:guest@127.0.0.1:9/%2F")
