"""What services need from the outside world, passed in by create_app (or by tests)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from server.domain.conversations import Conversation, Message, Sender

if TYPE_CHECKING:
    from server.adapters.db.chat_store import ChatStore
    from server.adapters.db.staff_store import StaffStore

Clock = Callable[[], datetime]


AppendCheck = Callable[[Conversation], None]


@dataclass(frozen=True)
class AppendRequest:
    """One message to store. ``check`` holds the service's rules for the conversation as it is
    inside the transaction; it raises a DomainError before anything is written."""

    conversation_id: str
    client_id: str
    sender: Sender
    text: str
    now: datetime
    author_id: int | None
    check: AppendCheck


@dataclass(frozen=True)
class NewConversation:
    """A conversation to create with its first token; ``opening_texts`` are stored as the bot's
    first messages in the same transaction, so a relative who connects finds them there."""

    conversation: Conversation
    resume_hash: str
    token_hash: str
    token_expires_at: datetime
    opening_texts: tuple[str, ...] = ()

    def opening_messages(self) -> list[tuple[str, str]]:
        """(client_id, text) of each opening message."""
        return [(f"opening-{number}", text) for number, text in enumerate(self.opening_texts, start=1)]


@dataclass(frozen=True)
class RelativeView:
    """What a relative's connection starts with: the conversation, its place in the queue while
    it waits, and the messages after the seq the client already has."""

    conversation: Conversation
    queue_position: int | None
    messages: list[Message]


# (conversation as it was, stored message); the conversation is None when the client_id had been
# stored before, so nothing new happened.
Appended = tuple[Conversation | None, Message]

Result = TypeVar("Result")


def system_clock() -> datetime:
    return datetime.now(UTC)


class Repositories(Protocol):
    chat: ChatStore
    staff: StaffStore


class UnitOfWork(Protocol):
    """``write()`` is one short transaction that commits on exit; ``read()`` only reads."""

    def write(self) -> AbstractAsyncContextManager[Repositories]: ...

    def read(self) -> AbstractAsyncContextManager[Repositories]: ...

    async def append_message(self, request: AppendRequest) -> Appended | None:
        """Store one message in a transaction shared with concurrent callers (group commit); the
        result arrives after the COMMIT. None when the same client_id won a race elsewhere."""
        ...

    async def start_conversation(self, new: NewConversation) -> None:
        """Create a conversation in a shared transaction (group commit), like append_message."""
        ...

    async def relative_view(self, token_hash: str, now: datetime, after_seq: int) -> RelativeView | None:
        """The view of the conversation a live token opens, read in one transaction; None when the
        token is unknown or expired."""
        ...

    async def waiting(self) -> list[Conversation]:
        """The queue in the order it is served (the same as ``ChatStore.waiting``), read the
        cheapest way the database allows: it is read on every queue push."""
        ...


class SmsOutcome:
    """How a send attempt ended. ``UNKNOWN`` (timeout, 5xx) must be reconciled, never resent blindly.
    ``THROTTLED`` (429) was never processed and is safe to send again after a while; ``OPTED_OUT``
    is a refusal because the recipient unsubscribed (Twilio 21610)."""

    ACCEPTED = "accepted"
    FAILED = "failed"
    UNKNOWN = "unknown"
    THROTTLED = "throttled"
    OPTED_OUT = "opted_out"


class SmsReceipt(Protocol):
    @property
    def outcome(self) -> str: ...

    @property
    def provider_id(self) -> str | None: ...

    @property
    def error(self) -> str | None: ...


class SmsSender(Protocol):
    """Sends one text to an E.164 number. Implemented by the Twilio and outbox adapters."""

    async def send(self, to_e164: str, body: str) -> SmsReceipt: ...
