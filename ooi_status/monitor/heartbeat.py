"""The monitor's heartbeat: the latest round of each kind, read by /health and /metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from ooi_status.db import rowcount
from ooi_status.model.monitor import MonitorHeartbeat

_HB = MonitorHeartbeat.__table__
#: Kinds of round.
CHECK, DELIVER = "check", "deliver"
_FIGURES = ("streams_checked", "changes", "events_delivered", "events_failed", "events_dead")


def write_heartbeat(
    session: Session, kind: str, started: datetime, duration: float, *, ok: bool, error: str | None = None,
    **figures: int,
) -> None:  # fmt: skip
    """Record the latest round of ``kind`` in the caller's transaction (one row per kind).

    A successful check writes its heartbeat in the round's own transaction, so /health never
    sees a fresh heartbeat for a round that did not land; a failed round writes its own.
    """
    unknown = set(figures) - set(_FIGURES)
    if unknown:
        raise TypeError(f"unknown heartbeat figures: {sorted(unknown)}")
    values: dict[str, Any] = {name: figures.get(name, 0) for name in _FIGURES}
    values.update(started_at=started, duration=duration, ok=ok, error=error)
    if rowcount(session.execute(update(_HB).where(_HB.c.kind == kind).values(values))) == 0:
        session.execute(insert(_HB).values(kind=kind, **values))
