"""escalations to social services

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _staff_fk(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["staff_users.id"], name=op.f(f"fk_escalations_{column}_staff_users")
    )


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("relative_hash", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("drafter_id", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("summary", sa.LargeBinary(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("share_transcript", sa.Boolean(), nullable=False),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("relation", sa.LargeBinary(), nullable=False),
        sa.Column("contact", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("sent_back_by", sa.Integer(), nullable=True),
        sa.Column("sent_back_reason", sa.LargeBinary(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_missed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backup_route", sa.String(length=64), nullable=True),
        sa.Column("backup_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_escalations_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        _staff_fk("drafter_id"),
        _staff_fk("approved_by"),
        _staff_fk("sent_back_by"),
        _staff_fk("acknowledged_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index("ix_escalations_state_ack_deadline", ["state", "ack_deadline"], unique=False)
        batch_op.create_index("ix_escalations_relative_hash", ["relative_hash"], unique=False)
        batch_op.create_index("ix_escalations_drafter_id", ["drafter_id"], unique=False)
        batch_op.create_index("ix_escalations_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "escalation_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.String(length=36), nullable=False),
        sa.Column("route", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_escalation_notifications_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_notifications")),
        sa.UniqueConstraint(
            "escalation_id",
            "route",
            "channel",
            "purpose",
            name=op.f("uq_escalation_notifications_escalation_id_route_channel_purpose"),
        ),
    )
    with op.batch_alter_table("escalation_notifications", schema=None) as batch_op:
        batch_op.create_index("ix_escalation_notifications_state", ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalation_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_notifications_state")
    op.drop_table("escalation_notifications")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_updated_at")
        batch_op.drop_index("ix_escalations_drafter_id")
        batch_op.drop_index("ix_escalations_relative_hash")
        batch_op.drop_index("ix_escalations_state_ack_deadline")
    op.drop_table("escalations")
