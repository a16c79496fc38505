"""The unit of work: every repository inside one short transaction, and the chat's hot paths."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from server.domain.conversations import Conversation
from server.services.ports.booking import BookingRepository
from server.services.ports.chat import Appended, AppendRequest, ChatRepository, NewConversation, RelativeView
from server.services.ports.escalation import EscalationRepository
from server.services.ports.knowledge import KnowledgeRepository
from server.services.ports.records import RecordRepository
from server.services.ports.retention import RetentionRepository
from server.services.ports.staff import StaffRepository
from server.services.ports.texts import OutboxRepository


class Repositories(Protocol):
    """The repositories of one transaction. Read-only properties, so an implementation may
    narrow each one to its own class."""

    @property
    def chat(self) -> ChatRepository: ...

    @property
    def staff(self) -> StaffRepository: ...

    @property
    def booking(self) -> BookingRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def escalations(self) -> EscalationRepository: ...

    @property
    def records(self) -> RecordRepository: ...

    @property
    def retention(self) -> RetentionRepository: ...

    @property
    def knowledge(self) -> KnowledgeRepository: ...


class Transactions(Protocol):
    """``write()`` is one short transaction that commits on exit; ``read()`` only reads."""

    def write(self) -> AbstractAsyncContextManager[Repositories]: ...

    def read(self) -> AbstractAsyncContextManager[Repositories]: ...


class UnitOfWork(Transactions, Protocol):
    """Transactions plus the chat's hot paths, which the database may run a cheaper way."""

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
