"""interpreter: the language an appointment needs an interpreter for

Set for bookings of a kind with ``interpreter = true`` in a language its counsellors do not hold
calls in; NULL for every other appointment, including all existing ones.

Revision ID: 0008_interpreter
Revises: 0007_relative_presence
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_interpreter"
down_revision: str | Sequence[str] | None = "0007_relative_presence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interpreter_language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("interpreter_language")
