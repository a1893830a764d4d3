"""Rows kept between reads, each read after the first asking for the rows written since (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from ooi_status.kept_rows import KeptRows
from ooi_status.model.metadata import StreamMetadata

S = StreamMetadata.__table__


def _kept() -> KeptRows:
    return KeptRows(
        "stream_metadata",
        ("id", "stream", "count"),
        key=lambda row: row.id,
        value=lambda row: (row.stream, row.count),
    )


def _table(engine) -> dict:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {
            row.id: (row.stream, row.count) for row in conn.execute(select(S.c.id, S.c.stream, S.c.count))
        }


@pytest.fixture
def engine(metadata_db):  # type: ignore[no-untyped-def]
    if metadata_db.backend != "postgresql":
        pytest.skip("row versions (xmin): PostgreSQL only")
    return metadata_db.engine


def test_a_read_after_the_first_returns_only_the_rows_written_since(engine) -> None:  # type: ignore[no-untyped-def]
    kept = _kept()
    returned: list[int] = []
    event.listen(engine, "after_cursor_execute", lambda conn, cursor, *args: returned.append(cursor.rowcount))
    with engine.connect() as conn:
        assert kept.read(conn) == _table(engine)
        chosen = conn.execute(select(S.c.id).order_by(S.c.id).limit(1)).scalar_one()
    with engine.begin() as conn:
        conn.execute(S.update().where(S.c.id == chosen).values(count=S.c.count + 1))
    returned.clear()
    with engine.connect() as conn:
        rows = kept.read(conn)
    assert returned == [1]  # (a row always: the count, and the changed row beside it)
    assert rows == _table(engine)


def test_a_previous_read_too_far_back_to_compare_reads_the_table_whole(engine) -> None:  # type: ignore[no-untyped-def]
    kept = _kept()
    with engine.connect() as conn:
        kept.read(conn)
        chosen = conn.execute(select(S.c.id).order_by(S.c.id).limit(1)).scalar_one()
    with engine.begin() as conn:
        conn.execute(S.update().where(S.c.id == chosen).values(count=S.c.count + 1))
    assert kept._since is not None
    kept._since = (kept._since + 2**31 - 10) % 2**32  # as if 2**31 + 10 transactions had passed: age < 0
    with engine.connect() as conn:
        assert kept.read(conn) == _table(engine)


def test_two_rows_of_one_key_make_no_kept_rows(engine) -> None:  # type: ignore[no-untyped-def]
    kept = KeptRows("stream_metadata", ("id", "method"), key=lambda row: row.method, value=lambda row: row.id)
    with engine.connect() as conn:
        assert kept.read(conn) is None
