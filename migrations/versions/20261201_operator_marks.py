"""acknowledgements and timed disables of deployed streams; notes on status history

Revision ID: 20261201_operator_marks
Revises: 20261201_notifications
Create Date: 2026-12-01 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_operator_marks"
down_revision: str | None = "20261201_coverage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deployed_stream", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("disabled_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("disabled_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("disabled_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_deployed_stream_acknowledged_at"), ["acknowledged_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deployed_stream_disabled_until"), ["disabled_until"], unique=False
        )
    with op.batch_alter_table("status_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("status_history", schema=None) as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("deployed_stream", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployed_stream_disabled_until"))
        batch_op.drop_index(batch_op.f("ix_deployed_stream_acknowledged_at"))
        for column in (
            "disabled_until", "disabled_reason", "disabled_at", "disabled_by",
            "acknowledged_note", "acknowledged_at", "acknowledged_by",
        ):  # fmt: skip
            batch_op.drop_column(column)
