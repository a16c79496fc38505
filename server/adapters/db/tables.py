"""SQLAlchemy Core tables: the single source of truth for every conversation and queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


SQLITE_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def parse_utc(value: str | datetime) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite keeps naive UTC text)."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def sqlite_utc_text(value: datetime) -> str:
    """What SQLAlchemy's SQLite dialect stores for an aware datetime, for raw statements."""
    return value.astimezone(UTC).strftime(SQLITE_DATETIME_FORMAT)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else parse_utc(value)


staff_users = Table(
    "staff_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(32), nullable=False),
    Column("route", String(64)),
    Column("languages", JSON, nullable=False, default=list),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    # TOTP: the secret encrypted with the data key; enabled once a code confirmed it; the last
    # time step accepted, so no code is accepted twice.
    Column("totp_secret", LargeBinary),
    Column("totp_enabled_at", UtcDateTime),
    Column("totp_last_step", Integer),
    # Second-factor guesses since the last success, counted before each is checked, and the end
    # of the lockout that follows auth.totp_lockout_after of them (None: not locked).
    Column("totp_failures", Integer, nullable=False, default=0, server_default="0"),
    Column("totp_locked_until", UtcDateTime),
    Column("last_login_at", UtcDateTime),
)

# One-time links with which a member of staff chooses their password (a new account, a reset):
# only the link's hash, spent once, valid until expires_at (server/services/accounts.py).
staff_setup_links = Table(
    "staff_setup_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Index("ix_staff_setup_links_user_id", "user_id"),
)

