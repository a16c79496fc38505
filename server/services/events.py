"""What the services announce after a commit: the one way a committed change reaches the world.
Realtime delivery (the socket pushes), the session watch and the intake bot subscribe."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from server.domain.conversations import Conversation, Message, Note
from server.domain.escalation import Escalation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConversationStarted:
    conversation: Conversation


@dataclass(frozen=True)
class ConversationChanged:
    """A claim, transfer, close or priority change. ``previous_counsellor_id`` lets a transfer
    tell the counsellor who no longer holds the conversation."""

    conversation: Conversation
    previous_counsellor_id: int | None = None


@dataclass(frozen=True)
class AwayChanged:
    """Which waiting conversations' relatives are away changed (time passed, or a relative came
    back): the queue is pushed again. Every process sweeps and may announce the same change."""

    away: frozenset[str]


@dataclass(frozen=True)
class MessagePosted:
    """A message stored, to announce to the conversation. ``repeat``: a sender sent a stored
    message again (same client_id); it is announced again, since the process that stored it may
    have died before announcing it, but it is not a new message (receivers keep one per seq)."""

    conversation: Conversation
    message: Message
    repeat: bool = False


@dataclass(frozen=True)
class Typing:
    conversation: Conversation
    by_relative: bool


@dataclass(frozen=True)
class ReadMarked:
    conversation: Conversation
    seq: int


@dataclass(frozen=True)
class NoteAdded:
    conversation: Conversation
    note: Note


@dataclass(frozen=True)
class SessionEnded:
    session_hash: str


@dataclass(frozen=True)
class StaffSessionsEnded:
    """Every session of this staff member was ended (second factor reset, ...): their sockets close."""

    user_id: int


@dataclass(frozen=True)
class StaffDisabled(StaffSessionsEnded):
    pass


@dataclass(frozen=True)
class StaffOtherSessionsEnded:
    """Every session of this staff member but ``kept_session_hash`` was ended (they changed their
    password): the sockets of the others close."""

    user_id: int
    kept_session_hash: str


@dataclass(frozen=True)
class RelativeAccessEnded:
    """The relative left: their open sockets are disconnected, in every process."""

    conversation_id: str


@dataclass(frozen=True)
class AppointmentsChanged:
    """Appointments were booked, changed or had a text settle; consoles show them without a reload."""

    appointment_ids: tuple[str, ...]


@dataclass(frozen=True)
class EscalationChanged:
    """Consoles that may read this escalation are told to fetch it again."""

    escalation: Escalation


@dataclass(frozen=True)
class EscalationAlert:
    """The roles that oversee every escalation are alerted (deadline missed, imminent danger)."""

    escalation: Escalation
    reason: str


@dataclass(frozen=True)
class RetentionPurged:
    """Retention deleted ``count`` of ``what`` ("conversations", "phone_numbers", "escalations");
    counts only, for the metrics."""

    what: str
    count: int


Event = (
    ConversationStarted
    | ConversationChanged
    | AwayChanged
    | MessagePosted
    | Typing
    | ReadMarked
    | NoteAdded
    | SessionEnded
    | StaffSessionsEnded
    | StaffDisabled
    | StaffOtherSessionsEnded
    | RelativeAccessEnded
    | AppointmentsChanged
    | EscalationChanged
    | EscalationAlert
    | RetentionPurged
)
Subscriber = Callable[[Event], Awaitable[None]]


class EventBus:
    """In-process fan-out. A failing subscriber is logged and never undoes the committed change."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    async def publish(self, event: Event) -> None:
        for subscriber in self._subscribers:
            try:
                await subscriber(event)
            except Exception:
                log.exception("subscriber failed on %s", type(event).__name__)
