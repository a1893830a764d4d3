"""Shared fixtures: settings, a migrated monitor database and a seeded metadata database.

Every database test runs twice: on SQLite (always) and on PostgreSQL, unless marked
``sqlite_only`` (what it checks happens before the database: keys, routing, error shapes,
validation). PostgreSQL is a set of databases per test session on OOISTATUS_TEST_POSTGRES
(default postgresql+psycopg2://postgres@127.0.0.1:5432/postgres), put back before each test as
a fresh one would be and dropped at the end. Without a server those tests skip with the reason
shown, except under CI (CI set): then they fail. SQLite databases are files copied per test from
templates made once per session (the migrated monitor schema, the metadata tables empty or
holding the demo observatory).
The AMQP tests follow the same rule for the RabbitMQ broker on OOISTATUS_TEST_AMQP (default
amqp://guest:guest@127.0.0.1:5672/%2F): each test gets a queue of its own, deleted after.
The monitor schema is always built by the Alembic migrations, never by create_all().
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, MetaData, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from ooi_status import demo, migrate
from ooi_status.config import Settings, load_settings
from ooi_status.db import make_engine
from ooi_status.model.metadata import MetadataBase
from ooi_status.model.monitor import MonitorBase

AMQP_TEST_URL = os.environ.get("OOISTATUS_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/%2F")
PG_URL = os.environ.get("OOISTATUS_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Without pytest-xdist (an environment installed before it joined the test extra, or
    ``-p no:xdist``) the ``--numprocesses``/``--dist`` of addopts are accepted and the suite runs
    in one process."""
    if not pluginmanager.hasplugin("xdist"):
        group = parser.getgroup("xdist", "pytest-xdist is not installed: one process")
        group.addoption("--numprocesses", dest="numprocesses", default=None, help="ignored")
        group.addoption("--dist", dest="dist", default="no", help="ignored")


@dataclass
class DbHandle:
    url: str
    engine: Engine
    seeded: datetime | None = None  # the time of the demo observatory it holds (metadata_db)

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


# --- PostgreSQL: one set of databases per session, put back before each test ------------------
#
# Each test gets the session's databases back as fresh ones would be, without TRUNCATE (which
# writes new files for every table, about 0.1 s a test) and without a database per test (DROP
# DATABASE forces a checkpoint of the whole server): the tables holding rows are emptied with
# DELETE, the sequences a test moved start again, and the seeded metadata database is written
# again only when its content or its tables differ from the seed.


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
    """URLs of this session's databases: "monitor" (migrated), "metadata", "seeded", "scratch"."""
    suffix = uuid.uuid4().hex[:10]
    names = {role: f"ooistatus_test_{suffix}_{role}" for role in ("monitor", "metadata", "seeded", "scratch")}
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


def _empty_tables(conn: Connection, metadata: MetaData) -> None:
    """Empty the tables of ``metadata`` that hold rows and restart every sequence a test moved.

    The same end state as ``TRUNCATE ... RESTART IDENTITY`` of every table, at a fraction of its
    cost: most tests write a few rows into a few tables. A missing table raises (the caller
    builds the schema again).
    """
    tables = metadata.sorted_tables
    probe = " UNION ALL ".join(
        f'SELECT {i} WHERE EXISTS (SELECT FROM "{t.name}")' for i, t in enumerate(tables)
    )
    holding = set(conn.execute(text(probe)).scalars())
    for i in reversed(range(len(tables))):  # referencing tables first
        if i in holding:
            conn.execute(text(f'DELETE FROM "{tables[i].name}"'))
    moved = conn.execute(
        text(
            "SELECT format('%I.%I', schemaname, sequencename), start_value FROM pg_sequences"
            " WHERE last_value IS NOT NULL AND schemaname = current_schema()"
        )
    ).all()
    for sequence, start in moved:
        conn.execute(text("SELECT setval(:s, :v, false)"), {"s": sequence, "v": start})


def _reset_monitor(engine: Engine) -> None:
    """The migrated monitor schema, empty but for the row its migration inserts."""
    try:
        with engine.begin() as conn:
            _empty_tables(conn, MonitorBase.metadata)
            conn.execute(text("INSERT INTO data_revision (id, revision) VALUES (1, 1)"))
    except DBAPIError:  # a test changed the schema itself: build it again
        engine.dispose()
        url = engine.url.render_as_string(hide_password=False)
        _recreate(url)
        migrate.upgrade(url)


