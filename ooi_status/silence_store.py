"""Reading silences from the monitor schema as pure rules (ooi_status.silences)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ooi_status.model.monitor import Silence
from ooi_status.silences import SilenceRule

_S = Silence.__table__.c


def load_silences(session: Session, start: datetime, stop: datetime) -> list[SilenceRule]:
    """Silences overlapping [start, stop), by start then id (one query)."""
    query = (
        select(_S.id, _S.refdes, _S.method, _S.stream, _S.starts_at, _S.ends_at, _S.reason)
        .where(_S.starts_at < stop, _S.ends_at > start)
        .order_by(_S.starts_at, _S.id)
    )
    return [SilenceRule(*row) for row in session.execute(query)]
