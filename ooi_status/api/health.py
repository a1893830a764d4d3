"""/health: are both databases answering, and is the monitor's check round recent?

With Cassandra as the stream source (STREAM_SOURCE = "cassandra") the cluster is checked
too (``stream_source``): one read of one instrument partition, through the same reader
/available uses. Each check catches its own failure and says what it saw, so one broken
part never hides the state of the others, and the report is JSON whatever is down.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ooi_status.config import Settings
from ooi_status.db import Databases, describe_error
from ooi_status.model.monitor import MonitorHeartbeat
from ooi_status.sources.base import SourceUnavailable, StreamSource
from ooi_status.times import format_timestamp

#: The instrument the stream source check reads: one partition, which need not exist.
PROBE_REFDES = "HEALTH-CHECK-PROBE"

Check = dict[str, Any]


def database_check(engine: Callable[[], Engine]) -> Check:
    try:
        with engine().connect() as conn:
            conn.execute(text("select 1"))
    except (SQLAlchemyError, OSError) as exc:
        return {"ok": False, "message": f"the database does not answer: {describe_error(exc)}"}
    return {"ok": True}


def stream_source_check(streams: StreamSource) -> Check:
    """The configured stream source answers a read (rows or none: it answered)."""
    try:
        streams.streams(refdes=[PROBE_REFDES])
    except (SourceUnavailable, OSError) as exc:
        return {"ok": False, "message": f"the stream source does not answer: {exc}"}
    return {"ok": True}


def max_heartbeat_age(settings: Settings) -> float:
    """HEALTH_MAX_HEARTBEAT_AGE, or three check intervals when it is not set."""
    configured = settings.HEALTH_MAX_HEARTBEAT_AGE
    return float(configured) if configured is not None else 3.0 * settings.CHECK_INTERVAL


def heartbeat_check(engine: Callable[[], Engine], max_age: float, now: datetime) -> Check:
    """The "check" round's heartbeat: present, recent enough, and its round succeeded."""
    try:
        with Session(engine()) as session:
            beat = session.scalar(select(MonitorHeartbeat).where(MonitorHeartbeat.kind == "check"))
    except (SQLAlchemyError, OSError) as exc:
        return {"ok": False, "message": f"cannot read the monitor heartbeat: {describe_error(exc)}"}
    if beat is None:
        return {"ok": False, "max_age": max_age, "message": "the monitor has never completed a check round"}
    age = (now - beat.started_at).total_seconds()
    check: Check = {
        "ok": beat.ok and age <= max_age,
        "last_round": format_timestamp(beat.started_at),
        "age": round(age, 3),
        "max_age": max_age,
        "duration": round(beat.duration, 3),
        "streams_checked": beat.streams_checked,
    }
    if age > max_age:
        check["message"] = f"the last check round started {age:.0f} s ago (more than {max_age:g} s)"
    elif not beat.ok:
        check["message"] = f"the last check round failed: {beat.error or 'no reason recorded'}"
    return check


def health(
    databases: Databases,
    settings: Settings,
    now: datetime,
    streams: StreamSource,
) -> tuple[bool, dict[str, Any]]:
    """(healthy, report) — the report is /health's body. ``streams`` is the configured stream
    source, checked when it is Cassandra (on PostgreSQL it is the metadata database, checked anyway)."""
    checks = {
        "monitor_database": database_check(lambda: databases.monitor),
        "metadata_database": database_check(lambda: databases.metadata),
    }
    if settings.STREAM_SOURCE == "cassandra":
        checks["stream_source"] = stream_source_check(streams)
    if checks["monitor_database"]["ok"]:
        checks["monitor_heartbeat"] = heartbeat_check(
            lambda: databases.monitor, max_heartbeat_age(settings), now
        )
    else:
        checks["monitor_heartbeat"] = {
            "ok": False,
            "message": "unknown: the monitor database does not answer",
        }
    healthy = all(check["ok"] for check in checks.values())
    return healthy, {"status": "ok" if healthy else "unhealthy", "checks": checks}
