"""Never an HTML 500 after a good answer, and bodies sent in chunks held to the same rules.

- a connection that dies after a request's last query (its PostgreSQL backend terminated) makes
  closing the session at teardown fail: that is logged, the answer stays what it was;
- under run_gunicorn.sh, with the monitor database's backends terminated over and over while
  1,000 requests run, every answer is JSON (the data or a 503);
- under run_gunicorn.sh, a chunked body over the limit is a 413 and a malformed one a 400, both
  in the API's JSON error shape, and a well-formed chunked body is read whole.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import g
from sqlalchemy import create_engine, text

from api.test_serving import serving_databases, start_server, stop  # noqa: F401 (a fixture)
from ooi_status.api.context import MAX_BODY_BYTES
from ooi_status.keys import new_api_key


def terminate(admin, pid: int) -> None:  # type: ignore[no-untyped-def]
    """End the backend ``pid`` and wait until PostgreSQL no longer lists it."""
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        deadline = time.monotonic() + 10
        while conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.02)


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_connection_dying_after_the_last_query_leaves_the_answer_as_it_was(
    app, client, fleet, auth, monitor_db, caplog
):
    admin = create_engine(monitor_db.url, isolation_level="AUTOCOMMIT")
    killed: list[str] = []

    @app.after_request
    def kill_the_backend(response):  # type: ignore[no-untyped-def]
        # After the view's last query, before the teardown closes the session.
        session = g.get("monitor_session")
        if session is not None and session.in_transaction():
            terminate(admin, session.connection().connection.dbapi_connection.get_backend_pid())
            killed.append(response.status)
        return response

    ident = fleet["ctd_sample"]
    requests_made = [
        ("get", "/stream", {}),
        ("get", f"/stream/{ident}", {}),
        ("get", f"/stream/{ident}/history", {}),
        ("get", "/instrument", {}),
        ("get", f"/instrument/{fleet['ctd']}", {}),
        ("get", "/expected", {}),
        ("get", "/silence", {}),
        ("get", "/subscription", {"headers": auth}),
    ]
    try:
        with caplog.at_level(logging.WARNING, logger="ooi_status.api"):
            for method, path, kwargs in requests_made:
                response = getattr(client, method)(path, **kwargs)
                assert response.status_code == 200, (path, response.get_data(as_text=True))
                assert response.mimetype == "application/json", path
                response.get_json()
    finally:
        admin.dispose()
    assert len(killed) >= 5, killed  # most of them ended with a transaction open: the case at stake
    assert "closing the request's monitor session failed" in caplog.text
    # The pool replaced the dead connections: the next requests are served as usual.
    assert client.get(f"/stream/{ident}").status_code == 200


# --- under run_gunicorn.sh --------------------------------------------------------------------------


@pytest.fixture
def served(serving_databases, tmp_path: Path) -> Iterator[tuple[str, str]]:  # noqa: F811
    key = new_api_key()
    server = start_server(serving_databases, tmp_path, key)
    try:
        yield server.base, key
    finally:
        stop(server.process)


@pytest.mark.postgres
@pytest.mark.slow
def test_backends_terminated_during_requests_give_only_json_answers(served, serving_databases):  # noqa: F811
    """Every backend of the monitor database is terminated over and over while clients read and
    write: whatever the moment of the kill (before, during or after a request's last query), the
    answer is JSON: the data, or a 503 naming the outage; never gunicorn's HTML 500."""
    base, key = served
    admin = create_engine(serving_databases["admin"], isolation_level="AUTOCOMMIT")
    stop_killing = threading.Event()
    kills = 0

    def kill_backends() -> None:
        nonlocal kills
        with admin.connect() as conn:
            while not stop_killing.is_set():
                kills += conn.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": serving_databases["monitor_name"]},
                )
                time.sleep(0.005)

    ident = requests.get(f"{base}/stream", timeout=10).json()["status"][0]["id"]
    paths = ["/stream", f"/stream/{ident}", f"/stream/{ident}/history", "/instrument", "/expected"]

    def call(i: int) -> requests.Response:
        if i % 5 == 4:
            return requests.patch(
                f"{base}/deployed/{ident}",
                json={"warn_interval": 100 + i % 400},
                headers={"X-API-Key": key},
                timeout=30,
            )
        return requests.get(base + paths[i % len(paths)], timeout=30)

    killer = threading.Thread(target=kill_backends)
    killer.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(call, range(1000)))
    finally:
        stop_killing.set()
        killer.join(30)
        admin.dispose()
    assert kills > 0
    for answer in answers:
        assert answer.headers["Content-Type"].startswith("application/json"), (
            answer.status_code,
            answer.text[:200],
        )
        assert answer.status_code in (200, 503), (answer.status_code, answer.text[:200])
        answer.json()
    assert sum(answer.status_code == 200 for answer in answers) > 0


def raw_request(base: str, head: str, body: bytes) -> tuple[int, str, bytes]:
    """Send bytes as they are (requests would fix a malformed chunk); the status, type and body."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        return answer.status, answer.getheader("Content-Type", ""), answer.read()


def chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.postgres
@pytest.mark.slow
def test_chunked_bodies_under_gunicorn(served):
    base, key = served
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    ident = requests.get(f"{base}/stream", timeout=10).json()["status"][0]["id"]
    url = f"{base}/deployed/{ident}"

    # Well-formed: read whole, as with a Content-Length.
    body = json.dumps({"warn_interval": 321}).encode()
    answer = requests.patch(url, data=chunks(body, 5), headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["warn_interval"] == 321

    # Over the limit: a 413, never the first 64 KiB handed to the view.
    padded = b'{"warn_interval": 322, "padding": "' + b"x" * MAX_BODY_BYTES + b'"}'
    answer = requests.patch(url, data=chunks(padded), headers=headers, timeout=10)
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == "too_large"
    assert "64 KiB" in answer.json()["message"]
    # Exactly the limit is not over it (werkzeug's rule for a Content-Length).
    exact = b" " * (MAX_BODY_BYTES - len(body)) + body
    answer = requests.patch(url, data=chunks(exact), headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text

    # Malformed: a chunk size that is no hexadecimal number, a chunk without its terminator.
    head = (
        f"PATCH /deployed/{ident} HTTP/1.1\nHost: 127.0.0.1\nX-API-Key: {key}\n"
        "Content-Type: application/json\nTransfer-Encoding: chunked\n"
    )
    for malformed in (b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n"):
        status, content_type, payload = raw_request(base, head, malformed)
        assert status == 400, payload
        assert content_type == "application/json"
        assert json.loads(payload)["error"] == "bad_request"
        assert "chunked" in json.loads(payload)["message"]
    assert requests.get(url.replace("/deployed/", "/stream/"), timeout=10).json()["warn_interval"] == 321