staff_recovery_codes = Table(
    "staff_recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("used_at", UtcDateTime),
    Index("ix_staff_recovery_codes_user_id", "user_id"),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Index("ix_staff_sessions_user_id", "user_id"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("language", String(8), nullable=False),
    Column("topic", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("priority_reason", String(32)),
    Column("counsellor_id", Integer, ForeignKey("staff_users.id")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("outcome", String(32)),
    Column("last_seq", Integer, nullable=False, default=0),
    Column("counsellor_read_seq", Integer, nullable=False, default=0),
    Column("resume_hash", String(64), nullable=False, unique=True),
    Column("last_bot_update_at", UtcDateTime),
    Column("relative_gone_since", UtcDateTime),
    Column("language_choice", String(8)),
    Column("colleague_id", Integer),
    # A resume code was used; and the key of the conversation's contact record, kept only until
    # the relative's survey answer reaches it (or retention deletes the conversation).
    Column("came_back", Boolean, nullable=False, server_default="0"),
    Column("record_key", String(36)),
    Index("ix_conversations_state_priority", "state", "priority", "created_at"),
    Index("ix_conversations_counsellor_state", "counsellor_id", "state"),
)

relative_tokens = Table(
    "relative_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_relative_tokens_conversation_id", "conversation_id"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("sender", String(16), nullable=False),
    Column("author_id", Integer, ForeignKey("staff_users.id")),
    Column("body", LargeBinary, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    # A resource card sent with send_resource (JSON, encrypted like the body); NULL otherwise.
    Column("card", LargeBinary),
    UniqueConstraint("conversation_id", "seq"),
    UniqueConstraint("conversation_id", "client_id"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("author_id", Integer, ForeignKey("staff_users.id"), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_notes_conversation_id", "conversation_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", Integer, ForeignKey("staff_users.id")),
    Column("action", String(48), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(64), nullable=False),
    # Why, as a configured id (a supervisor's reason for reading); never free text.
    Column("detail", String(48)),
    Index("ix_audit_log_object", "object_type", "object_id"),
)

# ---- booking and SMS (issue 3) ----

booking_profiles = Table(
    "booking_profiles",
    metadata,
    Column("user_id", Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
    Column("weekly", JSON, nullable=False, default=list),
    Column("exceptions", JSON, nullable=False, default=list),
    Column("last_assignment", Integer, nullable=False, default=0),
    Column("updated_at", UtcDateTime, nullable=False),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("busy_until", UtcDateTime, nullable=False),
    Column("counsellor_id", Integer, ForeignKey("staff_users.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("manage_hash", String(64), unique=True),
    Column("phone", LargeBinary),
    Column("phone_hash", String(64)),
    Column("conversation_id", String(36), ForeignKey("conversations.id", ondelete="SET NULL")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime),
    Column("cancelled_by", String(16)),
    Column("version", Integer, nullable=False, default=1),
    Column("interpreter_language", String(8)),
    Index("ix_appointments_start_at", "start_at"),
    Index("ix_appointments_counsellor_id_start_at", "counsellor_id", "start_at"),
    Index("ix_appointments_phone_hash", "phone_hash"),
)

group_sessions = Table(
    "group_sessions",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("start_at", UtcDateTime, primary_key=True),
    Column("counsellor_id", Integer, ForeignKey("staff_users.id"), nullable=False),
    Column("seats_taken", Integer, nullable=False, default=0),
)

appointment_texts = Table(
    "appointment_texts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("appointment_id", String(36), ForeignKey("appointments.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("offset_seconds", Integer),
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claim_id", String(36)),
    Column("claimed_at", UtcDateTime),
    Column("body", LargeBinary),
    Column("provider_id", String(64)),
    Column("error_code", String(32)),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("throttled", Integer, nullable=False, default=0, server_default="0"),
    Column("retry_at", UtcDateTime),
    Index("ix_appointment_texts_state_due_at", "state", "due_at"),
    Index("ix_appointment_texts_appointment_id", "appointment_id"),
    Index("ix_appointment_texts_provider_id", "provider_id"),
)

sms_opt_outs = Table(
    "sms_opt_outs",
    metadata,
    Column("phone_hash", String(64), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

sms_inbound_seen = Table(
    "sms_inbound_seen",
    metadata,
    Column("message_hash", String(64), primary_key=True),
    Column("received_at", UtcDateTime, nullable=False),
)

sms_outbox = Table(
    "sms_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("provider_id", String(64), nullable=False, unique=True),
    Column("to_phone", LargeBinary, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_sms_outbox_created_at", "created_at"),
)

slot_offers = Table(
    "slot_offers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(36), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("counsellor_id", Integer, ForeignKey("staff_users.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("starts", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_slot_offers_conversation_id", "conversation_id"),
)

# ---- escalations (issue 4) ----

escalations = Table(
    "escalations",
    metadata,
    Column("id", String(36), primary_key=True),
    # Kept when chat retention deletes the conversation: escalations have their own retention.
    Column("conversation_id", String(36), ForeignKey("conversations.id", ondelete="SET NULL")),
    # The conversation's resume-code hash, so the relative can look the status up later.
    Column("relative_hash", String(64)),
    Column("language", String(8), nullable=False),
    Column("drafter_id", Integer, ForeignKey("staff_users.id"), nullable=False),
    Column("route", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", String(24), nullable=False),
    Column("summary", LargeBinary, nullable=False),
    Column("indicators", JSON, nullable=False),
    Column("consent", Boolean, nullable=False),
    Column("share_transcript", Boolean, nullable=False),
    Column("age_band", String(8), nullable=False),
    Column("relation", LargeBinary, nullable=False),
    Column("contact", LargeBinary),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("submitted_at", UtcDateTime),
    Column("approved_by", Integer, ForeignKey("staff_users.id")),
    Column("sent_back_by", Integer, ForeignKey("staff_users.id")),
    Column("sent_back_reason", LargeBinary),
    Column("sent_at", UtcDateTime),
    Column("ack_deadline", UtcDateTime),
    Column("acknowledged_by", Integer, ForeignKey("staff_users.id")),
    Column("acknowledged_at", UtcDateTime),
    Column("deadline_missed_at", UtcDateTime),
    Column("backup_route", String(64)),
    Column("backup_deadline", UtcDateTime),
    Column("outcome_at", UtcDateTime),
    Column("feedback", LargeBinary),
    Index("ix_escalations_state_ack_deadline", "state", "ack_deadline"),
    Index("ix_escalations_relative_hash", "relative_hash"),
    Index("ix_escalations_drafter_id", "drafter_id"),
    Index("ix_escalations_updated_at", "updated_at"),
)

escalation_notifications = Table(
    "escalation_notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("escalation_id", String(36), ForeignKey("escalations.id", ondelete="CASCADE"), nullable=False),
    Column("route", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempted_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("provider_id", String(64)),
    UniqueConstraint("escalation_id", "route", "channel", "purpose"),
    Index("ix_escalation_notifications_state", "state"),
)

# ---- contact records (issue 12) ----

# One anonymous row per ended contact, kept after retention (docs/statistics.md). No id of any
# source, no time finer than the ISO week, no staff member, no free text. The key is a random
# UUID and, on SQLite, the table has no rowid, so the physical order follows the random key and
# not the order the rows were written in.
contact_records = Table(
    "contact_records",
    metadata,
    Column("record_key", String(36), primary_key=True),
    Column("week", String(8), nullable=False),
    Column("route", String(64), nullable=False),
    Column("language", String(8), nullable=False),
    Column("topic", String(32), nullable=False),
    Column("perspective", String(32), nullable=False),
    Column("milieu", String(32)),
    Column("outcome", String(32), nullable=False),
    Column("duration_bucket", String(16), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("escalation_kind", String(32)),
    Column("came_back", Boolean, nullable=False),
    Column("survey", String(8)),
    Index("ix_contact_records_week", "week"),
    sqlite_with_rowid=False,
)

# Weekly counts of contact_records by every pair of record fields (record_counts.py): a table by
# any two dimensions reads a few thousand of these instead of every record. "" stands for "no
# field" (a single field, or the week's total) and for a missing value.
contact_counts = Table(
    "contact_counts",
    metadata,
    Column("field_a", String(32), primary_key=True),
    Column("field_b", String(32), primary_key=True),
    Column("week", String(8), primary_key=True),
    Column("value_a", String(64), primary_key=True),
    Column("value_b", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# ---- retention (issue 14) ----

# One row per retention sweep, counts only (never an id or content of what went), kept for
# RETENTION_SWEEPS_KEPT (services/retention.py) for GET /api/staff/retention.
retention_sweeps = Table(
    "retention_sweeps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ran_at", UtcDateTime, nullable=False),
    Column("closed_inactive", Integer, nullable=False),
    Column("conversations", Integer, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("notes", Integer, nullable=False),
    Column("tokens", Integer, nullable=False),
    Index("ix_retention_sweeps_ran_at", "ran_at"),
)

# ---- the knowledge bank (issue 13) ----

# The knowledge bank (docs/knowledge.md): one row per item, one text per item and language (the
# current one), and every version of every text. Search runs over knowledge_texts: on SQLite
# through the FTS5 table knowledge_fts that triggers keep in step (migration 0014), on PostgreSQL
# through a GIN index on to_tsvector('simple', ...).
knowledge_items = Table(
    "knowledge_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("key", String(64)),
    Column("audience", String(16), nullable=False),
    Column("published", Boolean, nullable=False),
    Column("perspectives", JSON, nullable=False),
    Column("districts", JSON, nullable=False),
    Column("phone", String(40), nullable=False),
    Column("url", String(300), nullable=False),
    Column("address", String(300), nullable=False),
    Column("hours", String(300), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("kind", "key"),
    Index("ix_knowledge_items_kind_published", "kind", "published"),
)

knowledge_texts = Table(
    "knowledge_texts",
    metadata,
    Column("item_id", Integer, ForeignKey("knowledge_items.id", ondelete="CASCADE"), primary_key=True),
    Column("language", String(8), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("changed_by", Integer, ForeignKey("staff_users.id", ondelete="SET NULL")),
    Column("changed_at", UtcDateTime, nullable=False),
)

knowledge_versions = Table(
    "knowledge_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("knowledge_items.id", ondelete="CASCADE"), nullable=False),
    Column("language", String(8), nullable=False),
    Column("version", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("changed_by", Integer, ForeignKey("staff_users.id", ondelete="SET NULL")),
    Column("changed_at", UtcDateTime, nullable=False),
    UniqueConstraint("item_id", "language", "version"),
)
