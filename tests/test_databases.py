"""One process's engines: made once, whichever thread asks first."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.db import SINGLE_READS_POOL, Databases, read_once


def test_threads_asking_together_share_one_engine_per_database(settings, tmp_path):
    databases = Databases(settings.replace(MONITOR_URL=f"sqlite:///{tmp_path / 'monitor.sqlite'}"))
    start = threading.Barrier(16)
    found: list[object] = []

    def ask() -> None:
        start.wait(10)
        found.append(databases.monitor)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    try:
        assert len(found) == 16
        assert len({id(engine) for engine in found}) == 1
    finally:
        databases.dispose()


def test_a_single_read_runs_on_its_own_and_again_on_a_new_connection_when_the_server_ended_its_own(
    settings, monitor_db
):
    databases = Databases(settings.replace(MONITOR_URL=monitor_db.url))
    reads = databases.monitor_reads
    # (A statement's start is its transaction's start only when no BEGIN came before it.)
    own = "SELECT pid, xact_start = query_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
    with Session(monitor_db.engine) as session, session.begin():
        revision.bump(session)
    try:
        with Session(monitor_db.engine) as session:
            assert revision.read_current(reads) == revision.current(session) > 0
        if monitor_db.backend != "postgresql":
            assert reads is databases.monitor  # a SQLite read is no round trip: nothing to save
            return
        ((pid, alone),) = read_once(reads, text(own))
        assert alone, "the read ran inside a transaction"
        assert reads.pool.size() == SINGLE_READS_POOL and reads is not databases.monitor
        admin = create_engine(monitor_db.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
        admin.dispose()
        ((again, _),) = read_once(reads, text(own))  # the dead connection first, then a new one
        assert again != pid
        with pytest.raises(ProgrammingError):  # any other failure is the caller's, tried once
            read_once(reads, text("SELECT no_such_column FROM data_revision"))
    finally:
        databases.dispose()
