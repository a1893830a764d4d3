"""The synthetic observatory: deterministic, and shaped exactly like the OOI metadata tables."""

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from ooi_status import demo
from ooi_status.model.metadata import StreamMetadata
from ooi_status.times import datetime_to_ntp

# Columns of spec/METADATA_SCHEMA.md: name → type family.
SPEC_COLUMNS = {
    "stream_metadata": {
        "id": "INT",
        "subsite": "CHAR",
        "node": "CHAR",
        "sensor": "CHAR",
        "method": "CHAR",
        "stream": "CHAR",
        "count": "BIGINT",
        "first": "FLOAT",
        "last": "FLOAT",
    },
    "partition_metadata": {
        "id": "INT",
        "subsite": "CHAR",
        "node": "CHAR",
        "sensor": "CHAR",
        "method": "CHAR",
        "stream": "CHAR",
        "store": "CHAR",
        "bin": "BIGINT",
        "count": "BIGINT",
        "first": "FLOAT",
        "last": "FLOAT",
        "modified": "TIMESTAMP",
    },
    "xdeployment": {
        "eventid": "INT",
        "subsite": "CHAR",
        "node": "CHAR",
        "sensor": "CHAR",
        "deploymentnumber": "INT",
        "versionnumber": "INT",
        "editphase": "CHAR",
        "sassetid": "INT",
    },
    "xevent": {
        "eventid": "INT",
        "eventname": "CHAR",
        "eventtype": "CHAR",
        "eventstarttime": "BIGINT",
        "eventstoptime": "BIGINT",
        "datasource": "CHAR",
        "notes": "CHAR",
        "assetuid": "CHAR",
        "lastmodifiedtimestamp": "BIGINT",
    },
    "xinstrument": {"assetid": "INT", "eventid": "INT"},
    "xasset": {"assetid": "INT", "uid": "CHAR"},
}
TYPE_WORDS = {
    "INT": ("INT",),
    "BIGINT": ("BIGINT",),
    "CHAR": ("CHAR", "TEXT"),
    "FLOAT": ("FLOAT", "DOUBLE"),
    "TIMESTAMP": ("TIMESTAMP", "DATETIME"),
}


def dump(engine):
    with engine.connect() as conn:
        return {
            table: conn.execute(text(f"select * from {table} order by 1")).all() for table in SPEC_COLUMNS
        }


def test_tables_match_the_metadata_schema_column_for_column(metadata_db):
    inspector = inspect(metadata_db.engine)
    for table, columns in SPEC_COLUMNS.items():
        actual = {c["name"]: str(c["type"]).upper() for c in inspector.get_columns(table)}
        for name, family in columns.items():
            assert name in actual, f"{table}.{name} missing"
            assert any(word in actual[name] for word in TYPE_WORDS[family]), (table, name, actual[name])
        if table != "xasset":
            assert set(actual) == set(columns), table
    unique = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("partition_metadata")}
    assert ("subsite", "node", "sensor", "method", "stream", "bin", "store") in unique


def test_same_seed_builds_the_same_database(empty_metadata_db, now, tmp_path):
    other = demo.demo_observatory(now, instruments=6, seed=5, history_days=200)
    assert other == demo.demo_observatory(now, instruments=6, seed=5, history_days=200)
    assert other != demo.demo_observatory(now, instruments=6, seed=6, history_days=200)
    demo.write_observatory(empty_metadata_db.engine, other)
    from sqlalchemy import create_engine

    again = create_engine(f"sqlite:///{tmp_path / 'again.sqlite'}")
    demo.write_observatory(again, demo.demo_observatory(now, instruments=6, seed=5, history_days=200))
    assert dump(empty_metadata_db.engine) == dump(again)


def test_demo_has_deployments_gaps_and_sparse_bins(now):
    obs = demo.demo_observatory(now, instruments=12, history_days=730)
    refdes = obs.refdes_list()
    assert all(r.count("-") >= 3 for r in refdes)
    assert any(d["deploymentnumber"] > 1 for d in obs.deployments)
    assert any(e["eventstoptime"] is None for e in obs.events)
    assert {s["method"] for s in obs.streams} >= {"streamed", "telemetered", "recovered_host"}
    day = demo.DAY
    bins = [p for p in obs.partitions if p["method"] == "streamed"]
    gaps = sum(
        1
        for a, b in zip(bins, bins[1:], strict=False)
        if a["stream"] == b["stream"] and a["sensor"] == b["sensor"] and b["bin"] - a["bin"] > day
    )
    sparse = sum(
        1
        for p in bins
        if p["stream"].endswith("sample") and p["count"] < 0.5 * 86_400 and p["last"] - p["first"] > 0.9 * day
    )
    assert gaps > 0 and sparse > 0


def test_stream_names_come_from_the_expected_table(now):
    from ooi_status.monitor.expected import read_expected_csv

    known = {(row.name, row.method) for row in read_expected_csv(demo.EXPECTED_CSV)}
    known |= {(row.name, row.method) for row in read_expected_csv(demo.DEMO_EXPECTED_CSV)}
    obs = demo.demo_observatory(now, instruments=40)
    monitored = {(s["stream"], s["method"]) for s in obs.streams if s["method"] in demo.MONITORED}
    assert monitored <= known


def test_live_mode_advances_most_streams_and_stalls_some(metadata_db, now):
    later = now + timedelta(minutes=5)
    advanced = demo.advance_live(metadata_db.engine, later)
    with metadata_db.engine.connect() as conn:
        rows = conn.execute(
            select(StreamMetadata.id, StreamMetadata.last).where(StreamMetadata.method.in_(demo.MONITORED))
        ).all()
    fresh = [r for r in rows if r.last > datetime_to_ntp(later) - 60]
    assert len(fresh) == advanced
    assert 0.6 * len(rows) <= advanced < len(rows)


@pytest.mark.parametrize("stream_id", range(1, 40))
def test_live_state_is_stable_within_a_period(stream_id, now):
    assert demo.live_state(7, stream_id, now) == demo.live_state(7, stream_id, now + timedelta(seconds=1))
