"""The SQLAlchemy readers of the OOI metadata tables, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, event, select

from ooi_status import demo
from ooi_status.model.metadata import StreamMetadata
from ooi_status.sources import deployment_source, stream_source
from ooi_status.sources.base import BinRow, DeploymentRow, SourceUnavailable, StreamKey, StreamRow
from ooi_status.sources.columns import BinTable
from ooi_status.sources.postgres import (
    PostgresDeploymentSource,
    PostgresStreamSource,
    connected,
    one_connection,
)
from ooi_status.times import datetime_to_ntp, datetime_to_unix_ms

REFDES = "CE02SHBP-LJ01D-06-CTDBPN106"  # the sensor part holds a dash
OTHER = "CE02SHBP-LJ01D-06-CTDBPN107"
T0 = datetime_to_ntp(datetime(2016, 1, 1, tzinfo=UTC))
DAY = 86_400


def day_bin(k: int, count: int = 100) -> tuple[int, int, float, float]:
    """Bin k days after T0: first 10 s after the bin start, last 10 s before its end."""
    start = int(T0) + k * DAY
    return (start, count, start + 10.0, start + DAY - 10.0)


def as_rows(bins: list[tuple[int, int, float, float]]) -> list[BinRow]:
    return [BinRow(*b) for b in bins]


def as_lists(bins: Mapping[StreamKey, Sequence[BinRow]]) -> dict[StreamKey, list[BinRow]]:
    """The rows of each stream as a list (PostgreSQL answers a BinTable, SQLite a list)."""
    return {key: list(rows) for key, rows in bins.items()}


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def streams_db(empty_metadata_db):  # type: ignore[no-untyped-def]
    obs = demo.Observatory()
    obs.add_stream(REFDES, "streamed", "ctdbp_no_sample", [day_bin(k) for k in (2, 0, 1, 5)])
    obs.add_stream(REFDES, "streamed", "ctdbp_no_hardware", [day_bin(k, 7) for k in range(3)])
    obs.add_stream(REFDES, "recovered_inst", "ctdbp_no_sample", [day_bin(k, 50) for k in range(10, 12)])
    obs.add_stream(REFDES, "bad_streamed", "ctdbp_no_sample", [day_bin(0)])
    obs.add_stream(REFDES, "telemetered", "ctdbp_no_sample", [])
    obs.add_stream(OTHER, "streamed", "ctdbp_no_sample", [day_bin(k, 1) for k in range(6)])
    demo.write_observatory(empty_metadata_db.engine, obs)
    return empty_metadata_db


def test_bins_of_several_streams_come_in_one_statement_ordered_by_bin(streams_db):
    source = PostgresStreamSource(streams_db.engine)
    keys = [
        ("streamed", "ctdbp_no_sample"),
        ("streamed", "ctdbp_no_hardware"),
        ("telemetered", "ctdbp_no_sample"),
    ]
    with statements(streams_db.engine) as sent:
        bins = source.bins(REFDES, keys, T0, T0 + 30 * DAY)
    assert len(sent) == 1
    assert as_lists(bins) == {
        ("streamed", "ctdbp_no_sample"): as_rows([day_bin(k) for k in (0, 1, 2, 5)]),
        ("streamed", "ctdbp_no_hardware"): as_rows([day_bin(k, 7) for k in range(3)]),
    }  # a stream without bins in the window is left out; another instrument's bins never come


@pytest.mark.parametrize(
    ("start", "stop", "expected"),
    [
        pytest.param(T0 + DAY - 10, T0 + 2 * DAY + 10, [1], id="last == start is out, first == stop is out"),
        pytest.param(T0 + DAY - 11, T0 + 2 * DAY + 11, [0, 1, 2], id="last > start and first < stop are in"),
        pytest.param(T0 + 1.5 * DAY, T0 + 1.6 * DAY, [1], id="a window inside one bin"),
        pytest.param(T0 + 3 * DAY, T0 + 5 * DAY + 10, [], id="nothing overlaps"),
    ],
)
def test_bins_overlap_rule(streams_db, start, stop, expected):
    source = PostgresStreamSource(streams_db.engine)
    bins = source.bins(REFDES, [("streamed", "ctdbp_no_sample")], start, stop)
    assert list(bins.get(("streamed", "ctdbp_no_sample"), [])) == as_rows([day_bin(k) for k in expected])


def test_bins_rows_have_first_last_and_count_attributes(streams_db):
    source = PostgresStreamSource(streams_db.engine)
    (row, *_) = source.bins(REFDES, [("recovered_inst", "ctdbp_no_sample")], T0, T0 + 30 * DAY)[
        ("recovered_inst", "ctdbp_no_sample")
    ]
    assert (row.bin, row.points, row.first, row.last) == day_bin(10, 50)
    assert isinstance(row.bin, int) and isinstance(row.points, int) and isinstance(row.first, float)


def test_postgresql_answers_columns_and_sqlite_rows(streams_db):
    """PostgreSQL's packed rows are decoded into a BinTable (columns the rules take as arrays);
    SQLite's rows come one by one. Both are sequences of the same BinRows."""
    source = PostgresStreamSource(streams_db.engine)
    rows = source.bins(REFDES, [("streamed", "ctdbp_no_sample")], T0, T0 + 30 * DAY)[
        ("streamed", "ctdbp_no_sample")
    ]
    assert isinstance(rows, BinTable) is (streams_db.backend == "postgresql")
    assert list(rows) == as_rows([day_bin(k) for k in (0, 1, 2, 5)])


