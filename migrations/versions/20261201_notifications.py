"""notifications: subscriptions, the notification watermark, flapping streams

Revision ID: 20261201_notifications
Revises: 20261201_silence
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_notifications"
down_revision: str | None = "20261201_silence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=1024), nullable=False),
        sa.Column("match", sa.String(length=100), nullable=False),
        sa.Column("min_status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
    )
    op.create_table(
        "notify_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notify_state")),
    )
    op.add_column("deployed_stream", sa.Column("flapping_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("deployed_stream", "flapping_since")
    op.drop_table("notify_state")
    op.drop_table("subscription")
