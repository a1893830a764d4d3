"""SQLite under gunicorn's gevent worker: a write waiting on another process's lock holds up
only itself (reads of the same worker answer meanwhile), and a lock held past
SQLITE_BUSY_TIMEOUT is a 503 JSON answer naming the database, never a frozen worker.

The lock is held by a separate process (``BEGIN IMMEDIATE`` on the monitor database). One
gunicorn worker serves everything, so the reads and the write share its event loop.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine

from api import factories
from api.test_serving import Server, free_port, stop, wait_until
from ooi_status import migrate
from ooi_status.api import create_app, current_databases
from ooi_status.keys import hash_api_key, new_api_key
from ooi_status.migrate import ROOT
from ooi_status.model.metadata import MetadataBase

LOCKER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("COMMIT")
"""


class WriteLock:
    """Another process holding the write lock of a SQLite database until ``release``."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        self.process.communicate("\n", timeout=30)


@pytest.fixture
def sqlite_databases(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "monitor": tmp_path / "data" / "monitor.sqlite",
        "metadata": tmp_path / "data" / "metadata.sqlite",
    }
    paths["monitor"].parent.mkdir(parents=True)
    migrate.upgrade(f"sqlite:///{paths['monitor']}")
    for role, path in paths.items():
        engine = create_engine(f"sqlite:///{path}")
        if role == "monitor":
            factories.seed_fleet(engine, datetime.now(UTC))
        else:
            MetadataBase.metadata.create_all(engine)
        engine.dispose()
    return paths


@pytest.fixture
def gevent_server(sqlite_databases: dict[str, Path], tmp_path: Path) -> Iterator[tuple[Server, str]]:
    key = new_api_key()
    port = free_port()
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "OOISTATUS_BIND": f"127.0.0.1:{port}",
        "OOISTATUS_WORKERS": "1",
        "OOISTATUS_DATA_DIR": str(tmp_path / "data"),
        "OOISTATUS_MONITOR_URL": f"sqlite:///{sqlite_databases['monitor']}",
        "OOISTATUS_METADATA_URL": f"sqlite:///{sqlite_databases['metadata']}",
        "OOISTATUS_API_KEYS": f'{{"ops": "{hash_api_key(key)}"}}',
        # Long enough that the write is still waiting when the reads are done.
        "OOISTATUS_SQLITE_BUSY_TIMEOUT": "120",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", str(ROOT / "run_gunicorn.sh")], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until(lambda: server.get("/openapi.json").status_code == 200, 60, server)
        yield server, key
    finally:
        stop(process)


@pytest.mark.slow
def test_reads_answer_while_a_write_waits_on_another_process_lock(gevent_server, sqlite_databases):
    server, key = gevent_server
    assert server.get("/stream").status_code == 200  # the worker's engine and pool are made
    lock = WriteLock(sqlite_databases["monitor"])
    answers: dict[str, requests.Response] = {}

    def write() -> None:
        answers["write"] = requests.patch(
            f"{server.base}/deployed/1", json={"warn_interval": 321}, headers={"X-API-Key": key}, timeout=150
        )

    writer = threading.Thread(target=write)
    try:
        writer.start()
        time.sleep(1.0)  # let the write reach the lock; the reads below must not wait for it
        reads = [requests.get(f"{server.base}{path}", timeout=150) for path in ["/stream", "/instrument"] * 5]
        write_was_waiting = writer.is_alive()
    finally:
        lock.release()
        writer.join(timeout=150)
    assert [read.status_code for read in reads] == [200] * len(reads)
    assert write_was_waiting, "the reads were answered only after the write gave up"
    assert answers["write"].status_code == 200, answers["write"].text
    assert answers["write"].json()["warn_interval"] == 321


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_lock_held_past_the_busy_timeout_is_a_503_naming_the_database(
    api_settings, monitor_db, fleet, auth
):
    app = create_app(api_settings.replace(SQLITE_BUSY_TIMEOUT=0.5), TESTING=True)
    lock = WriteLock(Path(monitor_db.engine.url.database or ""))
    try:
        response = app.test_client().put(f"/stream/{fleet['ctd_sample']}/disable", headers=auth)
        read = app.test_client().get("/stream")
    finally:
        lock.release()
        with app.app_context():
            current_databases().dispose()
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "database_busy",
        "message": "the monitor database SQLite monitor.sqlite is busy: another process holds its write "
        "lock; nothing was changed, try again shortly",
    }
    assert read.status_code == 200  # reading needs no lock (WAL)
