"""appointment texts: how often the provider throttled a text (429) and when to try it again

Revision ID: 0006_sms
Revises: 0005_login_lockout
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_sms"
down_revision: str | Sequence[str] | None = "0005_login_lockout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointment_texts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("throttled", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appointment_texts", schema=None) as batch_op:
        batch_op.drop_column("retry_at")
        batch_op.drop_column("throttled")
