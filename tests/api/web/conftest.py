"""Fixtures of the page's browser tests: the app served on loopback, and headless Chromium.

The page is driven in Debian's Chromium (/usr/bin/chromium, installed by
.ci/system-packages) through Playwright. Every wait is bounded: the browser must start
within 30 s and each action or navigation within 15 s. Where Chromium or Playwright is
missing the browser tests skip with the reason, except under CI (CI set): they fail.

The served app has its own SQLite pair (the browser tests exercise the page, not the
database backends): the demo observatory in the metadata database, and monitor rows as a
check round would leave them (seed.py).
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from api.web.seed import Seeded, seed_fleet_rows, seed_monitor
from ooi_status import demo, revision
from ooi_status.api import create_app, current_databases
from ooi_status.config import Settings, load_settings
from ooi_status.db import make_engine
from ooi_status.keys import hash_api_key
from ooi_status.model.monitor import DeployedStream, MonitorHeartbeat
from ooi_status.monitor.check import MonitorSource, run_round
from ooi_status.sources.postgres import PostgresDeploymentSource, PostgresStreamSource
from ooi_status.times import utcnow

CHROMIUM = os.environ.get("OOISTATUS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAUNCH_TIMEOUT_MS = 30_000
ACTION_TIMEOUT_MS = 15_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI requires the browser tests to run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium, started once per test session."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (bash .ci/system-packages installs it)")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=LAUNCH_TIMEOUT_MS
            )
        except Error as exc:
            _unavailable(f"Chromium at {CHROMIUM} did not start: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests save screenshots of the views (under this run's temporary folder)."""
    return tmp_path_factory.mktemp("screenshots")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Site:
    """The app served on loopback, and what its databases hold."""

    url: str
    now: datetime
    observatory: demo.Observatory
    seeded: Seeded
    write_key: str
    settings: Settings
    monitor_url: str

    def set_status(self, stream_id: int, status: str, at: datetime) -> None:
        """Change a stream's status in the monitor database, as a check round would, behind the page."""
        engine = make_engine(self.monitor_url, self.settings)
        try:
            with Session(engine) as session, session.begin():
                session.execute(
                    update(DeployedStream)
                    .where(DeployedStream.id == stream_id)
                    .values(status=status, status_time=at, checked_at=at)
                )
                revision.bump(session)  # as a check round does with its changes
        finally:
            engine.dispose()

    def set_heartbeat(self, started_at: datetime) -> None:
        """Record a check round that started at ``started_at``, as the monitor does."""
        engine = make_engine(self.monitor_url, self.settings)
        try:
            with Session(engine) as session, session.begin():
                session.merge(MonitorHeartbeat(kind="check", started_at=started_at, duration=0.2, ok=True))
        finally:
            engine.dispose()

    def check_round(self, now: datetime) -> None:
        """Run one real check round of the monitor at ``now`` over the site's two databases."""
        monitor = make_engine(self.monitor_url, self.settings)
        metadata = make_engine(self.settings.METADATA_URL, self.settings)
        try:
            source = MonitorSource(PostgresStreamSource(metadata), PostgresDeploymentSource(metadata))
            with Session(monitor) as session, session.begin():
                run_round(source, session, now, self.settings)
        finally:
            monitor.dispose()
            metadata.dispose()

    def get_json(self, path: str) -> Any:
        import json
        from urllib.request import urlopen

        with urlopen(self.url + path, timeout=15) as response:
            return json.load(response)