def test_bins_for_a_malformed_refdes_or_no_stream_are_empty(streams_db):
    source = PostgresStreamSource(streams_db.engine)
    assert source.bins("CE02SHBP", [("streamed", "ctdbp_no_sample")], T0, T0 + DAY) == {}
    assert source.bins(REFDES, [], T0, T0 + DAY) == {}


def test_a_bin_held_in_two_stores_counts_once_with_the_first_store_by_name(empty_metadata_db):
    obs = demo.Observatory()
    obs.add_stream(REFDES, "streamed", "ctdbp_no_sample", [day_bin(0), day_bin(1)])
    copy = {**obs.partitions[1], "id": 3, "store": "aaa", "count": 99}
    obs.partitions.append(copy)
    demo.write_observatory(empty_metadata_db.engine, obs)
    source = PostgresStreamSource(empty_metadata_db.engine)
    bins = source.bins(REFDES, [("streamed", "ctdbp_no_sample")], T0, T0 + 5 * DAY)
    start, _, first, last = day_bin(1)
    assert list(bins[("streamed", "ctdbp_no_sample")]) == [
        BinRow(*day_bin(0)),
        BinRow(start, 99, first, last),
    ]


def test_streams_filtered_by_method_and_instrument(streams_db):
    source = PostgresStreamSource(streams_db.engine)
    rows = source.streams(methods=["streamed"], refdes=[REFDES])
    assert sorted((r.method, r.stream) for r in rows) == [
        ("streamed", "ctdbp_no_hardware"),
        ("streamed", "ctdbp_no_sample"),
    ]
    everything = source.streams(refdes=[REFDES])
    assert len(everything) == 5
    assert {r.sensor for r in everything} == {"06-CTDBPN106"}
    assert len(source.streams()) == 6
    assert source.streams(refdes=["not-a-refdes-at all but-long-enough-to-fail"]) == []


# --- deployments -------------------------------------------------------------------------------


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def deployed() -> demo.Observatory:
    """REFDES deployed twice (deployment 1 in two versions), OTHER once, from 2030 on."""
    obs = demo.Observatory()
    obs.add_deployment(REFDES, 2, utc(2017, 1, 1), None, "CGINS-CTDBPN-00002")
    obs.add_deployment(REFDES, 1, utc(2015, 1, 1), utc(2016, 1, 1), "CGINS-CTDBPN-00001")
    obs.add_deployment(REFDES, 1, utc(2015, 2, 1), utc(2016, 6, 1), "CGINS-CTDBPN-00011")
    obs.deployments[-1]["versionnumber"] = 2  # a later version of deployment 1
    obs.add_deployment(OTHER, 1, utc(2030, 1, 1), None, "CGINS-CTDBPN-00003")  # not yet in the water
    return obs


