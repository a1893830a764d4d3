"""coverage per stream and month or deployment, and what it was computed from

Revision ID: 20261201_coverage
Revises: 20261201_port_counts
Create Date: 2026-12-01 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_coverage"
down_revision: str | None = "20261201_port_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SECONDS = ("present", "sparse1", "sparse2", "sparse3", "missing", "not_expected")


def upgrade() -> None:
    op.create_table(
        "coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refdes", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=255), nullable=False),
        sa.Column("stream", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_stop", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=False) for name in _SECONDS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage")),
        sa.UniqueConstraint(
            "refdes",
            "method",
            "stream",
            "kind",
            "period",
            name=op.f("uq_coverage_refdes_method_stream_kind_period"),
        ),
    )
    op.create_index("ix_coverage_kind_period_start", "coverage", ["kind", "period_start"], unique=False)
    op.create_table(
        "coverage_stream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refdes", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=255), nullable=False),
        sa.Column("stream", sa.String(length=255), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=True),
        sa.Column("first", sa.Float(), nullable=True),
        sa.Column("last", sa.Float(), nullable=True),
        sa.Column("tail_points", sa.BigInteger(), nullable=False),
        sa.Column("deployments", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_stream")),
        sa.UniqueConstraint(
            "refdes", "method", "stream", name=op.f("uq_coverage_stream_refdes_method_stream")
        ),
    )


def downgrade() -> None:
    op.drop_table("coverage_stream")
    op.drop_index("ix_coverage_kind_period_start", table_name="coverage")
    op.drop_table("coverage")
