"""What a daily digest is made from, read from the monitor schema in a handful of queries.

The facts are read once for all the digests due at one moment; each subscription takes its
part (ooi_status.notify.digest). Changes of the last 24 hours are read newest first, at most
MAX_CHANGES of them (a digest lists LIST_LIMIT per subscription and counts the rest).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ooi_status.model.monitor import DeployedStream, ExpectedStream, ReferenceDesignator, StatusHistory
from ooi_status.notify.digest import ActiveSilence, DigestFacts, PastChange, StreamState
from ooi_status.reports.uptime import uptime
from ooi_status.silence_store import load_silences
from ooi_status.silences import in_force

log = logging.getLogger(__name__)

MAX_CHANGES = 20_000
_DS, _ES, _RD, _H = (
    t.__table__.c for t in (DeployedStream, ExpectedStream, ReferenceDesignator, StatusHistory)
)


def _joined(*columns: Any) -> Any:
    return (
        select(*columns)
        .select_from(DeployedStream.__table__)
        .join(ReferenceDesignator.__table__, _RD.id == _DS.reference_designator_id)
        .join(ExpectedStream.__table__, _ES.id == _DS.expected_stream_id)
    )


def digest_facts(session: Session, now: datetime) -> DigestFacts:
    statuses = [(refdes, status) for refdes, status in session.execute(_joined(_RD.name, _DS.status))]
    bad = [
        StreamState(refdes, method, stream, status, since, None if last is None else now - last)
        for refdes, method, stream, status, since, last in session.execute(
            _joined(_RD.name, _ES.method, _ES.name, _DS.status, _DS.status_time, _DS.last_data_time).where(
                _DS.status.in_(("failed", "degraded"))
            )
        )
    ]
    changes = [
        PastChange(at, refdes, method, stream, old, new)
        for at, refdes, method, stream, old, new in session.execute(
            _joined(_H.changed_at, _RD.name, _ES.method, _ES.name, _H.old_status, _H.new_status)
            .join(StatusHistory.__table__, _H.deployed_stream_id == _DS.id)
            .where(_H.changed_at > now - timedelta(days=1), _H.changed_at <= now)
            .order_by(_H.changed_at.desc(), _H.id.desc())
            .limit(MAX_CHANGES)
        )
    ]
    silences = [
        ActiveSilence(rule.refdes, rule.method, rule.stream, rule.ends_at, rule.reason)
        for rule in load_silences(session, now, now + timedelta(microseconds=1))
        if in_force(rule, now)
    ]
    return DigestFacts(now, statuses, bad, changes, silences, site_uptime(session, now))


def site_uptime(session: Session, now: datetime) -> dict[str, tuple[float | None, float | None]]:
    """Uptime per site (fractions) over 24 h and 7 d, exactly as the uptime report gives it."""
    spans = [
        {
            row["site"]: _fraction(row.get("uptime_percent"))
            for row in uptime(session, now - span, now, "site")
        }
        for span in (timedelta(days=1), timedelta(days=7))
    ]
    return {site: (spans[0].get(site), spans[1].get(site)) for site in sorted(set(spans[0]) | set(spans[1]))}


def _fraction(percent: float | None) -> float | None:
    return None if percent is None else percent / 100