@pytest.fixture
def deployments_db(empty_metadata_db):  # type: ignore[no-untyped-def]
    obs = deployed()
    obs.add_deployment("RS01SLBS-LJ01A-05-HPIESA101", 1, utc(2016, 1, 1), None, None)  # asset without UID
    obs.add_stream("RS03AXPS-PC03A-4A-CTDPFA303", "streamed", "ctdpf_optode_sample", [day_bin(0)])
    demo.write_observatory(empty_metadata_db.engine, obs)
    return empty_metadata_db


def test_deployments_latest_version_of_each_number_ordered_by_start(deployments_db):
    source = PostgresDeploymentSource(deployments_db.engine)
    ms = datetime_to_unix_ms
    assert source.deployments(REFDES) == [
        DeploymentRow(1, ms(utc(2015, 2, 1)), ms(utc(2016, 6, 1))),
        DeploymentRow(2, ms(utc(2017, 1, 1)), None),
    ]
    assert source.deployments("RS03AXPS-PC03A-4A-CTDPFA303") == []
    assert source.deployments("malformed") == []


@pytest.fixture
def instruments_db(empty_metadata_db):  # type: ignore[no-untyped-def]
    obs = deployed()  # OTHER: deployed, no stream
    for method, stream in [("streamed", "ctdbp_no_sample"), ("telemetered", "ctdbp_no_sample")]:
        obs.add_stream(REFDES, method, stream, [day_bin(0), day_bin(1, 50)])
    obs.add_stream(REFDES, "recovered_host", "ctdbp_no_hardware", [], last=T0, count=0)
    obs.add_stream(
        "RS03AXPS-PC03A-4A-CTDPFA303", "streamed", "ctdpf_optode_sample", [day_bin(0)]
    )  # no deployment
    demo.write_observatory(empty_metadata_db.engine, obs)
    return empty_metadata_db


def test_instrument_rows_are_the_deployments_and_the_streams_in_one_statement(instruments_db):
    engine = instruments_db.engine
    deployments, streams = PostgresDeploymentSource(engine), PostgresStreamSource(engine)
    elsewhere = PostgresStreamSource(create_engine(instruments_db.url))  # another reader: two reads
    statements: list[str] = []
    record = lambda *args: statements.append(args[2])  # noqa: E731
    instruments = [REFDES, OTHER, "RS03AXPS-PC03A-4A-CTDPFA303", "RS03AXPS-PC03A-4A-CTDPFA304", "malformed"]
    try:
        for refdes in instruments:
            expected = (deployments.deployments(refdes), sorted(streams.streams(refdes=[refdes])))
            event.listen(engine, "before_cursor_execute", record)
            found = deployments.instrument_rows(refdes, streams)
            event.remove(engine, "before_cursor_execute", record)
            assert (found[0], sorted(found[1])) == expected
            assert all(type(row) is StreamRow for row in found[1])
            assert len(statements) == (0 if refdes == "malformed" else 1)
            statements.clear()
            other = deployments.instrument_rows(refdes, elsewhere)
            assert (other[0], sorted(other[1])) == expected
    finally:
        elsewhere.engine.dispose()
    deployed, rows = deployments.instrument_rows(REFDES, streams)
    assert deployed == [
        DeploymentRow(1, datetime_to_unix_ms(utc(2015, 2, 1)), datetime_to_unix_ms(utc(2016, 6, 1))),
        DeploymentRow(2, datetime_to_unix_ms(utc(2017, 1, 1)), None),
    ]
    assert sorted((row.method, row.points) for row in rows) == [
        ("recovered_host", 0),
        ("streamed", 150),
        ("telemetered", 150),
    ]


