"""staff setup links: a one-time link with which a member of staff chooses their password

Only the link's SHA-256 hash is stored. A link is spent (``used_at``) when a password is chosen
with it, and is no longer valid after ``expires_at``. A new link for an account (a password reset)
removes the account's earlier ones. ``staff_users.last_login_at``: when the member last signed in,
for the accounts list.

Revision ID: 0015_staff_setup
Revises: 0014_knowledge
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_staff_setup"
down_revision: str | Sequence[str] | None = "0014_knowledge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "staff_setup_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_staff_setup_links_user_id", "staff_setup_links", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_setup_links_user_id", table_name="staff_setup_links")
    op.drop_table("staff_setup_links")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("last_login_at")
