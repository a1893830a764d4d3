"""Monitor rows for API tests, written with the ORM models (no monitor round needed)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from ooi_status.api import current_databases
from ooi_status.model.monitor import (
    DeployedStream,
    ExpectedStream,
    MonitorHeartbeat,
    PendingUpdate,
    ReferenceDesignator,
    StatusHistory,
)


def expected(session: Session, name: str, method: str = "streamed", **values: Any) -> ExpectedStream:
    item = ExpectedStream(
        name=name,
        method=method,
        expected_rate=values.get("expected_rate", 0.0),
        warn_interval=values.get("warn_interval", 600),
        fail_interval=values.get("fail_interval", 1800),
    )
    session.add(item)
    session.flush()
    return item


def instrument(session: Session, refdes: str) -> ReferenceDesignator:
    found = session.scalar(select(ReferenceDesignator).where(ReferenceDesignator.name == refdes))
    if found is None:
        found = ReferenceDesignator(name=refdes)
        session.add(found)
        session.flush()
    return found


def deployed(
    session: Session, refdes: str, expected_stream: ExpectedStream, status: str, **values: Any
) -> DeployedStream:
    item = DeployedStream(
        reference_designator=instrument(session, refdes),
        expected_stream=expected_stream,
        status=status,
        **values,
    )
    session.add(item)
    session.flush()
    return item


def history(session: Session, stream: DeployedStream, changes: Iterable[tuple[str, str, datetime]]) -> None:
    session.add_all(
        StatusHistory(
            deployed_stream_id=stream.id, old_status=old, new_status=new, changed_at=at, elapsed=60.0
        )
        for old, new, at in changes
    )
    session.flush()


def heartbeat(
    session: Session, started_at: datetime, kind: str = "check", ok: bool = True, **values: Any
) -> None:
    session.merge(
        MonitorHeartbeat(
            kind=kind, started_at=started_at, duration=values.pop("duration", 0.25), ok=ok, **values
        )
    )
    session.flush()


def outbox(session: Session, state: str, now: datetime, count: int = 1) -> None:
    session.add_all(
        PendingUpdate(
            asset_uid=f"CGINS-TEST-{i}",
            message={"status": "failed"},
            state=state,
            created_at=now,
            next_attempt_at=now,
        )
        for i in range(count)
    )
    session.flush()


# The seeded fleet: 3 instruments, 6 streams, every status, overrides on some.
CTD = "CE02SHBP-LJ01D-06-CTDBPN106"
HPIES = "RS01SLBS-LJ01A-05-HPIESA101"
ADCP = "RS03AXPS-PC03A-06-VADCPA301"


def seed_fleet(engine: Engine, now: datetime) -> dict[str, int]:
    """Instruments and streams of every status; returns ids by short name."""
    at = now - timedelta(minutes=5)
    with Session(engine) as session, session.begin():
        sample = expected(session, "ctdbp_no_sample", warn_interval=120, fail_interval=600)
        hardware = expected(session, "ctdbp_no_hardware", warn_interval=0, fail_interval=0)
        telemetered = expected(
            session, "ctdbp_no_sample", "telemetered", warn_interval=3600, fail_interval=7200
        )
        echo = expected(session, "echo_sounding", warn_interval=900, fail_interval=1800)
        velocity = expected(
            session, "vadcp_velocity_beam", expected_rate=1.0, warn_interval=120, fail_interval=600
        )
        ids = {
            "ctd_sample": deployed(
                session, CTD, sample, "operational", status_time=at, last_data_time=now
            ).id,
            "ctd_hardware": deployed(session, CTD, hardware, "notTracked").id,
            "ctd_telemetered": deployed(session, CTD, telemetered, "degraded", status_time=at).id,
            "hpies_echo": deployed(session, HPIES, echo, "failed", status_time=at, warn_interval=1000).id,
            "adcp_velocity": deployed(
                session, ADCP, velocity, "operational", status_time=at, measured_rate=0.9
            ).id,
            "adcp_echo": deployed(
                session, ADCP, echo, "notTracked", expected_rate=0, warn_interval=0, fail_interval=0
            ).id,
        }
        ids.update(
            expected_sample=sample.id,
            expected_hardware=hardware.id,
            expected_echo=echo.id,
            ctd=instrument(session, CTD).id,
            hpies=instrument(session, HPIES).id,
            adcp=instrument(session, ADCP).id,
        )
    return ids


def monitor_statements(app: Flask) -> list[str]:
    """The statements the app sends to the monitor database from now on, in order: on its engine
    and on the engine of its one-statement reads (the data revision)."""
    with app.app_context():
        engines = {current_databases().monitor, current_databases().monitor_reads}
    statements: list[str] = []
    for engine in engines:
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements
