"""A hand-built observatory for /available, and the app serving it with a fixed clock.

Times are whole seconds so that every expected span can be worked out by hand. The window
of REFDES is 2016-01-01 → NOW (2016-02-10), 40 days: gap threshold 3,456 s.

REFDES, deployments 1: 01-01 → 01-21 and 2: 01-25 → open; streams:
- streamed ctdbp_no_sample: dense daily bins (points 00:01:00 → 23:59:00), days 5 and 6
  missing, day 10 at 30,000 points (Sparsity Level 3), day 12 at 67,000 (Level 1).
- telemetered ctdbp_no_sample: six bins, sparse branch (r of each noted below).
- recovered_host ctdbp_no_hardware: no bin at all.
- bad_streamed ctdbp_no_sample: left out unless asked for.
NO_DEPLOYMENT: one stream, daily bins for days 0-14, no deployment.
NO_STREAM: one open deployment, no stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ooi_status import demo
from ooi_status.api import create_app, current_databases
from ooi_status.config import Settings
from ooi_status.times import datetime_to_ntp

REFDES = "CE04OSBP-LJ01C-06-CTDBPO108"
NO_DEPLOYMENT = "RS03AXPS-PC03A-4A-CTDPFA303"
NO_STREAM = "CE01ISSM-MFD35-02-PRESFA000"
UNKNOWN = "CE01ISSM-MFD35-02-PRESFA999"
START = datetime(2016, 1, 1, tzinfo=UTC)
NOW = datetime(2016, 2, 10, tzinfo=UTC)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """NTP seconds of 2016-01-01 + day days, at hour:minute:second."""
    return datetime_to_ntp(START) + day * 86_400 + hour * 3600 + minute * 60 + second


def daily(days: list[int], counts: dict[int, int] | None = None) -> list[tuple[int, int, float, float]]:
    """One bin per day, points from 00:01:00 to 23:59:00, 86,400 points unless ``counts`` says."""
    counts = counts or {}
    return [(int(at(k)), counts.get(k, 86_400), at(k, 0, 1), at(k, 23, 59)) for k in days]


def scenario() -> demo.Observatory:
    obs = demo.Observatory()
    obs.add_deployment(REFDES, 1, START, datetime(2016, 1, 21, tzinfo=UTC), "CGINS-CTDBPO-00001")
    obs.add_deployment(REFDES, 2, datetime(2016, 1, 25, tzinfo=UTC), None, "CGINS-CTDBPO-00002")
    dense = daily([k for k in range(40) if k not in (5, 6)], {10: 30_000, 12: 67_000})
    obs.add_stream(REFDES, "streamed", "ctdbp_no_sample", dense)
    # 304 points: mean interval 11,368 s. r = separation / mean interval:
    sparse = [
        (int(at(2)), 100, at(2, 6), at(2, 18)),  # r 0.04: Present
        (int(at(8)), 2, at(8, 12), at(8, 12, 10)),  # r 0.03, 10 min: widened by ±3,456 s
        (int(at(30)), 3, at(30), at(30, 12)),  # r 1.27: Level 1
        (int(at(33)), 2, at(33), at(33, 12)),  # r 1.90: Level 2
        (int(at(35)), 195, at(35, 1), at(35, 23)),  # r 0.04: Present
        (int(at(37)), 2, at(37), at(37, 23)),  # r 3.64: Level 3
    ]
    obs.add_stream(REFDES, "telemetered", "ctdbp_no_sample", sparse)
    obs.add_stream(REFDES, "recovered_host", "ctdbp_no_hardware", [], last=at(0), count=0)
    obs.add_stream(REFDES, "bad_streamed", "ctdbp_no_sample", daily(list(range(3))))
    obs.add_stream(NO_DEPLOYMENT, "streamed", "ctdpf_optode_sample", daily(list(range(15))))
    obs.add_deployment(NO_STREAM, 1, START, None, "CGINS-PRESFA-00001")
    return obs


@pytest.fixture
def scenario_db(empty_metadata_db):  # type: ignore[no-untyped-def]
    demo.write_observatory(empty_metadata_db.engine, scenario())
    return empty_metadata_db


@pytest.fixture
def app(settings: Settings, scenario_db) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    app = create_app(settings.replace(METADATA_URL=scenario_db.url), TESTING=True, CLOCK=lambda: NOW)
    yield app
    with app.app_context():
        current_databases().dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
