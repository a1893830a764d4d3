"""The Cassandra reader end to end: the real driver against the CQL responder on loopback."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pytest
from cql_responder import CqlResponder, Tables, read_timeout, server_error

from ooi_status import demo
from ooi_status.config import Settings, SettingsError
from ooi_status.db import Databases
from ooi_status.sources import stream_source
from ooi_status.sources.base import BinRow, SourceUnavailable, StreamRow
from ooi_status.sources.cassandra import QUERIES, CassandraStreamSource, bin_bound, first_store
from ooi_status.sources.postgres import PostgresStreamSource

REFDES = "RS01SLBS-LJ01A-01-CTDBPA101"
KEY = ("streamed", "ctdbp_no_sample")


def stream_tuples(obs: demo.Observatory) -> set[tuple[object, ...]]:
    keys = ("subsite", "node", "sensor", "method", "stream", "count", "first", "last")
    return {tuple(row[k] for k in keys) for row in obs.streams}


def small_tables(bins: list[tuple[object, ...]]) -> Tables:
    """One stream of REFDES with these partition rows (method, bin, store, count, first, last)."""
    stream = ("RS01SLBS", "LJ01A", "01-CTDBPA101", *KEY, 3, 100.0, 400.0)
    return Tables([stream], {(KEY[1], REFDES): sorted(bins)})


# --- connect, prepare, execute, page, decode ---------------------------------------------------


def test_reads_every_stream_over_several_pages(source: CassandraStreamSource, responder, observatory):
    rows = source.streams()
    assert {tuple(row) for row in rows} == stream_tuples(observatory)
    assert len(rows) == len(observatory.streams)
    assert responder.pages >= math.ceil(len(rows) / 7) > 1


def test_filters_by_method_and_instrument(source: CassandraStreamSource, observatory):
    refdes = observatory.refdes_list()[:3]
    rows = source.streams(methods={"streamed"}, refdes=[*refdes, "malformed", "NO-SUCH-INSTRUMENT"])
    expected = {
        t for t in stream_tuples(observatory) if t[3] == "streamed" and "-".join(map(str, t[:3])) in refdes
    }
    assert {tuple(row) for row in rows} == expected and expected
    assert source.streams(refdes=["malformed"]) == []
    assert source.streams(methods=[]) == []


def test_prepares_each_statement_once(source: CassandraStreamSource, responder, observatory):
    refdes = observatory.refdes_list()[0]
    for _ in range(3):
        keys = [(row.method, row.stream) for row in source.streams(refdes=[refdes])]
        source.streams()
        source.bins(refdes, keys, 0.0, 1e10)
    assert dict(responder.prepared) == {query: 1 for query in QUERIES.values()}
    assert responder.requests["PREPARE"] == 3


def test_bins_of_an_instrument_over_several_pages(source: CassandraStreamSource, responder, observatory):
    refdes = observatory.refdes_list()[0]
    keys = [(row.method, row.stream) for row in source.streams(refdes=[refdes])]
    pages = responder.pages
    bins = source.bins(refdes, keys, 0.0, 1e10)
    expected = {
        key: [
            BinRow(p["bin"], p["count"], p["first"], p["last"])
            for p in observatory.partitions
            if (p["method"], p["stream"]) == key and f"{p['subsite']}-{p['node']}-{p['sensor']}" == refdes
        ]
        for key in keys
    }
    assert bins == {key: rows for key, rows in expected.items() if rows}
    assert responder.pages - pages >= sum(math.ceil(len(rows) / 7) for rows in bins.values())


def test_decodes_text_bigint_double_and_null(cassandra_settings: Callable[..., Settings]):
    row = ("RS01SLBS", "LJ01A", "01-CTDBPA101", "streamed", "stream_é_ü", 2**53 + 1, 3.9e9 + 1 / 3, None)
    empty = ("RS01SLBS", "LJ01A", "01-CTDBPA101", "streamed", "nothing_yet", None, None, None)
    server = CqlResponder(Tables([row, empty], {})).start()
    reader = CassandraStreamSource(cassandra_settings(server.port))
    try:
        assert sorted(reader.streams(), key=lambda r: r.stream) == [StreamRow(*empty), StreamRow(*row)]
        decoded = next(r for r in reader.streams() if r.points)
        assert type(decoded.points) is int and type(decoded.first) is float and type(decoded.stream) is str
    finally:
        reader.close()
        server.stop()


# --- the overlap rule and several stores ------------------------------------------------------


def test_bins_overlapping_the_window_one_row_per_bin(cassandra_settings: Callable[..., Settings]):
    method = KEY[0]
    bins = [
        (method, 0, "cass", 1, 10.0, 90.0),  # ends before the window
        (method, 100, "cass", 2, 100.0, 190.0),  # starts before the window, overlaps
        (method, 100, "san", 9, 100.0, 190.0),  # the same bin in a second store: left out
        (method, 200, "cass", 3, 210.0, 290.0),
        (method, 300, "cass", 4, 300.0, 390.0),  # starts at stop: left out
        ("recovered_host", 200, "cass", 5, 200.0, 290.0),  # another method
    ]
    server = CqlResponder(small_tables(bins)).start()
    reader = CassandraStreamSource(cassandra_settings(server.port))
    try:
        assert reader.bins(REFDES, [KEY], 150.0, 300.0) == {
            KEY: [BinRow(100, 2, 100.0, 190.0), BinRow(200, 3, 210.0, 290.0)]
        }
        assert reader.bins(REFDES, [KEY], 150.5, 300.5)[KEY][-1] == BinRow(300, 4, 300.0, 390.0)
        assert reader.bins(REFDES, [KEY], 400.0, 500.0) == {}
        assert reader.bins("malformed", [KEY], 0.0, 500.0) == {} == reader.bins(REFDES, [], 0.0, 500.0)
    finally:
        reader.close()
        server.stop()


@pytest.mark.parametrize(
    ("stop", "bound"),
    [
        (300.0, 300),
        (300.5, 301),
        (-0.5, 0),
        (math.inf, 2**63 - 1),
        (-math.inf, -(2**63)),
        (math.nan, 2**63 - 1),
    ],
)
def test_bin_bound_keeps_exactly_the_bins_before_stop(stop: float, bound: int):
    assert bin_bound(stop) == bound


def test_first_store_keeps_the_first_row_of_each_bin():
    rows = [(1, "a"), (1, "b"), (2, "a"), (3, "c"), (3, "d")]
    assert list(first_store(rows)) == [(1, "a"), (2, "a"), (3, "c")]


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [server_error(), read_timeout()], ids=["server-error", "read-timeout"])
def test_a_server_error_is_source_unavailable_then_recovers(source, responder, error):
    source.streams()
    responder.error = error
    with pytest.raises(SourceUnavailable, match=rf"^Cassandra 127\.0\.0\.1:{responder.port} keyspace ooi: "):
        source.streams()
    responder.error = None
    assert source.streams()


def test_a_closed_port_is_source_unavailable_quickly(cassandra_settings, free_port: int):
    reader = CassandraStreamSource(cassandra_settings(free_port))
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="no host could answer: .*refused"):
        reader.streams()
    assert time.monotonic() - started < 2.0
    reader.close()


def test_connects_when_the_cluster_comes_up_later(cassandra_settings, free_port: int, observatory):
    reader = CassandraStreamSource(cassandra_settings(free_port))
    with pytest.raises(SourceUnavailable):
        reader.streams()
    server = CqlResponder(Tables.from_observatory(observatory), port=free_port).start()
    try:
        assert len(reader.streams()) == len(observatory.streams)
    finally:
        reader.close()
        server.stop()


def test_a_node_lost_mid_run_skips_then_recovers(source, responder, observatory):
    assert source.streams()
    responder.stop()
    with pytest.raises(SourceUnavailable, match="no host could answer"):
        source.streams()
    responder.start()
    assert len(source.streams()) == len(observatory.streams)
    assert dict(responder.prepared) == {QUERIES["streams"]: 2}  # once per session


def test_sends_credentials_when_a_user_is_set(cassandra_settings, responder):
    responder.credentials = ("reader", "s3cret")
    good = CassandraStreamSource(
        cassandra_settings(responder.port, CASSANDRA_USERNAME="reader", CASSANDRA_PASSWORD="s3cret")
    )
    bad = CassandraStreamSource(
        cassandra_settings(responder.port, CASSANDRA_USERNAME="reader", CASSANDRA_PASSWORD="wrong")
    )
    try:
        assert good.streams()
        with pytest.raises(SourceUnavailable, match="password are incorrect"):
            bad.streams()
    finally:
        good.close()
        bad.close()


def test_an_unknown_consistency_level_is_a_settings_error(cassandra_settings):
    with pytest.raises(SettingsError, match="CASSANDRA_CONSISTENCY: unknown level 'SOME'"):
        CassandraStreamSource(cassandra_settings(9042, CASSANDRA_CONSISTENCY="SOME"))


def test_close_is_idempotent_and_a_later_call_reconnects(source, responder):
    assert source.streams()
    source.close()
    source.close()
    assert source.streams()
    assert responder.requests["STARTUP"] == 4  # control and pool connection, twice


# --- choosing the source ----------------------------------------------------------------------


def test_stream_source_follows_the_setting(cassandra_settings, settings: Settings):
    chosen = stream_source(cassandra_settings(9042), Databases(settings))
    assert isinstance(chosen, CassandraStreamSource)
    chosen.close()
    databases = Databases(settings)
    assert isinstance(stream_source(settings, databases), PostgresStreamSource)
    databases.dispose()
