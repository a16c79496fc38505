"""contact counts: weekly counts of contact records by every pair of record fields

Statistics by two dimensions read these (a few thousand rows for a year) instead of scanning
every record (docs/performance.md). Rows are keyed by the fields and values they count, so they
carry nothing of the order records were written in. Filled here from the existing records.

Revision ID: 0011_contact_counts
Revises: 0010_contact_records
"""

from collections.abc import Sequence
from itertools import combinations

import sqlalchemy as sa
from alembic import op

revision: str = "0011_contact_counts"
down_revision: str | Sequence[str] | None = "0010_contact_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The record fields counted, as of this revision, in name order: a pair's first field is the
# smaller name (server/adapters/db/record_counts.py).
FIELDS = (
    "came_back",
    "channel",
    "duration_bucket",
    "escalation_kind",
    "language",
    "milieu",
    "outcome",
    "perspective",
    "route",
    "survey",
    "topic",
)


def _value(field: str) -> str:
    if field == "came_back":
        return "CASE WHEN came_back THEN '1' ELSE '0' END"
    return f"coalesce({field}, '')"


def upgrade() -> None:
    op.create_table(
        "contact_counts",
        sa.Column("field_a", sa.String(length=32), nullable=False),
        sa.Column("field_b", sa.String(length=32), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("value_a", sa.String(length=64), nullable=False),
        sa.Column("value_b", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "field_a", "field_b", "week", "value_a", "value_b", name=op.f("pk_contact_counts")
        ),
        sqlite_with_rowid=False,
    )
    groups = [("''", "''")] + [(f"'{a}'", _value(a)) for a in FIELDS]
    pairs = [(f"'{a}'", _value(a), f"'{b}'", _value(b)) for a, b in combinations(FIELDS, 2)]
    selects = [f"SELECT {name}, '', week, {value}, '', COUNT(*)" for name, value in groups]
    selects += [f"SELECT {na}, {nb}, week, {va}, {vb}, COUNT(*)" for na, va, nb, vb in pairs]
    for select in selects:
        op.execute(
            "INSERT INTO contact_counts (field_a, field_b, week, value_a, value_b, count) "
            f"{select} FROM contact_records GROUP BY 1, 2, 3, 4, 5"
        )


def downgrade() -> None:
    op.drop_table("contact_counts")
