"""contact records: one anonymous row per ended contact, kept after retention

The table has no id of any source, no time finer than the ISO week, no staff member and no free
text. Its key is a random UUID; on SQLite the table is WITHOUT ROWID, so rows are stored in the
order of that random key and not in the order they were written. Conversations gain ``came_back``
(a resume code was used) and ``record_key``, the key of their record, kept only so the relative's
survey answer can reach it; retention deletes the conversation, and with it the link.

Revision ID: 0010_contact_records
Revises: 0007_relative_presence
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_contact_records"
down_revision: str | Sequence[str] | None = "0007_relative_presence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_records",
        sa.Column("record_key", sa.String(length=36), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("route", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("perspective", sa.String(length=32), nullable=False),
        sa.Column("milieu", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("duration_bucket", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("escalation_kind", sa.String(length=32), nullable=True),
        sa.Column("came_back", sa.Boolean(), nullable=False),
        sa.Column("survey", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("record_key", name=op.f("pk_contact_records")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_contact_records_week", "contact_records", ["week"])
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("came_back", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("record_key", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("record_key")
        batch_op.drop_column("came_back")
    op.drop_index("ix_contact_records_week", table_name="contact_records")
    op.drop_table("contact_records")
