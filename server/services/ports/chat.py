"""The chat's port: the conversation repository and the values that cross it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from server.domain.conversations import Conversation, Message, Note, Sender
from server.domain.knowledge import ResourceCard

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
    card: ResourceCard | None = None


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


class CounsellorsOnline(Protocol):
    """Who has a console open now, as the language sets those counsellors speak (one per console)."""

    def language_sets(self) -> list[frozenset[str]]: ...

    def user_ids(self) -> set[int]: ...


class NobodyOnline:
    def language_sets(self) -> list[frozenset[str]]:
        return []

    def user_ids(self) -> set[int]:
        return set()


@dataclass(frozen=True)
class PurgedChats:
    """What one retention purge deleted: the conversations and, with them, how many messages and
    notes (counts only)."""

    conversation_ids: tuple[str, ...] = ()
    messages: int = 0
    notes: int = 0


# (conversation as it was, stored message); the conversation is None when the client_id had been
# stored before, so nothing new happened.
Appended = tuple[Conversation | None, Message]


class ChatRepository(Protocol):
    async def insert_conversation(self, conversation: Conversation, resume_hash: str) -> None: ...

    async def start(self, new: NewConversation) -> None:
        """The conversation, its first token and the bot's opening messages, in one transaction."""
        ...

    async def relative_view(self, token_hash: str, now: datetime, after_seq: int) -> RelativeView | None: ...

    async def queue_position(self, conversation: Conversation) -> int:
        """1 + how many waiting conversations are served before this one: the SQL form of
        domain.conversations.queue_order_key, with the id breaking ties as ``waiting()`` does."""
        ...

    async def get(self, conversation_id: str) -> Conversation | None: ...

    async def save_state(self, before: Conversation, after: Conversation) -> bool:
        """Write a transition only if the row still matches ``before`` (state and holder).
        Returns False when another writer got there first, which is how one claim wins."""
        ...

    async def end_relative_access(self, conversation_id: str, unusable_resume_hash: str) -> None:
        """Every token of the conversation goes, and the resume code stops matching."""
        ...

    async def mark_present(self, conversation_ids: Collection[str], chunk: int = 500) -> None: ...

    async def mark_gone(self, gone_since: Mapping[str, datetime]) -> None:
        """Each open conversation not already marked gone is gone since its time."""
        ...

    async def gone_waiting(self, gone_before: datetime) -> list[Conversation]: ...

    async def close_abandoned(
        self, before: Conversation, closed: Conversation, gone_before: datetime
    ) -> bool:
        """Close only if it still waits and its relative is still gone since before the cutoff."""
        ...

    async def waiting_among(self, conversation_ids: Collection[str]) -> set[str]: ...

    async def find_by_resume_hash(self, resume_hash: str) -> Conversation | None: ...

    async def add_token(
        self, token_hash: str, conversation_id: str, now: datetime, expires_at: datetime
    ) -> None: ...

    async def conversation_for_token(self, token_hash: str, now: datetime) -> Conversation | None: ...

    async def message_by_client_id(self, conversation_id: str, client_id: str) -> Message | None: ...

    async def append(self, request: AppendRequest) -> Appended | None:
        """Idempotent append; None when the same client_id won a race in another transaction."""
        ...

    async def append_message(
        self,
        conversation_id: str,
        client_id: str,
        sender: Sender,
        text: str,
        now: datetime,
        author_id: int | None = None,
        card: ResourceCard | None = None,
    ) -> Message | None:
        """Take the next seq with one conditional UPDATE (a row lock on PostgreSQL) and insert.
        Returns None when the same client_id won a race in another transaction; the savepoint then
        also undoes the seq it took, so seqs stay gap-free."""
        ...

    async def messages_after(
        self, conversation_id: str, after_seq: int, limit: int | None = None
    ) -> list[Message]: ...

    async def waiting(self) -> list[Conversation]: ...

    async def held_by(self, counsellor_id: int) -> list[tuple[Conversation, int]]:
        """Active conversations a counsellor holds or has joined, each with its count of unread
        relative messages."""
        ...

    async def live(self) -> list[tuple[Conversation, datetime | None]]:
        """Every waiting and active conversation with the time of its last message (None: none)."""
        ...

    async def count_held(self, counsellor_id: int) -> int: ...

    async def load_by_counsellor(self) -> dict[int, int]: ...

    async def closed(self, limit: int) -> list[Conversation]: ...

    async def recent_waits(self, limit: int = 20) -> list[float]: ...

    async def mark_read(self, conversation_id: str, seq: int) -> int:
        """Raise the counsellor's read mark (never lower it); returns the mark now stored."""
        ...

    async def waiting_needing_update(self, before: datetime) -> list[Conversation]: ...

    async def claim_bot_update(self, conversation_id: str, before: datetime, now: datetime) -> bool: ...

    async def add_note(self, conversation_id: str, author_id: int, text: str, now: datetime) -> int: ...

    async def notes_for(self, conversation_id: str) -> list[Note]: ...

    async def inactive_open(self, cutoff: datetime) -> list[Conversation]:
        """Open conversations that have not moved since ``cutoff``: started and claimed (if ever)
        by then, and no message of the relative or a counsellor after it."""
        ...

    async def close_inactive(self, before: Conversation, closed: Conversation) -> bool:
        """Close only if nothing happened since ``before`` was read (state, holder, last_seq)."""
        ...

    async def delete_closed_before(self, cutoff: datetime) -> PurgedChats: ...

    async def delete_expired_tokens(self, now: datetime) -> int:
        """Returns how many went."""
        ...