def test_instrument_exists_by_stream_or_by_deployment(deployments_db):
    source = PostgresDeploymentSource(deployments_db.engine)
    assert source.instrument_exists(REFDES)  # deployments only
    assert source.instrument_exists("RS03AXPS-PC03A-4A-CTDPFA303")  # a stream only
    assert not source.instrument_exists("RS03AXPS-PC03A-4A-CTDPFA304")
    assert not source.instrument_exists("RS03AXPS-PC03A")


def test_open_deployments_in_the_water_now_with_an_asset_uid(deployments_db):
    source = PostgresDeploymentSource(deployments_db.engine)
    now = utc(2026, 11, 23)
    found = source.open_deployments(datetime_to_unix_ms(now))
    assert {refdes: (d.number, d.asset_uid) for refdes, d in found.items()} == {
        REFDES: (2, "CGINS-CTDBPN-00002")
    }
    earlier = source.open_deployments(datetime_to_unix_ms(utc(2016, 3, 1)))
    assert {refdes: (d.number, d.asset_uid) for refdes, d in earlier.items()} == {
        REFDES: (1, "CGINS-CTDBPN-00011")
    }


def test_factories_choose_the_postgres_reader(db_settings):
    from ooi_status.db import Databases

    databases = Databases(db_settings)
    try:
        assert isinstance(stream_source(db_settings, databases), PostgresStreamSource)
        assert isinstance(deployment_source(databases), PostgresDeploymentSource)
    finally:
        databases.dispose()


def test_an_unreachable_database_is_source_unavailable(settings):
    from ooi_status.db import make_engine

    engine = make_engine("postgresql+psycopg2://postgres@127.0.0.1:1/metadata", settings)
    try:
        with pytest.raises(SourceUnavailable):
            PostgresStreamSource(engine).bins(REFDES, [("streamed", "x")], T0, T0 + DAY)
        with pytest.raises(SourceUnavailable):
            PostgresDeploymentSource(engine).deployments(REFDES)
    finally:
        engine.dispose()


def test_streams_are_stream_rows_with_their_count_as_points(streams_db):
    """Every way of reading streams answers StreamRows, each field from the column it names."""
    source = PostgresStreamSource(streams_db.engine)
    with streams_db.engine.connect() as conn:
        s = StreamMetadata.__table__.c
        stored = {
            (f"{r.subsite}-{r.node}-{r.sensor}", r.method, r.stream): (r.count, r.first, r.last)
            for r in conn.execute(
                select(s.subsite, s.node, s.sensor, s.method, s.stream, s.count, s.first, s.last)
            )
        }
    for rows in (source.streams(), source.streams(refdes=[REFDES]), source.streams(methods=["streamed"])):
        assert rows and all(type(row) is StreamRow for row in rows)
        for row in rows:
            refdes = f"{row.subsite}-{row.node}-{row.sensor}"
            assert (row.points, row.first, row.last) == stored[(refdes, row.method, row.stream)]
    assert len(source.streams()) == len(stored)
    assert "count" not in StreamRow._fields and "count" not in BinRow._fields  # tuple.count stays a method


def test_reads_inside_one_connection_share_one_checkout(streams_db):
    """A request's reads of the deployments and the streams take one connection from the pool
    (and ping it once), and give it back at the end."""
    engine = streams_db.engine
    streams, deployments = PostgresStreamSource(engine), PostgresDeploymentSource(engine)
    checkouts: list[object] = []
    record = lambda *_: checkouts.append(1)  # noqa: E731
    event.listen(engine, "checkout", record)
    try:
        alone = (deployments.deployments(REFDES), streams.streams(refdes=[REFDES]))
        assert len(checkouts) == 2
        with one_connection():
            shared = (deployments.deployments(REFDES), streams.streams(refdes=[REFDES]))
            assert deployments.has_deployment(REFDES) == bool(shared[0])
        assert len(checkouts) == 3
    finally:
        event.remove(engine, "checkout", record)
    assert shared == alone and shared[1]
    assert engine.pool.checkedout() == 0


def test_a_failure_inside_one_connection_is_source_unavailable_and_the_connection_returns(streams_db):
    engine = streams_db.engine
    with (
        pytest.raises(SourceUnavailable, match="metadata database"),
        one_connection(),
        connected(engine) as conn,
    ):
        conn.exec_driver_sql("SELECT * FROM no_such_table")
    assert engine.pool.checkedout() == 0


