"""Fixtures of the Cassandra reader's tests: a demo observatory served by a CQL responder on loopback.

Timeouts are short (2 s) so that no test waits long on the driver, whatever it retries.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cql_responder import CqlResponder, Tables

from ooi_status import demo
from ooi_status.config import Settings, load_settings
from ooi_status.sources.cassandra import CassandraStreamSource

FETCH_SIZE = 7  # small, so that every result of the demo spans several pages


@pytest.fixture
def observatory(now: datetime) -> demo.Observatory:
    """The scenario every source is loaded with: 12 instruments, 2 years of daily bins."""
    return demo.demo_observatory(now, instruments=12, history_days=730)


@pytest.fixture
def responder(observatory: demo.Observatory) -> Iterator[CqlResponder]:
    server = CqlResponder(Tables.from_observatory(observatory)).start()
    yield server
    server.stop()


@pytest.fixture
def cassandra_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings choosing Cassandra on 127.0.0.1:``port``, with ``values`` overriding the rest."""

    def make(port: int, **values: object) -> Settings:
        overrides = {
            "DATA_DIR": str(tmp_path / "data"),
            "STREAM_SOURCE": "cassandra",
            "CASSANDRA_CONTACT_POINTS": ["127.0.0.1"],
            "CASSANDRA_PORT": port,
            "CASSANDRA_FETCH_SIZE": FETCH_SIZE,
            "CASSANDRA_REQUEST_TIMEOUT": 2.0,
        }
        return load_settings(environ={}, overrides={**overrides, **values})

    return make


@pytest.fixture
def source(
    cassandra_settings: Callable[..., Settings], responder: CqlResponder
) -> Iterator[CassandraStreamSource]:
    """The reader on the responder (it connects on first use)."""
    reader = CassandraStreamSource(cassandra_settings(responder.port))
    yield reader
    reader.close()


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on (free when the test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
