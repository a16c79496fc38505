"""language choice: whether a relative waits for a counsellor who speaks their language

NULL until the relative chooses; "wait" or "any" (server/domain/conversations.py LanguageChoice).

Revision ID: 0009_language_choice
Revises: 0008_interpreter
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_language_choice"
down_revision: str | Sequence[str] | None = "0008_interpreter"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language_choice", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("language_choice")
