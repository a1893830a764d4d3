"""What a check round does with the operators' marks on streams: timed disables that end.

A stream disabled with ``until`` (PUT .../disable) is tracked again by the first round at or
after that moment: its overrides are cleared, as PUT .../enable does, and the round's history
row for the stream carries a note saying so (a row of its own when its status does not change).
A stream whose overrides were edited after the disable (no longer all 0) keeps them: only
the disable's bookkeeping is cleared. Acknowledgements are cleared by the round itself when a
stream's status leaves failed and degraded (ooi_status.monitor.check).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ooi_status.model.monitor import DeployedStream
from ooi_status.times import format_timestamp

log = logging.getLogger("ooi_status.monitor.check")

DS = DeployedStream
#: The columns PUT .../disable fills and PUT .../enable clears.
DISABLE_MARK = ("disabled_by", "disabled_at", "disabled_reason", "disabled_until")
#: The columns PUT .../acknowledge fills and the round clears.
ACKNOWLEDGEMENT = ("acknowledged_by", "acknowledged_at", "acknowledged_note")


def reenable_note(by: str | None, until: datetime, reason: str | None) -> str:
    """``re-enabled: the disable by ops until 2026-12-01 18:00:00 ended (cable repair)``."""
    text = f"re-enabled: the disable by {by or 'an operator'} until {format_timestamp(until)} ended"
    return f"{text} ({reason})" if reason else text


def reenable_due(session: Session, now: datetime) -> dict[int, tuple[str, str]]:
    """Track again the streams whose timed disable ended by ``now``: {id: (status, note)} of those
    re-enabled. One indexed read; the writes only when some are due."""
    rows = session.execute(
        select(
            DS.id, DS.status, DS.expected_rate, DS.warn_interval, DS.fail_interval,
            DS.disabled_by, DS.disabled_until, DS.disabled_reason,
        ).where(DS.disabled_until <= now)
    ).all()  # fmt: skip
    if not rows:
        return {}
    disabled = [row for row in rows if (row.expected_rate, row.warn_interval, row.fail_interval) == (0, 0, 0)]
    cleared = dict.fromkeys(DISABLE_MARK)
    session.execute(update(DS).where(DS.id.in_([row.id for row in rows])).values(cleared))
    if disabled:
        session.execute(
            update(DS)
            .where(DS.id.in_([row.id for row in disabled]))
            .values(expected_rate=None, warn_interval=None, fail_interval=None)
        )
        log.info("%d stream(s) re-enabled at the end of their disable", len(disabled))
    return {
        row.id: (row.status, reenable_note(row.disabled_by, row.disabled_until, row.disabled_reason))
        for row in disabled
    }
