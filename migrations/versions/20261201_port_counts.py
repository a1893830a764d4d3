"""port-agent statistics: raw and hourly port counts, per-instrument summary, rejections

Revision ID: 20261201_port_counts
Revises: 20261201_data_revision
Create Date: 2026-12-01 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_port_counts"
down_revision: str | None = "20261201_data_revision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "port_count",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("refdes", sa.String(length=100), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("elapsed", sa.Float(), nullable=False),
        sa.Column("bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("bytes_out", sa.BigInteger(), nullable=False),
        sa.Column("adds", sa.BigInteger(), nullable=False),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_port_count")),
        sa.UniqueConstraint("refdes", "end_time", name=op.f("uq_port_count_refdes_end_time")),
    )
    op.create_index("ix_port_count_end_time", "port_count", ["end_time"], unique=False)
    op.create_table(
        "port_count_hourly",
        sa.Column("refdes", sa.String(length=100), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("counts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("refdes", "hour", name=op.f("pk_port_count_hourly")),
    )
    op.create_index("ix_port_count_hourly_hour", "port_count_hourly", ["hour"], unique=False)
    op.create_table(
        "port_agent",
        sa.Column("refdes", sa.String(length=100), nullable=False),
        sa.Column("first_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_nonzero_time", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("refdes", name=op.f("pk_port_agent")),
    )
    op.create_table(
        "port_stats_rejection",
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reason", name=op.f("pk_port_stats_rejection")),
    )


def downgrade() -> None:
    op.drop_table("port_stats_rejection")
    op.drop_table("port_agent")
    op.drop_index("ix_port_count_hourly_hour", table_name="port_count_hourly")
    op.drop_table("port_count_hourly")
    op.drop_index("ix_port_count_end_time", table_name="port_count")
    op.drop_table("port_count")
