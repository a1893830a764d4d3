"""initial monitor schema

Revision ID: 20261123_initial_schema
Revises:
Create Date: 2026-11-23 01:58:14.772354
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261123_initial_schema"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "expected_stream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=255), nullable=False),
        sa.Column("expected_rate", sa.Float(), nullable=False),
        sa.Column("warn_interval", sa.Integer(), nullable=False),
        sa.Column("fail_interval", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expected_stream")),
        sa.UniqueConstraint("name", "method", name=op.f("uq_expected_stream_name_method")),
    )
    op.create_table(
        "monitor_heartbeat",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("streams_checked", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("events_delivered", sa.Integer(), nullable=False),
        sa.Column("events_failed", sa.Integer(), nullable=False),
        sa.Column("events_dead", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_monitor_heartbeat")),
    )
    op.create_table(
        "reference_designator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_designator")),
        sa.UniqueConstraint("name", name=op.f("uq_reference_designator_name")),
    )
    op.create_table(
        "deployed_stream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference_designator_id", sa.Integer(), nullable=False),
        sa.Column("expected_stream_id", sa.Integer(), nullable=False),
        sa.Column("expected_rate", sa.Float(), nullable=True),
        sa.Column("warn_interval", sa.Integer(), nullable=True),
        sa.Column("fail_interval", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_data_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("particle_count", sa.BigInteger(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_base_count", sa.BigInteger(), nullable=True),
        sa.Column("rate_base_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("measured_rate", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["expected_stream_id"],
            ["expected_stream.id"],
            name=op.f("fk_deployed_stream_expected_stream_id_expected_stream"),
        ),
        sa.ForeignKeyConstraint(
            ["reference_designator_id"],
            ["reference_designator.id"],
            name=op.f("fk_deployed_stream_reference_designator_id_reference_designator"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployed_stream")),
        sa.UniqueConstraint(
            "reference_designator_id",
            "expected_stream_id",
            name=op.f("uq_deployed_stream_reference_designator_id_expected_stream_id"),
        ),
    )
    with op.batch_alter_table("deployed_stream", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deployed_stream_expected_stream_id"), ["expected_stream_id"], unique=False
        )
        batch_op.create_index("ix_deployed_stream_status", ["status"], unique=False)

    op.create_table(
        "pending_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployed_stream_id", sa.Integer(), nullable=True),
        sa.Column("asset_uid", sa.String(length=128), nullable=False),
        sa.Column("sink", sa.String(length=1024), nullable=False),
        sa.Column(
            "message",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployed_stream_id"],
            ["deployed_stream.id"],
            name=op.f("fk_pending_update_deployed_stream_id_deployed_stream"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_update")),
    )
    with op.batch_alter_table("pending_update", schema=None) as batch_op:
        batch_op.create_index("ix_pending_update_asset", ["asset_uid", "id"], unique=False)
        batch_op.create_index("ix_pending_update_due", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployed_stream_id", sa.Integer(), nullable=False),
        sa.Column("old_status", sa.String(length=16), nullable=False),
        sa.Column("new_status", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("elapsed", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployed_stream_id"],
            ["deployed_stream.id"],
            name=op.f("fk_status_history_deployed_stream_id_deployed_stream"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_history")),
    )
    with op.batch_alter_table("status_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_status_history_stream_time", ["deployed_stream_id", "changed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("status_history", schema=None) as batch_op:
        batch_op.drop_index("ix_status_history_stream_time")

    op.drop_table("status_history")
    with op.batch_alter_table("pending_update", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_update_due")
        batch_op.drop_index("ix_pending_update_asset")

    op.drop_table("pending_update")
    with op.batch_alter_table("deployed_stream", schema=None) as batch_op:
        batch_op.drop_index("ix_deployed_stream_status")
        batch_op.drop_index(batch_op.f("ix_deployed_stream_expected_stream_id"))

    op.drop_table("deployed_stream")
    op.drop_table("reference_designator")
    op.drop_table("monitor_heartbeat")
    op.drop_table("expected_stream")
