"""silences and maintenance windows

Revision ID: 20261201_silence
Revises: 20261123_initial_schema
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_silence"
down_revision: str | None = "20261123_initial_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "silence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refdes", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=255), nullable=True),
        sa.Column("stream", sa.String(length=255), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silence")),
    )
    with op.batch_alter_table("silence", schema=None) as batch_op:
        batch_op.create_index("ix_silence_ends_at", ["ends_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("silence", schema=None) as batch_op:
        batch_op.drop_index("ix_silence_ends_at")
    op.drop_table("silence")