def _serve(app: Any) -> tuple[BaseWSGIServer, threading.Thread, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="page-test-server", daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


def _databases(tmp_path: Path, template: Path) -> tuple[str, str]:
    data = tmp_path / "site"
    data.mkdir()
    shutil.copy(template, data / "monitor.sqlite")
    return f"sqlite:///{data / 'monitor.sqlite'}", f"sqlite:///{data / 'metadata.sqlite'}"


def _site(
    tmp_path: Path, template: Path, write_key: str, fill: Any, **settings_values: Any
) -> Iterator[Site]:
    monitor_url, metadata_url = _databases(tmp_path, template)
    settings = load_settings(
        environ={},
        overrides={
            "DATA_DIR": str(tmp_path / "site"),
            "MONITOR_URL": monitor_url,
            "METADATA_URL": metadata_url,
            "API_KEYS": {"ops": hash_api_key(write_key)},
            **settings_values,
        },
    )
    now = utcnow().replace(microsecond=0)
    monitor, metadata = make_engine(monitor_url, settings), make_engine(metadata_url, settings)
    try:
        observatory, seeded = fill(monitor, metadata, now)
    finally:
        monitor.dispose()
        metadata.dispose()
    app = create_app(settings)
    server, thread, url = _serve(app)
    yield Site(url, now, observatory, seeded, write_key, settings, monitor_url)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        current_databases().dispose()


def _demo(monitor: Any, metadata: Any, now: datetime) -> tuple[demo.Observatory, Seeded]:
    observatory = demo.demo_observatory(now, instruments=12, history_days=730)
    demo.write_observatory(metadata, observatory)
    seeded = seed_monitor(monitor, observatory, now)
    with Session(monitor) as session, session.begin():  # a monitor that has just checked
        session.merge(MonitorHeartbeat(kind="check", started_at=now, duration=0.2, ok=True))
    return observatory, seeded


@pytest.fixture
def site(tmp_path: Path, sqlite_monitor_template: Path, write_key: str) -> Iterator[Site]:
    """The demo observatory (12 instruments, two years) with its monitor rows, served."""
    yield from _site(tmp_path, sqlite_monitor_template, write_key, _demo)


@pytest.fixture
def locked_site(tmp_path: Path, sqlite_monitor_template: Path, write_key: str) -> Iterator[Site]:
    """The same, on a server where reads need a key too."""
    yield from _site(tmp_path, sqlite_monitor_template, write_key, _demo, API_REQUIRE_KEY_FOR_READS=True)


@pytest.fixture
def live_site(tmp_path: Path, sqlite_monitor_template: Path, write_key: str) -> Iterator[Site]:
    """The demo observatory on a server whose CHECK_INTERVAL is 1 s: the fleet view refreshes every second."""
    yield from _site(tmp_path, sqlite_monitor_template, write_key, _demo, CHECK_INTERVAL=1)


@pytest.fixture
def pulse_site(tmp_path: Path, sqlite_monitor_template: Path, write_key: str) -> Iterator[Site]:
    """The demo observatory; the page reads the monitor's pulse every second, stale after 2 minutes."""
    yield from _site(
        tmp_path, sqlite_monitor_template, write_key, _demo, CHECK_INTERVAL=1, HEALTH_MAX_HEARTBEAT_AGE=120
    )


@pytest.fixture
def big_site(tmp_path: Path, sqlite_monitor_template: Path, write_key: str) -> Iterator[Site]:
    """3,000 instruments with four streams each (the benchmark fleet's shape), served."""

    def fill(monitor: Any, metadata: Any, now: datetime) -> tuple[demo.Observatory, Seeded]:
        demo.write_observatory(metadata, demo.Observatory())
        return demo.Observatory(), seed_fleet_rows(monitor, now, instruments=3000)

    yield from _site(tmp_path, sqlite_monitor_template, write_key, fill)


def _wait_for_function(tab: Any, expression: str, arg: Any = None, *, timeout: float | None = None) -> None:
    """``page.wait_for_function`` under the pages' Content-Security-Policy: Playwright compiles its
    predicate inside the page, which a policy without 'unsafe-eval' refuses; ``page.evaluate``
    goes through the browser's debugging protocol, which the policy does not govern. Polls every
    50 ms until the expression (or the function, given ``arg``) is truthy, within the timeout."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    limit_ms = ACTION_TIMEOUT_MS if timeout is None else timeout
    deadline = time.monotonic() + limit_ms / 1000
    while not tab.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise PlaywrightTimeout(f"wait_for_function: {expression!r} still false after {limit_ms} ms")
        tab.wait_for_timeout(50)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser tab at desktop size, the pages' Content-Security-Policy enforced; a script
    error on the page fails the test."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
    tab = context.new_page()
    tab.wait_for_function = functools.partial(_wait_for_function, tab)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"script errors on the page: {errors}"
