"""retention sweeps: the counts of each retention sweep (never content), for the console

Revision ID: 0013_retention_sweeps
Revises: 0012_supervision
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_retention_sweeps"
down_revision: str | Sequence[str] | None = "0012_supervision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_sweeps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_inactive", sa.Integer(), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_sweeps")),
    )
    op.create_index("ix_retention_sweeps_ran_at", "retention_sweeps", ["ran_at"])


def downgrade() -> None:
    op.drop_index("ix_retention_sweeps_ran_at", table_name="retention_sweeps")
    op.drop_table("retention_sweeps")