def _recreate(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _reset_empty_metadata(engine: Engine) -> None:
    try:
        with engine.begin() as conn:
            _empty_tables(conn, MetadataBase.metadata)
    except DBAPIError:  # a table is missing or changed
        MetadataBase.metadata.drop_all(engine)
        MetadataBase.metadata.create_all(engine)


_FINGERPRINT_SCHEMA = """
SELECT string_agg(format('%s.%s %s %s', c.relname, a.attname, a.atttypid, a.attnotnull), ','
                  ORDER BY c.relname, a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
"""
_FINGERPRINT_SEQUENCES = (
    "SELECT string_agg(format('%s %s', sequencename, last_value), ',' ORDER BY sequencename)"
    " FROM pg_sequences WHERE schemaname = current_schema()"
)


def _fingerprint(engine: Engine) -> tuple[object, ...]:
    """What a test could have changed in a seeded metadata database: tables, columns, rows, sequences."""
    rows = " UNION ALL ".join(
        f'SELECT {i}, count(*), sum(hashtextextended(t::text, 0)) FROM "{table.name}" t'
        for i, table in enumerate(MetadataBase.metadata.sorted_tables)
    )
    with engine.connect() as conn:
        return (
            conn.execute(text(_FINGERPRINT_SCHEMA)).scalar(),
            conn.execute(text(_FINGERPRINT_SEQUENCES)).scalar(),
            tuple(conn.execute(text(rows)).all()),
        )


@dataclass
class _Seed:
    now: datetime
    fingerprint: tuple[object, ...]
    rows: dict[str, bytes]  # each table's rows as COPY text


_seeds: dict[str, _Seed] = {}


def _seeded_postgres(url: str, now: datetime, settings: Settings) -> Engine:
    """The "seeded" database holding the demo observatory of ``now``, put back only if changed.

    Changed rows are put back from a COPY of the seed's rows; changed tables or columns (or a
    seed of another time) mean the tables built and the observatory written again.
    """
    engine = make_engine(url, settings)
    seed = _seeds.get(url)
    if seed is not None and seed.now == now:
        try:
            found = _fingerprint(engine)
            if found != seed.fingerprint and found[0] == seed.fingerprint[0]:  # rows, not tables
                _copy_rows_in(engine, seed.rows)
                found = _fingerprint(engine)
            if found == seed.fingerprint:
                return engine
        except DBAPIError:
            pass
    _seeds.pop(url, None)
    MetadataBase.metadata.drop_all(engine)  # whatever a test left: tables built again, then the seed
    demo.write_observatory(engine, _demo_observatory(now))
    _seeds[url] = _Seed(now, _fingerprint(engine), _copy_rows_out(engine))
    return engine


def _copy_rows_out(engine: Engine) -> dict[str, bytes]:
    rows = {}
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for table in MetadataBase.metadata.sorted_tables:
            buffer = io.BytesIO()
            cursor.copy_expert(f'COPY "{table.name}" TO STDOUT', buffer)
            rows[table.name] = buffer.getvalue()
        connection.commit()
    finally:
        connection.close()
    return rows


def _copy_rows_in(engine: Engine, rows: dict[str, bytes]) -> None:
    tables = MetadataBase.metadata.sorted_tables
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        names = ", ".join(f'"{t.name}"' for t in tables)
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        for table in tables:
            cursor.copy_expert(f'COPY "{table.name}" FROM STDIN', io.BytesIO(rows[table.name]))
        connection.commit()
    finally:
        connection.close()


def _demo_observatory(now: datetime) -> demo.Observatory:
    return demo.demo_observatory(now, instruments=12, history_days=730)


# --- SQLite: migrated and seeded templates copied per test --------------------------------------


@pytest.fixture(scope="session")
def sqlite_monitor_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "monitor.sqlite"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def sqlite_metadata_templates(tmp_path_factory: pytest.TempPathFactory) -> Callable[[datetime | None], Path]:
    """The metadata tables in a file, empty (``None``) or holding the demo observatory of a time."""
    folder = tmp_path_factory.mktemp("metadata-templates")
    made: dict[datetime | None, Path] = {}

    def template(now: datetime | None) -> Path:
        if now not in made:
            path = folder / f"metadata-{len(made)}.sqlite"
            engine = make_engine(f"sqlite:///{path}", _settings_for(folder))
            MetadataBase.metadata.create_all(engine)
            if now is not None:
                demo.write_observatory(engine, _demo_observatory(now))
            engine.dispose()  # the last connection closed: the WAL is folded into the file
            made[now] = path
        return made[now]

    return template


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: "sqlite" or "postgresql".

    A test (or module) marked ``sqlite_only`` runs on SQLite only: see pytest_generate_tests.
    """
    return request.param


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``@pytest.mark.sqlite_only``: what the test checks happens before any database is involved
    (keys, routing, the error shape, input validation), so a second backend would add nothing.

    It becomes ``parametrize("backend", ["sqlite"], indirect=True)`` before pytest parametrizes
    the ``backend`` fixture (a test's own parametrize takes precedence over a fixture's params).
    """
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("sqlite_only"):
        metafunc.definition.add_marker(pytest.mark.parametrize("backend", ["sqlite"], indirect=True))


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
    else:
        url = request.getfixturevalue("pg_databases")["monitor"]
    engine = make_engine(url, settings)
    if backend == "postgresql":
        _reset_monitor(engine)
    yield DbHandle(url, engine)
    engine.dispose()


@pytest.fixture
def empty_metadata_db(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, settings: Settings
) -> Iterator[DbHandle]:
    """The OOI metadata tables, empty: tests write their own scenario into them.

    For a test that also asks for ``metadata_db`` this is already the seeded database (one
    database per test, as before, but the seed is copied rather than written each time).
    """
    seed = request.getfixturevalue("now") if "metadata_db" in request.fixturenames else None
    if backend == "sqlite":
        path = tmp_path / "data" / "metadata.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(request.getfixturevalue("sqlite_metadata_templates")(seed), path)
        url = f"sqlite:///{path}"
        engine = make_engine(url, settings)
    elif seed is not None:
        url = request.getfixturevalue("pg_databases")["seeded"]
        engine = _seeded_postgres(url, seed, settings)
    else:
        url = request.getfixturevalue("pg_databases")["metadata"]
        engine = make_engine(url, settings)
        _reset_empty_metadata(engine)
    yield DbHandle(url, engine, seeded=seed)
    engine.dispose()


@pytest.fixture
def metadata_db(empty_metadata_db: DbHandle, now: datetime) -> DbHandle:
    """The metadata database seeded with a small demo observatory (12 instruments, 2 years)."""
    if empty_metadata_db.seeded != now:  # asked for late (request.getfixturevalue)
        demo.write_observatory(empty_metadata_db.engine, _demo_observatory(now))
        empty_metadata_db.seeded = now
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
