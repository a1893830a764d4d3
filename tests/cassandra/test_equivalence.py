"""The same scenario through the PostgreSQL reader and through the Cassandra reader gives the same answers.

The metadata database (SQLite and PostgreSQL) and the CQL responder are loaded with one demo
Observatory. Compared (comparisons.py): ``streams()`` and ``bins()`` directly; the statuses and
events of a monitor round; the /available output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from comparisons import (
    as_lists,
    assert_same_available,
    assert_same_bins,
    assert_same_monitor_statuses,
    assert_same_streams,
)
from cql_responder import CqlResponder, Tables
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, insert
from sqlalchemy.pool import StaticPool

from ooi_status import demo
from ooi_status.config import Settings
from ooi_status.model.metadata import MetadataBase, PartitionMetadata
from ooi_status.sources.cassandra import CassandraStreamSource
from ooi_status.sources.postgres import PostgresStreamSource


@pytest.fixture
def readers(empty_metadata_db, observatory, source) -> tuple[PostgresStreamSource, CassandraStreamSource]:
    """The PostgreSQL reader and the Cassandra reader over the same observatory."""
    demo.write_observatory(empty_metadata_db.engine, observatory)
    return PostgresStreamSource(empty_metadata_db.engine), source


def test_streams_are_identical(readers, observatory):
    assert_same_streams(*readers, observatory)


def test_bins_are_identical(readers, observatory, now: datetime):
    assert_same_bins(*readers, observatory, now)


# Times on a half-second grid, or anywhere: edges that coincide (first == bin, last == start,
# stop inside or at the start of a bin) are where two readers would differ.
GRID = st.integers(-20, 900).map(lambda half: half / 2)
TIME = st.one_of(GRID, st.floats(-10, 450))
BIN = st.tuples(
    st.integers(0, 40).map(lambda b: b * 10),  # bin start
    st.sampled_from(["cass", "san"]),  # store
    st.integers(0, 5),  # count
    st.one_of(st.sampled_from([0.0, 0.5, 9.5]), st.floats(0, 9)),  # first - bin
    st.one_of(st.sampled_from([0.0, 0.5, 10.0]), st.floats(0, 30)),  # last - first
)


class OneStream:
    """Both readers over one stream of one instrument, whose partition rows a test sets."""

    refdes, key = "RS01SLBS-LJ01A-01-CTDBPA101", ("streamed", "ctdbp_no_sample")
    parts = {"subsite": "RS01SLBS", "node": "LJ01A", "sensor": "01-CTDBPA101", "stream": key[1]}

    def __init__(self, cassandra_settings: Callable[..., Settings]) -> None:
        self.server = CqlResponder(Tables([], {})).start()
        self.engine = create_engine("sqlite://", poolclass=StaticPool)
        MetadataBase.metadata.create_all(self.engine)
        self.postgres = PostgresStreamSource(self.engine)
        self.cassandra = CassandraStreamSource(cassandra_settings(self.server.port))

    def load(self, rows: list[tuple[Any, ...]]) -> None:
        """Partition rows (method, bin, store, count, first, last), in both stores of metadata."""
        self.server.tables = Tables([], {(self.key[1], self.refdes): sorted(rows)})
        columns = ("method", "bin", "store", "count", "first", "last")
        with self.engine.begin() as conn:
            conn.execute(delete(PartitionMetadata))
            if rows:
                records = [{**self.parts, **dict(zip(columns, row, strict=True))} for row in rows]
                conn.execute(insert(PartitionMetadata), records)

    def bins(self, start: float, stop: float) -> tuple[Any, Any]:
        """(PostgreSQL's answer, Cassandra's answer) for this stream and window."""
        return tuple(
            as_lists(reader.bins(self.refdes, [self.key], start, stop))
            for reader in (self.postgres, self.cassandra)
        )

    def close(self) -> None:
        self.cassandra.close()
        self.server.stop()
        self.engine.dispose()


@pytest.fixture
def one_stream(cassandra_settings: Callable[..., Settings]) -> Iterator[OneStream]:
    readers = OneStream(cassandra_settings)
    yield readers
    readers.close()


def test_bins_are_identical_for_any_bins_and_window(one_stream: OneStream):
    """Invariant: same rows, same window → same bins, for bins overlapping, abutting, in two stores."""

    @hypothesis_settings(max_examples=100, deadline=None)
    @given(st.lists(BIN, max_size=12, unique_by=lambda b: b[:2]), TIME, TIME)
    def check(bins: list[tuple[Any, ...]], start: float, stop: float) -> None:
        one_stream.load(
            [("streamed", b, store, c, b + off, b + off + span) for b, store, c, off, span in bins]
        )
        postgres, cassandra = one_stream.bins(start, stop)
        assert cassandra == postgres

    check()


def test_a_bin_in_two_stores_is_read_once_by_both_readers(one_stream: OneStream):
    one_stream.load(
        [
            ("streamed", 100, "san", 7, 100.0, 190.0),
            ("streamed", 100, "cass", 5, 101.0, 180.0),
            ("streamed", 200, "san", 6, 200.0, 290.0),
        ]
    )
    expected = {one_stream.key: [(100, 5, 101.0, 180.0), (200, 6, 200.0, 290.0)]}
    assert one_stream.bins(0.0, 1000.0) == (expected, expected)


def test_monitor_statuses_are_identical(
    readers, sqlite_monitor_template: Path, tmp_path: Path, settings: Settings, now: datetime
):
    assert_same_monitor_statuses(*readers, sqlite_monitor_template, tmp_path, settings, now)


def test_available_output_is_identical(
    readers, empty_metadata_db, observatory, responder, cassandra_settings, settings: Settings, now: datetime
):
    urls = {
        "METADATA_URL": empty_metadata_db.url,
        "MONITOR_URL": f"sqlite:///{settings.DATA_DIR}/monitor.sqlite",
    }
    postgres_settings = Settings({**settings, **urls, "STREAM_SOURCE": "postgres"})
    assert_same_available(postgres_settings, cassandra_settings(responder.port, **urls), observatory, now)
