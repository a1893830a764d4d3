"""Fixtures of the monitor tests: a fake events service and SMTP server on loopback, the demo
observatory's settings, the monitor command."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from monitor.fake_events import FakeEventsServer
from monitor.fake_smtp import FakeSmtpServer
from ooi_status import demo
from ooi_status.monitor import cli
from ooi_status.monitor.expected import read_expected_csv, upsert_expected


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


@pytest.fixture
def demo_settings(db_settings, metadata_db, monitor_db, events_server):
    """The demo observatory's databases with its expected intervals loaded; events to the fake service."""
    with Session(monitor_db.engine) as session, session.begin():
        upsert_expected(
            session, read_expected_csv(demo.EXPECTED_CSV) + read_expected_csv(demo.DEMO_EXPECTED_CSV)
        )
    return events_server.settings_for(db_settings)
