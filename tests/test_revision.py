"""The data revision moves with every kind of committed write, and only then."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor.test_check import CTD_STREAMS, expected_rows, world  # noqa: F401  (the fixture)
from sqlalchemy import delete
from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.model.monitor import DataRevision
from ooi_status.monitor.expected import read_expected_csv, upsert_expected


def current(engine) -> int:
    with Session(engine) as session:
        return revision.current(session)


def test_a_bump_moves_it_by_one_when_committed_and_not_at_all_when_rolled_back(monitor_db):
    start = current(monitor_db.engine)
    with Session(monitor_db.engine) as session, session.begin():
        revision.bump(session)
        revision.bump(session)
    assert current(monitor_db.engine) == start + 2
    with Session(monitor_db.engine) as session:
        session.begin()
        revision.bump(session)
        session.rollback()
    assert current(monitor_db.engine) == start + 2


def test_a_missing_row_reads_0_and_the_next_bump_starts_it_elsewhere(monitor_db):
    with Session(monitor_db.engine) as session, session.begin():
        session.execute(delete(DataRevision))
    assert current(monitor_db.engine) == 0
    with Session(monitor_db.engine) as session, session.begin():
        revision.bump(session)
    assert current(monitor_db.engine) > 1


def test_check_rounds_move_it_when_they_wrote_something_and_only_then(world, now):  # noqa: F811
    with Session(world.monitor) as session:
        expected_rows(session)
    before = current(world.monitor)
    world.round(now)  # creates the instrument and its streams
    first = current(world.monitor)
    assert first == before + 1, "one bump per round, however much it wrote"
    world.round(now + timedelta(seconds=60))  # nothing moved: no write but the heartbeat
    assert current(world.monitor) == first
    world.set_last(CTD_STREAMS[0], now + timedelta(seconds=90), count=200)  # new data: bookkeeping
    world.round(now + timedelta(seconds=120))
    assert current(world.monitor) == first + 1
    world.round(now + timedelta(hours=2))  # every stream goes failed: status changes
    assert current(world.monitor) == first + 2
    world.round(now + timedelta(hours=2, seconds=60))
    assert current(world.monitor) == first + 2


def test_an_expected_csv_load_moves_it_when_it_changed_a_row(monitor_db, tmp_path: Path):
    path = tmp_path / "expected.csv"
    path.write_text("name,method,expected_rate,warn_interval,fail_interval\nctd,streamed,0,600,1800\n")
    start = current(monitor_db.engine)
    for expected_move in (1, 0):  # created; the same file again changes nothing
        with Session(monitor_db.engine) as session, session.begin():
            upsert_expected(session, read_expected_csv(path))
        assert current(monitor_db.engine) == start + expected_move
        start = current(monitor_db.engine)
    path.write_text("name,method,expected_rate,warn_interval,fail_interval\nctd,streamed,0,900,1800\n")
    with Session(monitor_db.engine) as session, session.begin():
        upsert_expected(session, read_expected_csv(path))
    assert current(monitor_db.engine) == start + 1
