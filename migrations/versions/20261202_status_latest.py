"""status_latest: each stream's latest history row with its cumulative seconds, filled

Revision ID: 20261202_status_latest
Revises: 20261201_history_cumulative
Create Date: 2026-12-02 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_status_latest"
down_revision: str | None = "20261201_history_cumulative"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("cum_operational", "cum_degraded", "cum_failed", "cum_not_tracked")

# Every stream's latest filled row, by (changed_at, id); a stream with an unfilled row gets its
# row from the monitor's next check step (ooi_status.reports.uptime.fill_cumulative).
FILL = f"""
INSERT INTO status_latest (deployed_stream_id, history_id, old_status, new_status, changed_at, {", ".join(COLUMNS)})
SELECT deployed_stream_id, id, old_status, new_status, changed_at, {", ".join(COLUMNS)}
FROM (
    SELECT h.*, ROW_NUMBER() OVER (PARTITION BY deployed_stream_id ORDER BY changed_at DESC, id DESC) AS n
    FROM status_history h
) AS ranked
WHERE n = 1 AND deployed_stream_id NOT IN (
    SELECT deployed_stream_id FROM status_history WHERE cum_operational IS NULL
)
"""


def upgrade() -> None:
    op.create_table(
        "status_latest",
        sa.Column("deployed_stream_id", sa.Integer(), nullable=False),
        sa.Column("history_id", sa.Integer(), nullable=False),
        sa.Column("old_status", sa.String(length=16), nullable=False),
        sa.Column("new_status", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(column, sa.Float(), nullable=False) for column in COLUMNS),
        sa.ForeignKeyConstraint(
            ["deployed_stream_id"],
            ["deployed_stream.id"],
            name=op.f("fk_status_latest_deployed_stream_id_deployed_stream"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["history_id"],
            ["status_history.id"],
            name=op.f("fk_status_latest_history_id_status_history"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deployed_stream_id", name=op.f("pk_status_latest")),
    )
    op.create_index(op.f("ix_status_latest_history_id"), "status_latest", ["history_id"], unique=False)
    op.execute(FILL)


def downgrade() -> None:
    op.drop_index(op.f("ix_status_latest_history_id"), table_name="status_latest")
    op.drop_table("status_latest")
