"""coverage_stream.longest_bin: how far back a bin can start and still reach a window

Revision ID: 20261201_coverage_longest_bin
Revises: 20261201_leader_epoch
Create Date: 2026-12-01 19:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_coverage_longest_bin"
down_revision: str | None = "20261201_leader_epoch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("coverage_stream", sa.Column("longest_bin", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coverage_stream") as batch:
        batch.drop_column("longest_bin")
