"""Fleet reports: uptime from the status history, coverage from the bins."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from ooi_status.db import is_postgres

#: PostgreSQL's work_mem for a report's statements: their sorts and hash tables (a few tens of
#: MB for 12,000 streams) stay in memory instead of spilling to temporary files.
REPORT_WORK_MEM = "64MB"


def in_memory(session: Session) -> None:
    """On PostgreSQL, for the rest of the session's transaction: REPORT_WORK_MEM, and no JIT
    compilation (it took most of a second, for plans that run in a fraction of that)."""
    if is_postgres(session):
        session.execute(
            text("SELECT set_config('work_mem', :work_mem, true), set_config('jit', 'off', true)"),
            {"work_mem": REPORT_WORK_MEM},
        )
