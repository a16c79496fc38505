"""The rows of the fake database: plain containers a transaction copies on entry (see
unit_of_work.py). Rows are frozen dataclasses, changed with ``dataclasses.replace``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from server.domain.booking.appointments import Appointment
from server.domain.booking.availability import Availability
from server.domain.conversations import Conversation, Message
from server.domain.escalation import Escalation
from server.domain.reminders import TextPurpose, TextState
from server.domain.staff import StaffUser
from server.domain.statistics.records import ContactRecord
from server.services.ports.retention import Sweep


class UniqueViolation(Exception):
    """What the database's UNIQUE or PRIMARY KEY constraint would raise."""


@dataclass(frozen=True)
class ConversationRow:
    conversation: Conversation
    resume_hash: str
    last_bot_update_at: datetime | None = None
    came_back: bool = False
    record_key: str | None = None


@dataclass(frozen=True)
class TokenRow:
    conversation_id: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class MessageRow:
    message: Message
    author_id: int | None


@dataclass(frozen=True)
class NoteRow:
    id: int
    conversation_id: str
    author_id: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class StaffRow:
    user: StaffUser
    password_hash: str
    created_at: datetime
    totp_secret: bytes | None = None
    totp_enabled_at: datetime | None = None
    totp_last_step: int | None = None
    totp_failures: int = 0
    totp_locked_until: datetime | None = None
    last_login_at: datetime | None = None


@dataclass(frozen=True)
class SetupLinkRow:
    user_id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class SessionRow:
    user_id: int
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class RecoveryCodeRow:
    user_id: int
    code_hash: str
    used_at: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    detail: str | None = None


@dataclass(frozen=True)
class EscalationRow:
    escalation: Escalation
    relative_hash: str | None


@dataclass(frozen=True)
class NotificationRow:
    id: int
    escalation_id: str
    route: str
    channel: str
    purpose: str
    state: str
    created_at: datetime
    attempted_at: datetime | None = None
    provider_id: str | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class BookingProfileRow:
    """Weekly hours and exceptions; the languages live on the staff account, as in the tables."""

    availability: Availability
    last_assignment: int
    updated_at: datetime


@dataclass(frozen=True)
class AppointmentRow:
    appointment: Appointment
    busy_until: datetime
    manage_hash: str | None
    phone: str | None
    phone_hash: str | None


@dataclass(frozen=True)
class GroupSessionRow:
    counsellor_id: int
    seats_taken: int


@dataclass(frozen=True)
class TextRow:
    id: int
    appointment_id: str
    purpose: TextPurpose
    offset_seconds: int | None
    due_at: datetime
    state: TextState
    updated_at: datetime
    attempts: int = 0
    throttled: int = 0
    retry_at: datetime | None = None
    claim_id: str | None = None
    claimed_at: datetime | None = None
    provider_id: str | None = None
    error_code: str | None = None
    body: str | None = None


@dataclass(frozen=True)
class OfferRow:
    id: int
    conversation_id: str
    counsellor_id: int
    kind: str
    starts: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class OutboxRow:
    id: int
    provider_id: str
    to: str
    body: str
    created_at: datetime


@dataclass
class Tables:
    """Every table the fakes keep. ``ids`` hands out autoincrement ids per table."""

    conversations: dict[str, ConversationRow] = field(default_factory=dict)
    tokens: dict[str, TokenRow] = field(default_factory=dict)
    messages: dict[str, list[MessageRow]] = field(default_factory=dict)
    notes: list[NoteRow] = field(default_factory=list)
    staff: dict[int, StaffRow] = field(default_factory=dict)
    sessions: dict[str, SessionRow] = field(default_factory=dict)
    recovery_codes: list[RecoveryCodeRow] = field(default_factory=list)
    setup_links: dict[str, SetupLinkRow] = field(default_factory=dict)
    audit: list[AuditRow] = field(default_factory=list)
    escalations: dict[str, EscalationRow] = field(default_factory=dict)
    notifications: list[NotificationRow] = field(default_factory=list)
    booking_profiles: dict[int, BookingProfileRow] = field(default_factory=dict)
    appointments: dict[str, AppointmentRow] = field(default_factory=dict)
    group_sessions: dict[tuple[str, datetime], GroupSessionRow] = field(default_factory=dict)
    texts: list[TextRow] = field(default_factory=list)
    opt_outs: dict[str, datetime] = field(default_factory=dict)
    inbound_seen: set[str] = field(default_factory=set)
    offers: list[OfferRow] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)
    records: dict[str, ContactRecord] = field(default_factory=dict)
    sweeps: list[Sweep] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]
