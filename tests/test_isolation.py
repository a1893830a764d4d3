"""The database fixtures give every test fresh databases, whatever the test before it did.

Each test runs twice in a row (``visit``): both check that they start from the fresh state, then
leave as much behind as they can; the second visit fails if the first one's traces leaked.
Run in parallel (pytest -n) the visits still follow each other in one worker: ``--dist
loadfile`` (pyproject.toml) keeps the tests of a module together and in order.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, inspect, select, text, update

from ooi_status import demo
from ooi_status.model.metadata import PartitionMetadata, StreamMetadata, XAsset
from ooi_status.model.monitor import DataRevision, ExpectedStream, ReferenceDesignator

VISITS = [1, 2]


@pytest.mark.parametrize("visit", VISITS)
def test_the_monitor_database_starts_empty_and_migrated(monitor_db, visit):
    engine = monitor_db.engine
    with engine.connect() as conn:
        assert conn.execute(select(DataRevision.id, DataRevision.revision)).all() == [(1, 1)]
        assert conn.execute(select(func.count()).select_from(ReferenceDesignator)).scalar() == 0
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    with engine.begin() as conn:
        first = conn.execute(insert(ReferenceDesignator).values(name="CE01ISSM-MFD35-02-PRESFA000"))
        assert first.inserted_primary_key[0] == 1  # identities start again
        conn.execute(
            insert(ExpectedStream).values(
                name="ctdbp_no_sample", method="streamed", expected_rate=0, warn_interval=1, fail_interval=2
            )
        )
        conn.execute(update(DataRevision).values(revision=DataRevision.revision + 5))
    with engine.connect() as conn:  # an insert rolled back still moves the identity on PostgreSQL
        conn.execute(insert(ReferenceDesignator).values(name="CE01ISSM-MFD35-02-PRESFA001"))
        conn.rollback()


@pytest.mark.parametrize("visit", VISITS)
def test_the_empty_metadata_database_starts_empty(empty_metadata_db, visit):
    engine = empty_metadata_db.engine
    with engine.connect() as conn:
        for table in (StreamMetadata, PartitionMetadata, XAsset):
            assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
    with engine.begin() as conn:
        new = conn.execute(
            insert(StreamMetadata).values(
                subsite="X", node="Y", sensor="Z", method="streamed", stream="s", count=1, first=0, last=1
            )
        )
        assert new.inserted_primary_key[0] == 1  # identities start again
        conn.execute(insert(XAsset).values(assetid=7, uid="X-1"))


def _contents(engine) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {
            "streams": sorted(conn.execute(select(StreamMetadata.id, StreamMetadata.last)).all()),
            "partitions": conn.execute(
                select(func.count(), func.sum(PartitionMetadata.count)).select_from(PartitionMetadata)
            ).one(),
            "assets": conn.execute(select(func.count()).select_from(XAsset)).scalar(),
            "asset columns": sorted(c["name"] for c in inspect(conn).get_columns("xasset")),
        }


@pytest.mark.parametrize("visit", ["rows", "rows and a column", "rows again"])
def test_the_seeded_metadata_database_starts_as_seeded(metadata_db, now, visit):
    observatory = demo.demo_observatory(now, instruments=12, history_days=730)
    contents = _contents(metadata_db.engine)
    assert contents["streams"] == sorted((s["id"], s["last"]) for s in observatory.streams)
    assert tuple(contents["partitions"]) == (
        len(observatory.partitions),
        sum(p["count"] for p in observatory.partitions),
    )
    assert contents["assets"] == len(observatory.assets)
    assert "scratch" not in contents["asset columns"]
    with metadata_db.engine.begin() as conn:  # a live round, a removed bin, a new asset
        live = update(StreamMetadata).where(StreamMetadata.id == 1)
        conn.execute(live.values(last=StreamMetadata.last + 60))
        conn.execute(text("DELETE FROM partition_metadata WHERE id = 1"))
        conn.execute(insert(XAsset).values(assetid=99_999, uid="TEST-99999"))
        if visit == "rows and a column":
            conn.execute(text("ALTER TABLE xasset ADD COLUMN scratch INTEGER"))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("visit", VISITS)
def test_a_monitor_table_dropped_by_a_test_is_back_for_the_next(monitor_db, backend, visit):
    assert "silence" in inspect(monitor_db.engine).get_table_names()
    with monitor_db.engine.begin() as conn:
        conn.execute(text("DROP TABLE silence"))
