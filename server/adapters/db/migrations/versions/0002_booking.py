"""booking: availability, appointments, group sessions, texts, opt-outs, inbound replays, outbox, offers

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "booking_profiles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("weekly", sa.JSON(), nullable=False),
        sa.Column("exceptions", sa.JSON(), nullable=False),
        sa.Column("last_assignment", sa.Integer(), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_booking_profiles_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_booking_profiles")),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("start_at", _WHEN, nullable=False),
        sa.Column("end_at", _WHEN, nullable=False),
        sa.Column("busy_until", _WHEN, nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("manage_hash", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("cancelled_at", _WHEN, nullable=True),
        sa.Column("cancelled_by", sa.String(length=16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"], ["staff_users.id"], name=op.f("fk_appointments_counsellor_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_appointments_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("reference", name=op.f("uq_appointments_reference")),
        sa.UniqueConstraint("manage_hash", name=op.f("uq_appointments_manage_hash")),
    )
    op.create_index("ix_appointments_start_at", "appointments", ["start_at"])
    op.create_index("ix_appointments_counsellor_id_start_at", "appointments", ["counsellor_id", "start_at"])
    op.create_index("ix_appointments_phone_hash", "appointments", ["phone_hash"])

    op.create_table(
        "group_sessions",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("start_at", _WHEN, nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"], ["staff_users.id"], name=op.f("fk_group_sessions_counsellor_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("kind", "start_at", name=op.f("pk_group_sessions")),
    )
    op.create_table(
        "appointment_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("offset_seconds", sa.Integer(), nullable=True),
        sa.Column("due_at", _WHEN, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(length=36), nullable=True),
        sa.Column("claimed_at", _WHEN, nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_texts_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_texts")),
    )
    op.create_index("ix_appointment_texts_state_due_at", "appointment_texts", ["state", "due_at"])
    op.create_index("ix_appointment_texts_appointment_id", "appointment_texts", ["appointment_id"])
    op.create_index("ix_appointment_texts_provider_id", "appointment_texts", ["provider_id"])

    op.create_table(
        "sms_opt_outs",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("phone_hash", name=op.f("pk_sms_opt_outs")),
    )
    op.create_table(
        "sms_inbound_seen",
        sa.Column("message_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("message_hash", name=op.f("pk_sms_inbound_seen")),
    )
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("to_phone", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_outbox")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_sms_outbox_provider_id")),
    )
    op.create_index("ix_sms_outbox_created_at", "sms_outbox", ["created_at"])
    op.create_table(
        "slot_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("starts", sa.JSON(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_slot_offers_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"], ["staff_users.id"], name=op.f("fk_slot_offers_counsellor_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_offers")),
    )
    op.create_index("ix_slot_offers_conversation_id", "slot_offers", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_slot_offers_conversation_id", table_name="slot_offers")
    op.drop_table("slot_offers")
    op.drop_index("ix_sms_outbox_created_at", table_name="sms_outbox")
    op.drop_table("sms_outbox")
    op.drop_table("sms_inbound_seen")
    op.drop_table("sms_opt_outs")
    for index in (
        "ix_appointment_texts_provider_id",
        "ix_appointment_texts_appointment_id",
        "ix_appointment_texts_state_due_at",
    ):
        op.drop_index(index, table_name="appointment_texts")
    op.drop_table("appointment_texts")
    op.drop_table("group_sessions")
    for index in (
        "ix_appointments_phone_hash",
        "ix_appointments_counsellor_id_start_at",
        "ix_appointments_start_at",
    ):
        op.drop_index(index, table_name="appointments")
    op.drop_table("appointments")
    op.drop_table("booking_profiles")
