"""The demo at OOI's fleet size: 3,000 instruments prepare, and statuses change by themselves.

``ooi_status_demo --prepare-only --instruments 3000`` runs as the command (asset UIDs must be
unique by construction at that size); then the demo's own monitor step runs two rounds five
minutes apart on those databases: some streams are failed and some degraded by then.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ooi_status.config import load_settings
from ooi_status.model.metadata import XAsset
from ooi_status.model.monitor import DeployedStream
from ooi_status.monitor.daemon import Monitor
from ooi_status.run_demo import live_step
from ooi_status.times import utcnow

pytestmark = pytest.mark.slow


def test_a_demo_of_3000_instruments_prepares_and_degrades_and_fails_within_five_minutes(tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("OOISTATUS_")}
    script = Path(sys.executable).with_name("ooi_status_demo")
    started = utcnow()
    done = subprocess.run(
        [str(script), "--prepare-only", "--instruments", "3000"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "prepared:" in done.stdout

    settings = load_settings(environ={"OOISTATUS_DATA_DIR": str(tmp_path / "data")})
    statuses: dict[str, int] = {}
    for minutes in (0, 5):
        monitor = Monitor(
            settings, clock=lambda m=minutes: started + timedelta(minutes=m), before_check=live_step(7)
        )
        try:
            assert monitor.check()
            with Session(monitor.databases.monitor) as session:
                statuses = dict(
                    session.execute(
                        select(DeployedStream.status, func.count()).group_by(DeployedStream.status)
                    ).all()
                )
            if minutes == 0:
                with Session(monitor.databases.metadata) as session:
                    uids = session.scalars(select(XAsset.uid)).all()
                assert len(uids) == len(set(uids)) > 3000
        finally:
            monitor.close()
    assert sum(statuses.values()) > 5000  # the monitored (streamed, telemetered) streams
    assert statuses.get("failed", 0) > 0 and statuses.get("degraded", 0) > 0, statuses
    assert statuses.get("operational", 0) > statuses["failed"], statuses
