"""supervision: a colleague joined to a conversation, and why an audited action happened

``conversations.colleague_id``: a second member of staff reading and writing along
(server/domain/supervision.py). ``audit_log.detail``: a configured reason id (a supervisor's reason
to read a conversation), never free text.

Revision ID: 0012_supervision
Revises: 0011_contact_counts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_supervision"
down_revision: str | Sequence[str] | None = "0011_contact_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("colleague_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.String(48), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("detail")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("colleague_id")
