"""A fake OOI events service (or webhook receiver) on loopback, for delivery and monitor tests.

    with FakeEventsServer(responder=lambda path, body: 201) as server:
        settings = server.settings_for(settings)   # NOTIFY_URL_ROOT/PORT aimed at it
        ...
        assert [r.path for r in server.requests] == ["/events/postto/CGINS-CTDBPC-50013"]

The responder is called once per request, in the server's thread, with the path (query
included) and the JSON body (None when the body is not JSON). It returns the status code,
or ``Delay(seconds, status)`` to answer late (a client with a shorter timeout gives up).
``responder`` may be replaced at any time. Every request is recorded in arrival order. A
responder that raises answers 500, and ``stop()`` then raises AssertionError with the
exception, so that a broken responder fails the test instead of hiding.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ooi_status.config import Settings


@dataclass(frozen=True)
class Delay:
    """Answer ``status`` after ``seconds`` (cut short when the server stops)."""

    seconds: float
    status: int = 201


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    body: Any
    status: int


Responder = Callable[[str, Any], "int | Delay"]


def always(status: int) -> Responder:
    return lambda path, body: status


def script(statuses: Iterable[int | Delay], then: int | Delay = 201) -> Responder:
    """Answer ``statuses`` in order (one per request), then ``then`` for ever."""
    pending = list(statuses)
    lock = threading.Lock()

    def respond(path: str, body: Any) -> int | Delay:
        with lock:
            return pending.pop(0) if pending else then

    return respond


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connection
    timeout = 30  # an idle kept-alive connection is closed after this many seconds
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake.connection_opened(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.fake.connection_closed(self.connection)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.server.fake.message_ids.append(self.headers.get("X-Message-Id"))
        status = self.server.fake.answer(self.command, self.path, body)
        # 1xx, 204 and 304 answers have no body: sending one would corrupt the kept-alive stream.
        payload = b"" if status < 200 or status in (204, 304) else b"{}"
        try:
            self.send_response(status)
            if payload:
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # the client gave up (timeout) or went away

    do_PUT = do_POST
    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeEventsServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-request is part of the tests, not an error


class FakeEventsServer:
    url_root = "http://127.0.0.1"

    def __init__(self, responder: Responder | None = None) -> None:
        self.responder: Responder = responder or always(201)
        self.requests: list[RecordedRequest] = []
        self.message_ids: list[str | None] = []  # the X-Message-Id header of each request
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-events", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: prefix of a webhook URL on this server."""
        return f"{self.url_root}:{self.port}"

    def settings_for(self, settings: Settings, **changes: Any) -> Settings:
        """``settings`` with the events API aimed at this server."""
        return settings.replace(NOTIFY_URL_ROOT=self.url_root, NOTIFY_URL_PORT=self.port, **changes)

    def bodies(self, path_prefix: str = "") -> list[Any]:
        return [r.body for r in self.requests if r.path.startswith(path_prefix)]

    def answer(self, method: str, path: str, body: Any) -> int:
        try:
            reply = self.responder(path, body)
        except Exception as exc:  # reported by stop(): the test fails
            with self._lock:
                self.errors.append(exc)
            reply = 500
        status = reply.status if isinstance(reply, Delay) else reply
        with self._lock:
            self.requests.append(RecordedRequest(method, path, body, status))
        if isinstance(reply, Delay):
            self._stopping.wait(reply.seconds)
        return status

    def connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def stop(self) -> None:
        """Stop serving, hang up every kept-alive connection, and report responder errors."""
        if not self._stopping.is_set():
            self._stopping.set()
            self._server.shutdown()
            self._server.server_close()
            with self._lock:
                connections = list(self._connections)
            for connection in connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._thread.join(timeout=5)
        if self.errors:
            raise AssertionError(f"the fake events responder raised: {self.errors!r}")

    def __enter__(self) -> FakeEventsServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
