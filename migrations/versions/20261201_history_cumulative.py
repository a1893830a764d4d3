"""status_history.cum_*: seconds in each status from the stream's first history row, filled;
the stream-time index ends with id (the tie-break of rows at one time)

Revision ID: 20261201_history_cumulative
Revises: 20261201_coverage_longest_bin
Create Date: 2026-12-01 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_history_cumulative"
down_revision: str | None = "20261201_coverage_longest_bin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("cum_operational", "cum_degraded", "cum_failed", "cum_not_tracked")
STATUSES = ("operational", "degraded", "failed", "notTracked")
UNFILLED = "cum_operational IS NULL"
EPOCH = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM changed_at) AS double precision)",
    "sqlite": "((julianday(changed_at) - 2440587.5) * 86400.0)",
}

# Every row at once (as ooi_status.reports.uptime.fill_cumulative does from a stream's earliest
# unfilled row): the seconds of the segments before the row, each in the new status of the row
# starting it, in (changed_at, id) order.
FILL = """
UPDATE status_history
SET {assignments}
FROM (
    SELECT id, {sums}
    FROM (
        SELECT id, deployed_stream_id, changed_at, new_status,
               COALESCE(LEAD({t}) OVER (PARTITION BY deployed_stream_id ORDER BY changed_at, id) - {t}, 0)
                   AS seconds
        FROM status_history
    ) AS timed
    WINDOW r AS (PARTITION BY deployed_stream_id ORDER BY changed_at, id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
) AS summed
WHERE status_history.id = summed.id
"""


def upgrade() -> None:
    with op.batch_alter_table("status_history", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Float(), nullable=True))
    dialect = "postgresql" if op.get_context().dialect.name == "postgresql" else "sqlite"
    sums = ", ".join(
        f"COALESCE(SUM(CASE WHEN new_status = '{status}' THEN seconds ELSE 0 END) OVER r, 0) AS {column}"
        for status, column in zip(STATUSES, COLUMNS, strict=True)
    )
    assignments = ", ".join(f"{column} = summed.{column}" for column in COLUMNS)
    op.execute(FILL.format(assignments=assignments, sums=sums, t=EPOCH[dialect]))
    with op.batch_alter_table("status_history", schema=None) as batch_op:
        batch_op.drop_index("ix_status_history_stream_time")
        batch_op.create_index(
            "ix_status_history_stream_time", ["deployed_stream_id", "changed_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_status_history_unfilled",
            ["deployed_stream_id"],
            unique=False,
            postgresql_where=sa.text(UNFILLED),
            sqlite_where=sa.text(UNFILLED),
        )


def downgrade() -> None:
    with op.batch_alter_table("status_history", schema=None) as batch_op:
        batch_op.drop_index("ix_status_history_unfilled")
        batch_op.drop_index("ix_status_history_stream_time")
        batch_op.create_index(
            "ix_status_history_stream_time", ["deployed_stream_id", "changed_at"], unique=False
        )
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