# --- the numbers of every stream, as the coverage upkeep compares them ---------------------------


def _numbers(rows: Sequence[StreamRow], excluded: str = "") -> dict[tuple[str, str, str], tuple]:
    return {
        (f"{r.subsite}-{r.node}-{r.sensor}", r.method, r.stream): (r.points, r.first, r.last)
        for r in rows
        if not (excluded and r.method.startswith(excluded))
    }


@pytest.mark.parametrize("excluded", ["", "recovered", "nothing-such"])
def test_stream_points_are_the_numbers_of_the_stream_rows(metadata_db, excluded: str) -> None:  # type: ignore[no-untyped-def]
    source = PostgresStreamSource(metadata_db.engine)
    points = source.stream_points(excluded)
    if metadata_db.backend != "postgresql":
        assert points is None
        return
    rows = source.streams()
    assert points == _numbers(rows, excluded)
    assert len(points) < len(rows) if excluded == "recovered" else len(points) == len(rows)


@pytest.mark.parametrize(
    ("names", "kept"),
    [
        ({"node": "LJ-01D"}, False),  # the refdes would not split back: left to the rows
        ({"subsite": "CE02-SHBP"}, False),
        ({"stream": "ctdbp\tsample"}, True),
        ({"method": "streamed\nagain"}, True),
    ],
)
def test_stream_points_leave_names_that_do_not_split_back_to_the_rows(metadata_db, names, kept) -> None:  # type: ignore[no-untyped-def]
    engine = metadata_db.engine
    s = StreamMetadata.__table__
    with engine.begin() as conn:
        chosen = conn.execute(select(s.c.id).order_by(s.c.id).limit(1)).scalar_one()
        conn.execute(s.update().where(s.c.id == chosen).values(**names))
    source = PostgresStreamSource(engine)
    expected = _numbers(source.streams()) if kept else None
    assert source.stream_points() == (expected if metadata_db.backend == "postgresql" else None)


def test_stream_points_read_again_follow_every_change_of_the_stream_rows(metadata_db) -> None:  # type: ignore[no-untyped-def]
    """One source read after each write of another connection (ingest): a moved count, a new
    stream, a removed one, one renamed, one moved out of and back into the methods read, a write
    rolled back. The source keeps what it read and asks for the rows written since."""
    engine = metadata_db.engine
    s = StreamMetadata.__table__
    source = PostgresStreamSource(engine)
    with engine.connect() as conn:
        first, second, third = conn.execute(select(s).order_by(s.c.id).limit(3)).all()
        top = conn.execute(select(s.c.id).order_by(s.c.id.desc()).limit(1)).scalar_one()
    writes = [
        s.update().where(s.c.id == first.id).values(count=first.count + 7, last=first.last + 60),
        s.insert().values({**second._asdict(), "id": top + 1, "stream": "brand_new", "count": 5}),
        s.delete().where(s.c.id == third.id),
        s.update().where(s.c.id == second.id).values(stream="renamed"),
        s.update().where(s.c.id == first.id).values(method="recovered_host"),
        s.update().where(s.c.id == first.id).values(method="streamed", first=first.first - 1),
    ]
    assert source.stream_points("recovered") == _expected(source, "recovered", metadata_db.backend)
    for write in writes:
        with engine.begin() as conn:
            conn.execute(write)
        assert source.stream_points("recovered") == _expected(source, "recovered", metadata_db.backend)
    with engine.connect() as conn:
        conn.execute(s.update().where(s.c.id == second.id).values(count=1))
        conn.rollback()
    assert source.stream_points("recovered") == _expected(source, "recovered", metadata_db.backend)
    assert source.stream_points("") == _expected(source, "", metadata_db.backend)


def _expected(source: PostgresStreamSource, excluded: str, backend: str) -> dict | None:
    return _numbers(source.streams(), excluded) if backend == "postgresql" else None
