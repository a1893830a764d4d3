"""A real SMTP server on loopback (aiosmtpd), started by the tests, with scripted answers.

    with FakeSmtpServer() as smtp:
        settings = smtp.settings_for(settings)     # SMTP_HOST/PORT aimed at it
        ...
        assert [m["Subject"] for m in smtp.messages] == [...]

``answers`` is a list of SMTP replies given to the next DATA commands, one each, before the
server accepts again ("451 try later", "554 refused"); every accepted message is parsed and
kept in arrival order. ``stop()`` makes it refuse connections (a server that is down).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from ooi_status.config import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, server: FakeSmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        with self.server.lock:
            self.server.attempts += 1
            if self.server.answers:
                return self.server.answers.pop(0)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.server.messages.append(message)  # type: ignore[arg-type]
            self.server.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


class FakeSmtpServer:
    def __init__(self, port: int | None = None, **options: Any) -> None:
        """``options`` go to aiosmtpd's Controller (tls_context, ssl_context, authenticator, ...)."""
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.answers: list[str] = []
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.attempts = 0
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **options)

    def settings_for(self, settings: Settings) -> Settings:
        return settings.replace(SMTP_HOST="127.0.0.1", SMTP_PORT=self.port, NOTIFY_TIMEOUT=5.0)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> FakeSmtpServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(AssertionError):  # already stopped by the test
            self.stop()
