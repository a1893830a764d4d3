"""Fixtures of the monitor tests: ``events_server``, a fake events service on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitor.fake_events import FakeEventsServer
from monitor.fake_smtp import FakeSmtpServer
from ooi_status.monitor import cli


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


@pytest.fixture
def run(db_settings, monkeypatch, capsys):
    """Run the command against this test's monitor database: (status, stdout, stderr)."""
    monkeypatch.setenv("OOISTATUS_MONITOR_URL", db_settings.MONITOR_URL)
    monkeypatch.setenv("OOISTATUS_METADATA_URL", db_settings.METADATA_URL)
    monkeypatch.setenv("OOISTATUS_DATA_DIR", db_settings.DATA_DIR)
    monkeypatch.delenv("OOISTATUS_SETTINGS", raising=False)

    def run_command(*args: str) -> tuple[int, str, str]:
        status = cli.main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return run_command
