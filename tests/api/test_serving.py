"""run_gunicorn.sh on a free loopback port against PostgreSQL: real concurrent HTTP requests,
503s while the monitor database refuses connections, then recovery by itself.

The databases are this test's own (created and dropped here), so cutting one off disturbs
nothing else. Every wait is bounded; gunicorn is stopped by its pid, its group killed if
it does not stop in time.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api import factories
from ooi_status import migrate
from ooi_status.keys import hash_api_key, new_api_key
from ooi_status.migrate import ROOT
from ooi_status.model.metadata import MetadataBase

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

START_TIMEOUT = 60
RECOVERY_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def serving_databases(pg_server: str) -> Iterator[dict[str, str]]:
    """A monitor and a metadata database of this test alone."""
    suffix = uuid.uuid4().hex[:10]
    names = {"monitor": f"ooistatus_test_{suffix}_serving", "metadata": f"ooistatus_test_{suffix}_servmeta"}
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    urls = {
        role: make_url(pg_server).set(database=name).render_as_string(hide_password=False)
        for role, name in names.items()
    }
    migrate.upgrade(urls["monitor"])
    for role, url in urls.items():
        engine = create_engine(url)
        if role == "monitor":
            factories.seed_fleet(engine, datetime.now(UTC))
        else:
            MetadataBase.metadata.create_all(engine)
        engine.dispose()
    yield {**urls, "monitor_name": names["monitor"], "admin": pg_server}
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{names["monitor"]}" ALLOW_CONNECTIONS true'))
        for name in names.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Server:
    def __init__(self, base: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base, self.process, self.log = base, process, log

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.base + path, timeout=10, **kwargs)  # type: ignore[arg-type]


def start_server(serving_databases: dict[str, str], tmp_path: Path, key: str, **env_extra: str) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "OOISTATUS_BIND": f"127.0.0.1:{port}",
        "OOISTATUS_WORKERS": "2",
        "OOISTATUS_DATA_DIR": str(tmp_path / "data"),
        "OOISTATUS_MONITOR_URL": serving_databases["monitor"],
        "OOISTATUS_METADATA_URL": serving_databases["metadata"],
        "OOISTATUS_API_KEYS": json.dumps({"ops": hash_api_key(key)}),
        "OOISTATUS_DB_POOL_SIZE": "4",
    }
    env.pop("OOISTATUS_SETTINGS", None)
    env.update(env_extra)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", str(ROOT / "run_gunicorn.sh")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until(lambda: server.get("/openapi.json").status_code == 200, START_TIMEOUT, server)
    except BaseException:
        stop(process)
        raise
    return server


@pytest.fixture
def server(serving_databases: dict[str, str], tmp_path: Path) -> Iterator[tuple[Server, str]]:
    key = new_api_key()
    server = start_server(serving_databases, tmp_path, key)
    try:
        yield server, key
    finally:
        stop(server.process)


def wait_until(condition, timeout: float, server: Server) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.log.read_text()
        try:
            if condition():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"not ready within {timeout} s:\n{server.log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def concurrently(calls: list, workers: int = 16) -> list[requests.Response]:  # type: ignore[type-arg]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def set_connections(databases: dict[str, str], allowed: bool) -> None:
    admin = create_engine(databases["admin"], isolation_level="AUTOCOMMIT")
    name = databases["monitor_name"]
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}'))
        if not allowed:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": name},
            )
    admin.dispose()


def test_gunicorn_serves_concurrently_and_survives_a_database_outage(server, serving_databases):
    srv, key = server
    reads = [
        "/stream",
        "/instrument",
        "/expected",
        "/stream/1",
        "/instrument/1",
        "/stream/1/history",
        "/metrics",
    ]
    calls = [lambda path=path: srv.get(path) for path in reads * 8]
    calls += [
        lambda i=i: requests.patch(
            f"{srv.base}/deployed/1", json={"warn_interval": 100 + i}, headers={"X-API-Key": key}, timeout=10
        )
        for i in range(8)
    ]
    answers = concurrently(calls)
    assert [r.status_code for r in answers] == [200] * len(answers)
    assert len(srv.get("/stream").json()["status"]) == 6

    set_connections(serving_databases, allowed=False)
    try:
        down = concurrently([lambda: srv.get("/stream") for _ in range(16)])
        assert {r.status_code for r in down} == {503}
        assert {r.json()["error"] for r in down} <= {"database_unavailable", "database_error"}
        health = srv.get("/health")
        assert health.status_code == 503
        assert not health.json()["checks"]["monitor_database"]["ok"]
    finally:
        set_connections(serving_databases, allowed=True)

    wait_until(lambda: srv.get("/stream").status_code == 200, RECOVERY_TIMEOUT, srv)
    again = concurrently([lambda path=path: srv.get(path) for path in reads * 4])
    assert [r.status_code for r in again] == [200] * len(again)

    log = srv.log.read_text()
    assert "GET /stream" in log  # the access log
    assert "write by API key 'ops'" in log
    assert key not in log


def test_the_default_command_line_keeps_the_operators_grep_working():
    script = (ROOT / "run_gunicorn.sh").read_text()
    assert "-b 0.0.0.0:9000 ooi_status.api:app" in script
    assert "export PSYCOGREEN=true" in script and "-k gevent" in script


def test_hup_reloads_settings_and_replaces_the_workers_without_dropping_requests(serving_databases, tmp_path):
    settings_file = tmp_path / "local.py"
    settings_file.write_text("API_REQUIRE_KEY_FOR_READS = False\n")
    srv = start_server(serving_databases, tmp_path, new_api_key(), OOISTATUS_SETTINGS=str(settings_file))
    try:
        assert srv.get("/stream").status_code == 200
        settings_file.write_text("API_REQUIRE_KEY_FOR_READS = True\n")
        srv.process.send_signal(signal.SIGHUP)  # run_gunicorn.sh execs gunicorn: this is the master
        answers: list[int] = []

        def reads_need_a_key() -> bool:
            answers.append(srv.get("/stream").status_code)
            return answers[-1] == 401

        wait_until(reads_need_a_key, RECOVERY_TIMEOUT, srv)
        assert set(answers) <= {200, 401}  # every request answered while the workers were replaced
        assert "Handling signal: hup" in srv.log.read_text()
        assert srv.get("/health").status_code in (200, 503)  # /health stays open
        assert srv.get("/health").status_code != 401
    finally:
        stop(srv.process)
