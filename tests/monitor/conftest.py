"""Fixtures of the monitor tests: ``events_server``, a fake events service on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitor.fake_events import FakeEventsServer
from monitor.fake_smtp import FakeSmtpServer


@pytest.fixture
def events_server() -> Iterator[FakeEventsServer]:
    """A fake events service answering 201 to everything; set ``.responder`` to script it."""
    with FakeEventsServer() as server:
        yield server


@pytest.fixture
def smtp_server() -> Iterator[FakeSmtpServer]:
    """A real SMTP server on loopback (aiosmtpd) that accepts everything; script ``.answers``."""
    with FakeSmtpServer() as server:
        yield server
