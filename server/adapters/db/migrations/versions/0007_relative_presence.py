"""relative presence: since when no socket of the relative has been connected

Waiting conversations whose relative has been gone ``chat.abandon_after`` close as abandoned.
Existing rows start as present (NULL): only a disconnect from now on starts their clock.

Revision ID: 0007_relative_presence
Revises: 0006_sms
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_relative_presence"
down_revision: str | Sequence[str] | None = "0006_sms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relative_gone_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("relative_gone_since")
