"""The Cassandra reader against a real cluster, when OOISTATUS_TEST_CASSANDRA names one (``host[:port]``).

A scratch keyspace gets both tables in the layout of METADATA_SCHEMA.md and the demo scenario;
the same equalities as with the responder are checked; the keyspace is dropped at the end.
Credentials, when the cluster needs them, come from the usual settings variables
(OOISTATUS_CASSANDRA_USERNAME, OOISTATUS_CASSANDRA_PASSWORD). A named cluster that does not
answer skips these tests with the reason, except under CI (CI set): then they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cassandra.cluster import NoHostAvailable, Session
from cassandra.concurrent import execute_concurrent_with_args
from comparisons import (
    assert_same_available,
    assert_same_bins,
    assert_same_monitor_statuses,
    assert_same_streams,
)

from ooi_status import demo
from ooi_status.config import Settings, load_settings
from ooi_status.sources.cassandra import CassandraStreamSource, consistency_level, describe, make_cluster
from ooi_status.sources.postgres import PostgresStreamSource

TARGET = os.environ.get("OOISTATUS_TEST_CASSANDRA", "")
pytestmark = pytest.mark.skipif(
    not TARGET, reason="OOISTATUS_TEST_CASSANDRA names no Cassandra cluster (host[:port])"
)

TABLES = [
    "CREATE TABLE {ks}.stream_metadata (subsite text, node text, sensor text, method text, stream text,"
    " count bigint, first double, last double, PRIMARY KEY ((subsite, node, sensor), method, stream))",
    "CREATE TABLE {ks}.partition_metadata (stream text, refdes text, method text, bin bigint, store text,"
    " count bigint, first double, last double, PRIMARY KEY ((stream, refdes), method, bin, store))",
]
INSERT_STREAM = (
    "INSERT INTO {ks}.stream_metadata (subsite, node, sensor, method, stream, count, first, last)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_BIN = (
    "INSERT INTO {ks}.partition_metadata (stream, refdes, method, bin, store, count, first, last)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def live_settings(tmp_path: Path, keyspace: str, **values: object) -> Settings:
    host, _, port = TARGET.partition(":")
    environ = {k: v for k, v in os.environ.items() if k.startswith("OOISTATUS_CASSANDRA_")}
    overrides = {"DATA_DIR": str(tmp_path / "data"), "STREAM_SOURCE": "cassandra"}
    overrides |= {"CASSANDRA_CONTACT_POINTS": [host], "CASSANDRA_PORT": int(port or 9042)}
    return load_settings(environ=environ, overrides={**overrides, "CASSANDRA_KEYSPACE": keyspace, **values})


def load(session: Session, keyspace: str, obs: demo.Observatory) -> None:
    streams = [
        tuple(s[k] for k in ("subsite", "node", "sensor", "method", "stream", "count", "first", "last"))
        for s in obs.streams
    ]
    bins = [
        (p["stream"], f"{p['subsite']}-{p['node']}-{p['sensor']}", p["method"], p["bin"], p["store"])
        + (p["count"], p["first"], p["last"])
        for p in obs.partitions
    ]
    for query, rows in ((INSERT_STREAM, streams), (INSERT_BIN, bins)):
        statement = session.prepare(query.format(ks=keyspace))
        execute_concurrent_with_args(session, statement, rows, concurrency=64, raise_on_first_error=True)


@pytest.fixture
def live_keyspace(tmp_path: Path, observatory: demo.Observatory) -> Iterator[str]:
    """A scratch keyspace holding the demo scenario; dropped afterwards."""
    keyspace = f"ooistatus_test_{uuid.uuid4().hex[:10]}"
    settings = live_settings(tmp_path, keyspace, CASSANDRA_REQUEST_TIMEOUT=30.0)
    cluster = make_cluster(settings, consistency_level(settings.CASSANDRA_CONSISTENCY))
    try:
        session = cluster.connect()
    except NoHostAvailable as exc:
        cluster.shutdown()
        if os.environ.get("CI"):
            pytest.fail(f"CI requires the Cassandra cluster {TARGET}: {describe(exc)}")
        pytest.skip(f"Cassandra not reachable at {TARGET}: {describe(exc)}")
    replication = "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    session.execute(f"CREATE KEYSPACE {keyspace} WITH replication = {replication}")
    try:
        for table in TABLES:
            session.execute(table.format(ks=keyspace))
        load(session, keyspace, observatory)
        yield keyspace
    finally:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")
        cluster.shutdown()


@pytest.fixture
def readers(empty_metadata_db, observatory, live_keyspace, tmp_path) -> Iterator[tuple[object, object]]:
    demo.write_observatory(empty_metadata_db.engine, observatory)
    cassandra = CassandraStreamSource(live_settings(tmp_path, live_keyspace))
    yield PostgresStreamSource(empty_metadata_db.engine), cassandra
    cassandra.close()


def test_streams_are_identical(readers, observatory):
    assert_same_streams(*readers, observatory)


def test_bins_are_identical(readers, observatory, now: datetime):
    assert_same_bins(*readers, observatory, now)


def test_monitor_statuses_are_identical(readers, sqlite_monitor_template, tmp_path, settings, now):
    assert_same_monitor_statuses(*readers, sqlite_monitor_template, tmp_path, settings, now)


def test_available_output_is_identical(readers, empty_metadata_db, observatory, live_keyspace, tmp_path, now):
    urls = {"METADATA_URL": empty_metadata_db.url, "MONITOR_URL": f"sqlite:///{tmp_path}/monitor.sqlite"}
    postgres_settings = load_settings(environ={}, overrides={"DATA_DIR": str(tmp_path / "data"), **urls})
    cassandra_settings = live_settings(tmp_path, live_keyspace, **urls)
    assert_same_available(postgres_settings, cassandra_settings, observatory, now)
