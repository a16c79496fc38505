"""A fake of ChatStore (server/adapters/db/chat_store.py) over ``Tables``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime

from server.domain.conversations import (
    Conversation,
    Message,
    Note,
    Sender,
    State,
    is_inactive,
    queue_order_key,
)
from server.domain.errors import NotFound
from server.services.ports.chat import Appended, AppendRequest, NewConversation, PurgedChats, RelativeView
from tests.fakes.tables import (
    ConversationRow,
    MessageRow,
    NoteRow,
    Tables,
    TokenRow,
    UniqueViolation,
)


def served_order(conversation: Conversation) -> tuple[int, datetime, str]:
    """The domain's queue order with the id breaking ties, as ``ChatStore.waiting`` serves."""
    return (*queue_order_key(conversation), conversation.id)


class FakeChatRepository:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def _all(self) -> list[Conversation]:
        return [row.conversation for row in self.tables.conversations.values()]

    def _set(self, conversation: Conversation) -> None:
        row = self.tables.conversations[conversation.id]
        self.tables.conversations[conversation.id] = replace(row, conversation=conversation)

    async def insert_conversation(self, conversation: Conversation, resume_hash: str) -> None:
        if conversation.id in self.tables.conversations or any(
            row.resume_hash == resume_hash for row in self.tables.conversations.values()
        ):
            raise UniqueViolation("conversations")
        stored = replace(conversation, last_seq=0, counsellor_read_seq=0)
        self.tables.conversations[conversation.id] = ConversationRow(stored, resume_hash)
        self.tables.messages[conversation.id] = []

    async def start(self, new: NewConversation) -> None:
        conversation = new.conversation
        await self.insert_conversation(conversation, new.resume_hash)
        await self.add_token(new.token_hash, conversation.id, conversation.created_at, new.token_expires_at)
        for client_id, text in new.opening_messages():
            await self.append_message(conversation.id, client_id, Sender.BOT, text, conversation.created_at)

    async def relative_view(self, token_hash: str, now: datetime, after_seq: int) -> RelativeView | None:
        conversation = await self.conversation_for_token(token_hash, now)
        if conversation is None:
            return None
        position = await self.queue_position(conversation) if conversation.state is State.WAITING else None
        return RelativeView(conversation, position, await self.messages_after(conversation.id, after_seq))

    async def queue_position(self, conversation: Conversation) -> int:
        mine = served_order(conversation)
        return 1 + sum(1 for c in self._all() if c.state is State.WAITING and served_order(c) < mine)

    async def get(self, conversation_id: str) -> Conversation | None:
        row = self.tables.conversations.get(conversation_id)
        return row.conversation if row else None

    async def save_state(self, before: Conversation, after: Conversation) -> bool:
        current = await self.get(before.id)
        if (
            current is None
            or current.state is not before.state
            or current.counsellor_id != before.counsellor_id
            or current.colleague_id != before.colleague_id
        ):
            return False
        self._set(
            replace(
                current,
                state=after.state,
                counsellor_id=after.counsellor_id,
                claimed_at=after.claimed_at,
                closed_at=after.closed_at,
                outcome=after.outcome,
                priority=after.priority,
                priority_reason=after.priority_reason,
                language_choice=after.language_choice,
                colleague_id=after.colleague_id,
            )
        )
        return True

    async def end_relative_access(self, conversation_id: str, unusable_resume_hash: str) -> None:
        for token_hash, token in list(self.tables.tokens.items()):
            if token.conversation_id == conversation_id:
                del self.tables.tokens[token_hash]
        row = self.tables.conversations.get(conversation_id)
        if row is not None:
            self.tables.conversations[conversation_id] = replace(row, resume_hash=unusable_resume_hash)

    async def mark_present(self, conversation_ids: Collection[str], chunk: int = 500) -> None:
        for conversation_id in conversation_ids:
            conversation = await self.get(conversation_id)
            if conversation is not None and conversation.relative_gone_since is not None:
                self._set(replace(conversation, relative_gone_since=None))

    async def mark_gone(self, gone_since: Mapping[str, datetime]) -> None:
        for conversation_id, since in gone_since.items():
            conversation = await self.get(conversation_id)
            if (
                conversation is not None
                and conversation.state is not State.CLOSED
                and conversation.relative_gone_since is None
            ):
                self._set(replace(conversation, relative_gone_since=since))

    async def gone_waiting(self, gone_before: datetime) -> list[Conversation]:
        return [c for c in self._all() if c.state is State.WAITING and _gone_by(c, gone_before)]

    async def close_abandoned(
        self, before: Conversation, closed: Conversation, gone_before: datetime
    ) -> bool:
        current = await self.get(before.id)
        if current is None or current.state is not State.WAITING or not _gone_by(current, gone_before):
            return False
        self._set(replace(current, state=closed.state, closed_at=closed.closed_at, outcome=closed.outcome))
        return True

    async def waiting_among(self, conversation_ids: Collection[str]) -> set[str]:
        wanted = set(conversation_ids)
        return {c.id for c in self._all() if c.id in wanted and c.state is State.WAITING}

    async def find_by_resume_hash(self, resume_hash: str) -> Conversation | None:
        for row in self.tables.conversations.values():
            if row.resume_hash == resume_hash:
                return row.conversation
        return None

    async def add_token(
        self, token_hash: str, conversation_id: str, now: datetime, expires_at: datetime
    ) -> None:
        if token_hash in self.tables.tokens:
            raise UniqueViolation("relative_tokens")
        if conversation_id not in self.tables.conversations:
            raise NotFound("foreign key: no such conversation")
        self.tables.tokens[token_hash] = TokenRow(conversation_id, now, expires_at)

    async def conversation_for_token(self, token_hash: str, now: datetime) -> Conversation | None:
        token = self.tables.tokens.get(token_hash)
        if token is None or token.expires_at <= now:
            return None
        return await self.get(token.conversation_id)

    async def message_by_client_id(self, conversation_id: str, client_id: str) -> Message | None:
        for row in self.tables.messages.get(conversation_id, []):
            if row.message.client_id == client_id:
                return row.message
        return None

    async def append(self, request: AppendRequest) -> Appended | None:
        existing = await self.message_by_client_id(request.conversation_id, request.client_id)
        if existing is not None:
            return None, existing
        conversation = await self.get(request.conversation_id)
        if conversation is None:
            raise NotFound("no such conversation")
        request.check(conversation)
        message = await self.append_message(
            request.conversation_id,
            request.client_id,
            request.sender,
            request.text,
            request.now,
            request.author_id,
        )
        return None if message is None else (conversation, message)

    async def append_message(
        self,
        conversation_id: str,
        client_id: str,
        sender: Sender,
        text: str,
        now: datetime,
        author_id: int | None = None,
    ) -> Message | None:
        """The next seq of the conversation; None (nothing written) when the client_id is taken,
        as UNIQUE(conversation_id, client_id) makes the real store answer."""
        if await self.message_by_client_id(conversation_id, client_id) is not None:
            return None
        conversation = await self.get(conversation_id)
        if conversation is None:
            raise NotFound("foreign key: no such conversation")
        seq = conversation.last_seq + 1
        self._set(replace(conversation, last_seq=seq))
        message = Message(self.tables.next_id("messages"), conversation_id, seq, sender, text, now, client_id)
        self.tables.messages[conversation_id].append(MessageRow(message, author_id))
        return message

    async def messages_after(
        self, conversation_id: str, after_seq: int, limit: int | None = None
    ) -> list[Message]:
        found = [
            row.message
            for row in self.tables.messages.get(conversation_id, [])
            if row.message.seq > after_seq
        ]
        found.sort(key=lambda message: message.seq)
        return found if limit is None else found[:limit]

    async def waiting(self) -> list[Conversation]:
        return sorted((c for c in self._all() if c.state is State.WAITING), key=served_order)

    async def held_by(self, counsellor_id: int) -> list[tuple[Conversation, int]]:
        held = sorted(
            (c for c in self._all() if counsellor_id in c.staff_ids() and c.state is State.ACTIVE),
            key=lambda c: (c.claimed_at is not None, c.claimed_at),
        )
        return [(c, self._unread(c)) for c in held]

    def _unread(self, conversation: Conversation) -> int:
        return sum(
            1
            for row in self.tables.messages.get(conversation.id, [])
            if row.message.seq > conversation.counsellor_read_seq and row.message.sender is Sender.RELATIVE
        )

    async def live(self) -> list[tuple[Conversation, datetime | None]]:
        open_states = (State.WAITING, State.ACTIVE)
        found = sorted((c for c in self._all() if c.state in open_states), key=lambda c: c.created_at)
        return [(c, self._last_message_at(c)) for c in found]

    def _last_message_at(self, conversation: Conversation) -> datetime | None:
        rows = self.tables.messages.get(conversation.id, [])
        return max((row.message.sent_at for row in rows), default=None)

    async def count_held(self, counsellor_id: int) -> int:
        return sum(1 for c in self._all() if c.counsellor_id == counsellor_id and c.state is State.ACTIVE)

    async def load_by_counsellor(self) -> dict[int, int]:
        loads: dict[int, int] = {}
        for c in self._all():
            if c.state is State.ACTIVE and c.counsellor_id is not None:
                loads[c.counsellor_id] = loads.get(c.counsellor_id, 0) + 1
        return loads

    async def closed(self, limit: int) -> list[Conversation]:
        closed = [c for c in self._all() if c.state is State.CLOSED]
        closed.sort(key=lambda c: c.closed_at or c.created_at, reverse=True)
        return closed[:limit]

    async def recent_waits(self, limit: int = 20) -> list[float]:
        claimed = [c for c in self._all() if c.claimed_at is not None]
        claimed.sort(key=lambda c: c.claimed_at or c.created_at, reverse=True)
        return [((c.claimed_at or c.created_at) - c.created_at).total_seconds() for c in claimed[:limit]]

    async def mark_read(self, conversation_id: str, seq: int) -> int:
        conversation = await self.get(conversation_id)
        if conversation is None:
            raise NotFound("no row")
        if conversation.counsellor_read_seq < seq:
            conversation = replace(conversation, counsellor_read_seq=min(seq, conversation.last_seq))
            self._set(conversation)
        return conversation.counsellor_read_seq

    def _last_bot_update(self, conversation_id: str) -> datetime:
        row = self.tables.conversations[conversation_id]
        return row.last_bot_update_at or row.conversation.created_at

    async def waiting_needing_update(self, before: datetime) -> list[Conversation]:
        return [c for c in self._all() if c.state is State.WAITING and self._last_bot_update(c.id) < before]

    async def claim_bot_update(self, conversation_id: str, before: datetime, now: datetime) -> bool:
        if (
            conversation_id not in self.tables.conversations
            or self._last_bot_update(conversation_id) >= before
        ):
            return False
        row = self.tables.conversations[conversation_id]
        self.tables.conversations[conversation_id] = replace(row, last_bot_update_at=now)
        return True

    async def add_note(self, conversation_id: str, author_id: int, text: str, now: datetime) -> int:
        if conversation_id not in self.tables.conversations or author_id not in self.tables.staff:
            raise NotFound("foreign key: no such conversation or author")
        note_id = self.tables.next_id("notes")
        self.tables.notes.append(NoteRow(note_id, conversation_id, author_id, text, now))
        return note_id

    async def notes_for(self, conversation_id: str) -> list[Note]:
        return [
            Note(
                row.id,
                row.conversation_id,
                self.tables.staff[row.author_id].user.display_name,
                row.text,
                row.created_at,
            )
            for row in sorted(self.tables.notes, key=lambda note: note.id)
            if row.conversation_id == conversation_id
        ]

    async def inactive_open(self, cutoff: datetime) -> list[Conversation]:
        return [c for c in self._all() if is_inactive(c, self._last_human_message_at(c.id), cutoff)]

    def _last_human_message_at(self, conversation_id: str) -> datetime | None:
        times = [
            row.message.sent_at
            for row in self.tables.messages.get(conversation_id, [])
            if row.message.sender in (Sender.RELATIVE, Sender.COUNSELLOR)
        ]
        return max(times, default=None)

    async def close_inactive(self, before: Conversation, closed: Conversation) -> bool:
        current = await self.get(before.id)
        if current is None or (current.state, current.counsellor_id, current.last_seq) != (
            before.state,
            before.counsellor_id,
            before.last_seq,
        ):
            return False
        self._set(replace(current, state=closed.state, closed_at=closed.closed_at, outcome=closed.outcome))
        return True

    async def delete_closed_before(self, cutoff: datetime) -> PurgedChats:
        ids = [
            c.id
            for c in self._all()
            if c.state is State.CLOSED and c.closed_at is not None and c.closed_at < cutoff
        ]
        message_count = sum(len(self.tables.messages.get(i, [])) for i in ids)
        note_count = sum(1 for note in self.tables.notes if note.conversation_id in ids)
        for conversation_id in ids:
            delete_conversation(self.tables, conversation_id)
        return PurgedChats(tuple(ids), message_count, note_count)

    async def delete_expired_tokens(self, now: datetime) -> int:
        expired = [token_hash for token_hash, token in self.tables.tokens.items() if token.expires_at <= now]
        for token_hash in expired:
            del self.tables.tokens[token_hash]
        return len(expired)


def _gone_by(conversation: Conversation, gone_before: datetime) -> bool:
    gone = conversation.relative_gone_since
    return gone is not None and gone <= gone_before


def delete_conversation(tables: Tables, conversation_id: str) -> None:
    """ON DELETE CASCADE: its tokens, messages, notes and slot offers go with it; ON DELETE SET
    NULL: its escalations and appointments stay, without it."""
    tables.offers[:] = [offer for offer in tables.offers if offer.conversation_id != conversation_id]
    for appointment_id, booked in list(tables.appointments.items()):
        if booked.appointment.conversation_id == conversation_id:
            tables.appointments[appointment_id] = replace(
                booked, appointment=replace(booked.appointment, conversation_id=None)
            )
    del tables.conversations[conversation_id]
    for escalation_id, row in list(tables.escalations.items()):
        if row.escalation.conversation_id == conversation_id:
            tables.escalations[escalation_id] = replace(
                row, escalation=replace(row.escalation, conversation_id=None)
            )
    tables.messages.pop(conversation_id, None)
    tables.notes[:] = [note for note in tables.notes if note.conversation_id != conversation_id]
    for token_hash, token in list(tables.tokens.items()):
        if token.conversation_id == conversation_id:
            del tables.tokens[token_hash]
