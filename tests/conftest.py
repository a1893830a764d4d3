"""Shared fixtures: settings, a migrated monitor database and a seeded metadata database.

Every database test runs twice: on SQLite (always) and on PostgreSQL. PostgreSQL is a
fresh pair of databases per test session on OOISTATUS_TEST_POSTGRES (default
postgresql+psycopg2://postgres@127.0.0.1:5432/postgres), dropped at the end. Without a
server those tests skip with the reason shown, except under CI (CI set): then they fail.
The AMQP tests follow the same rule for the RabbitMQ broker on OOISTATUS_TEST_AMQP (default
amqp://guest:guest@127.0.0.1:5672/%2F): each test gets a queue of its own, deleted after.
The monitor schema is always built by the Alembic migrations, never by create_all().
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ooi_status import demo, migrate
from ooi_status.config import Settings, load_settings
from ooi_status.db import make_engine
from ooi_status.model.metadata import MetadataBase
from ooi_status.model.monitor import MonitorBase

AMQP_TEST_URL = os.environ.get("OOISTATUS_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/%2F")
PG_URL = os.environ.get("OOISTATUS_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class DbHandle:
    url: str
    engine: Engine

    @property
    def backend(self) -> str:
        return self.engine.dialect.name


@pytest.fixture(autouse=True)
def no_cassandra_cluster_outlives_its_test() -> Iterator[None]:
    """Shut down every cassandra-driver Cluster a test left open (an app's reader, say).

    A Cluster left running keeps reconnecting to a responder that is gone, from the driver's
    own threads and with random jitter: later tests would see its log lines, and Hypothesis the
    global random state moving under it.
    """
    yield
    cluster = sys.modules.get("cassandra.cluster")
    for leftover in list(getattr(cluster, "_clusters_for_shutdown", ())):
        leftover.shutdown()


@pytest.fixture
def now() -> datetime:
    """The tests' fixed clock: rules and rounds take time as an argument."""
    return NOW


def _settings_for(tmp_path: Path, **values: object) -> Settings:
    return load_settings(environ={}, overrides={"DATA_DIR": str(tmp_path / "data"), **values})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return _settings_for(tmp_path)


# --- PostgreSQL: one fresh pair of databases per session ---------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> str:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        reason = f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string()}: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(f"CI requires PostgreSQL: {reason}")
        pytest.skip(reason)
    finally:
        engine.dispose()
    return PG_URL


@pytest.fixture(scope="session")
def pg_databases(pg_server: str) -> Iterator[dict[str, str]]:
    suffix = uuid.uuid4().hex[:10]
    names = {
        "monitor": f"ooistatus_test_{suffix}_monitor",
        "metadata": f"ooistatus_test_{suffix}_metadata",
        "scratch": f"ooistatus_test_{suffix}_scratch",
    }
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = make_url(pg_server)
    urls = {
        role: base.set(database=name).render_as_string(hide_password=False) for role, name in names.items()
    }
    migrate.upgrade(urls["monitor"])
    yield urls
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(engine: Engine, metadata: object) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


# --- SQLite: a migrated template copied per test ------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_monitor_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "monitor.sqlite"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: "sqlite" or "postgresql"."""
    return request.param


@pytest.fixture
def monitor_db(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, settings: Settings
) -> Iterator[DbHandle]:
    """An empty, migrated monitor schema."""
    if backend == "sqlite":
        path = tmp_path / "data" / "monitor.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(request.getfixturevalue("sqlite_monitor_template"), path)
        url = f"sqlite:///{path}"
        engine = make_engine(url, settings)
        yield DbHandle(url, engine)
        engine.dispose()
        return
    url = request.getfixturevalue("pg_databases")["monitor"]
    engine = make_engine(url, settings)
    _truncate(engine, MonitorBase.metadata)
    with engine.begin() as conn:  # the row the migration inserts, as in a freshly migrated schema
        conn.execute(text("INSERT INTO data_revision (id, revision) VALUES (1, 1)"))
    yield DbHandle(url, engine)
    engine.dispose()


@pytest.fixture
def empty_metadata_db(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, settings: Settings
) -> Iterator[DbHandle]:
    """The OOI metadata tables, empty: tests write their own scenario into them."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'metadata.sqlite'}"
    else:
        url = request.getfixturevalue("pg_databases")["metadata"]
    engine = make_engine(url, settings)
    MetadataBase.metadata.create_all(engine)
    if backend == "postgresql":
        _truncate(engine, MetadataBase.metadata)
    yield DbHandle(url, engine)
    engine.dispose()


@pytest.fixture
def metadata_db(empty_metadata_db: DbHandle, now: datetime) -> DbHandle:
    """The metadata database seeded with a small demo observatory (12 instruments, 2 years)."""
    demo.write_observatory(
        empty_metadata_db.engine, demo.demo_observatory(now, instruments=12, history_days=730)
    )
    return empty_metadata_db


@pytest.fixture
def db_settings(tmp_path: Path, monitor_db: DbHandle, empty_metadata_db: DbHandle) -> Settings:
    """Settings pointing at this test's two databases."""
    return _settings_for(tmp_path, MONITOR_URL=monitor_db.url, METADATA_URL=empty_metadata_db.url)


# --- RabbitMQ: the real broker, a queue of its own per test --------------------------------------


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """The test broker's URL; skipped without a broker, failed under CI (like PostgreSQL)."""
    import pika
    import pika.exceptions

    try:
        pika.BlockingConnection(pika.URLParameters(AMQP_TEST_URL)).close()
    except (pika.exceptions.AMQPError, OSError) as exc:
        reason = f"RabbitMQ not reachable at {AMQP_TEST_URL}: {type(exc).__name__} {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"CI requires RabbitMQ: {reason}")
        pytest.skip(reason)
    return AMQP_TEST_URL


@pytest.fixture
def amqp_queue(amqp_url: str) -> Iterator[str]:
    """A queue name no other test uses; the queue and its dead-letter queue are deleted after."""
    import pika

    name = f"ooistatus_test_{uuid.uuid4().hex[:12]}"
    yield name
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    for queue in (name, f"{name}.dead"):
        channel.queue_delete(queue)
    connection.close()
