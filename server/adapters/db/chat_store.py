"""Conversations, messages, notes and tokens in SQL. Text is encrypted before it reaches a row."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.crypto import FieldCipher
from server.adapters.db import cards
from server.adapters.db import chat_statements as statements
from server.adapters.db.queue_order import order_by, served_before
from server.adapters.db.tables import (
    conversations,
    messages,
    notes,
    relative_tokens,
    staff_users,
)
from server.domain.conversations import Conversation, LanguageChoice, Message, Note, Sender, State
from server.domain.errors import NotFound
from server.domain.knowledge import ResourceCard
from server.services.ports.chat import Appended, AppendRequest, NewConversation, PurgedChats, RelativeView

# Messages that show a conversation is alive; the bot's waiting updates do not.
HUMAN_SENDERS = (Sender.RELATIVE.value, Sender.COUNSELLOR.value)


def conversation_from_row(row: Any) -> Conversation:
    return Conversation(
        id=row.id,
        language=row.language,
        topic=row.topic,
        state=State(row.state),
        created_at=row.created_at,
        priority=row.priority,
        priority_reason=row.priority_reason,
        counsellor_id=row.counsellor_id,
        claimed_at=row.claimed_at,
        closed_at=row.closed_at,
        outcome=row.outcome,
        last_seq=row.last_seq,
        counsellor_read_seq=row.counsellor_read_seq,
        relative_gone_since=row.relative_gone_since,
        language_choice=LanguageChoice(row.language_choice) if row.language_choice else None,
        colleague_id=row.colleague_id,
    )


class ChatStore:
    def __init__(self, connection: AsyncConnection, cipher: FieldCipher) -> None:
        self.connection = connection
        self.cipher = cipher

    async def insert_conversation(self, conversation: Conversation, resume_hash: str) -> None:
        await self.connection.execute(
            statements.INSERT_CONVERSATION,
            {
                "id": conversation.id,
                "language": conversation.language,
                "topic": conversation.topic,
                "state": conversation.state.value,
                "priority": conversation.priority,
                "created_at": conversation.created_at,
                "resume_hash": resume_hash,
                "relative_gone_since": conversation.relative_gone_since,
            },
        )

    async def start(self, new: NewConversation) -> None:
        """The conversation, its first token and the bot's opening messages, in one transaction."""
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
        """1 + how many waiting conversations are served before this one (domain QUEUE_ORDER)."""
        ahead = (
            await self.connection.execute(
                select(func.count())
                .select_from(conversations)
                .where(
                    conversations.c.state == State.WAITING.value, served_before(conversations, conversation)
                )
            )
        ).scalar_one()
        return int(ahead) + 1

    async def get(self, conversation_id: str) -> Conversation | None:
        row = (
            await self.connection.execute(statements.CONVERSATION, {"conversation_id": conversation_id})
        ).first()
        return conversation_from_row(row) if row else None

    async def save_state(self, before: Conversation, after: Conversation) -> bool:
        """Write a transition only if the row still matches ``before`` (state and holder).
        Returns False when another writer got there first, which is how one claim wins."""
        result = await self.connection.execute(
            update(conversations)
            .where(
                and_(
                    conversations.c.id == before.id,
                    conversations.c.state == before.state.value,
                    conversations.c.counsellor_id.is_(None)
                    if before.counsellor_id is None
                    else conversations.c.counsellor_id == before.counsellor_id,
                    conversations.c.colleague_id.is_(None)
                    if before.colleague_id is None
                    else conversations.c.colleague_id == before.colleague_id,
                )
            )
            .values(
                state=after.state.value,
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
        return result.rowcount == 1

    async def end_relative_access(self, conversation_id: str, unusable_resume_hash: str) -> None:
        """Every token of the conversation goes, and the resume code stops matching."""
        await self.connection.execute(
            delete(relative_tokens).where(relative_tokens.c.conversation_id == conversation_id)
        )
        await self.connection.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(resume_hash=unusable_resume_hash)
        )

    async def mark_present(self, conversation_ids: Collection[str], chunk: int = 500) -> None:
        ids = list(conversation_ids)
        c = conversations.c
        for start in range(0, len(ids), chunk):
            await self.connection.execute(
                update(conversations)
                .where(c.id.in_(ids[start : start + chunk]), c.relative_gone_since.is_not(None))
                .values(relative_gone_since=None)
            )

    async def mark_gone(self, gone_since: Mapping[str, datetime]) -> None:
        """Each open conversation not already marked gone is gone since its time."""
        c = conversations.c
        for conversation_id, since in gone_since.items():
            await self.connection.execute(
                update(conversations)
                .where(
                    c.id == conversation_id,
                    c.state != State.CLOSED.value,
                    c.relative_gone_since.is_(None),
                )
                .values(relative_gone_since=since)
            )

    async def gone_waiting(self, gone_before: datetime) -> list[Conversation]:
        c = conversations.c
        rows = (
            await self.connection.execute(
                select(conversations).where(
                    c.state == State.WAITING.value, c.relative_gone_since <= gone_before
                )
            )
        ).all()
        return [conversation_from_row(row) for row in rows]

    async def close_abandoned(
        self, before: Conversation, closed: Conversation, gone_before: datetime
    ) -> bool:
        """Close only if it still waits and its relative is still gone since before the cutoff."""
        c = conversations.c
        result = await self.connection.execute(
            update(conversations)
            .where(
                c.id == before.id,
                c.state == State.WAITING.value,
                c.relative_gone_since <= gone_before,
            )
            .values(state=closed.state.value, closed_at=closed.closed_at, outcome=closed.outcome)
        )
        return result.rowcount == 1

    async def inactive_open(self, cutoff: datetime) -> list[Conversation]:
        """Open conversations that have not moved since ``cutoff``: started and claimed (if ever)
        by then, and no message of the relative or a counsellor after it
        (domain.conversations.is_inactive, in SQL)."""
        c, m = conversations.c, messages.c
        recent_message = exists().where(
            m.conversation_id == c.id, m.sender.in_(HUMAN_SENDERS), m.sent_at > cutoff
        )
        rows = await self.connection.execute(
            select(conversations).where(
                c.state != State.CLOSED.value,
                c.created_at <= cutoff,
                or_(c.claimed_at.is_(None), c.claimed_at <= cutoff),
                ~recent_message,
            )
        )
        return [conversation_from_row(row) for row in rows]

    async def close_inactive(self, before: Conversation, closed: Conversation) -> bool:
        """Close only if nothing happened since ``before`` was read: same state, same holder and no
        new message (``last_seq``), so a message or a claim that wins the race keeps it open."""
        c = conversations.c
        result = await self.connection.execute(
            update(conversations)
            .where(
                c.id == before.id,
                c.state == before.state.value,
                c.counsellor_id.is_(None)
                if before.counsellor_id is None
                else c.counsellor_id == before.counsellor_id,
                c.last_seq == before.last_seq,
            )
            .values(state=closed.state.value, closed_at=closed.closed_at, outcome=closed.outcome)
        )
        return result.rowcount == 1

    async def waiting_among(self, conversation_ids: Collection[str]) -> set[str]:
        if not conversation_ids:
            return set()
        rows = await self.connection.execute(
            select(conversations.c.id).where(
                conversations.c.id.in_(list(conversation_ids)), conversations.c.state == State.WAITING.value
            )
        )
        return {row.id for row in rows}

    async def find_by_resume_hash(self, resume_hash: str) -> Conversation | None:
        row = (
            await self.connection.execute(
                select(conversations).where(conversations.c.resume_hash == resume_hash)
            )
        ).first()
        return conversation_from_row(row) if row else None

    async def add_token(
        self, token_hash: str, conversation_id: str, now: datetime, expires_at: datetime
    ) -> None:
        await self.connection.execute(
            statements.INSERT_TOKEN,
            {
                "token_hash": token_hash,
                "conversation_id": conversation_id,
                "created_at": now,
                "expires_at": expires_at,
            },
        )

    async def conversation_for_token(self, token_hash: str, now: datetime) -> Conversation | None:
        row = (
            await self.connection.execute(
                statements.CONVERSATION_FOR_TOKEN, {"token_hash": token_hash, "now": now}
            )
        ).first()
        return conversation_from_row(row) if row else None

    async def message_by_client_id(self, conversation_id: str, client_id: str) -> Message | None:
        row = (
            await self.connection.execute(
                statements.MESSAGE_BY_CLIENT_ID, {"conversation_id": conversation_id, "client_id": client_id}
            )
        ).first()
        return self._message(row) if row else None

    async def append(self, request: AppendRequest) -> Appended | None:
        """Idempotent append; None when the same client_id won a race in another transaction."""
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
            request.card,
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
        card: ResourceCard | None = None,
    ) -> Message | None:
        """Take the next seq with one conditional UPDATE (a row lock on PostgreSQL) and insert.
        Returns None when the same client_id won a race in another transaction; the savepoint then
        also undoes the seq it took, so seqs stay gap-free."""
        if self.connection.dialect.name == "sqlite":
            # One writer connection: no other transaction can hold this client_id.
            seq, message_id = await self._insert_next(
                conversation_id, client_id, sender, text, now, author_id, card
            )
        else:
            try:
                async with self.connection.begin_nested():
                    seq, message_id = await self._insert_next(
                        conversation_id, client_id, sender, text, now, author_id, card
                    )
            except IntegrityError:
                return None
        return Message(message_id, conversation_id, seq, sender, text, now, client_id, card)

    async def _insert_next(
        self,
        conversation_id: str,
        client_id: str,
        sender: Sender,
        text: str,
        now: datetime,
        author_id: int | None,
        card: ResourceCard | None = None,
    ) -> tuple[int, int]:
        seq = (
            await self.connection.execute(statements.NEXT_SEQ, {"conversation_id": conversation_id})
        ).scalar_one()
        message_id = (
            await self.connection.execute(
                statements.INSERT_MESSAGE,
                {
                    "conversation_id": conversation_id,
                    "seq": seq,
                    "client_id": client_id,
                    "sender": sender.value,
                    "author_id": author_id,
                    "body": self.cipher.encrypt(text),
                    "sent_at": now,
                    "card": cards.encode(self.cipher, card),
                },
            )
        ).scalar_one()
        return int(seq), int(message_id)

    async def messages_after(
        self, conversation_id: str, after_seq: int, limit: int | None = None
    ) -> list[Message]:
        query = statements.MESSAGES_AFTER if limit is None else statements.MESSAGES_AFTER.limit(limit)
        rows = (
            await self.connection.execute(query, {"conversation_id": conversation_id, "after_seq": after_seq})
        ).all()
        return [self._message(row) for row in rows]

    def _message(self, row: Any) -> Message:
        return Message(
            id=row.id,
            conversation_id=row.conversation_id,
            seq=row.seq,
            sender=Sender(row.sender),
            text=self.cipher.decrypt(row.body),
            sent_at=row.sent_at,
            client_id=row.client_id,
            card=cards.decode(self.cipher, row.card),
        )

    async def waiting(self) -> list[Conversation]:
        rows = (
            await self.connection.execute(
                select(conversations)
                .where(conversations.c.state == State.WAITING.value)
                .order_by(*order_by(conversations))
            )
        ).all()
        return [conversation_from_row(row) for row in rows]

    async def held_by(self, counsellor_id: int) -> list[tuple[Conversation, int]]:
        """Active conversations a counsellor holds or has joined, each with its count of unread
        relative messages."""
        unread = (
            select(func.count())
            .select_from(messages)
            .where(
                messages.c.conversation_id == conversations.c.id,
                messages.c.seq > conversations.c.counsellor_read_seq,
                messages.c.sender == Sender.RELATIVE.value,
            )
            .scalar_subquery()
        )
        rows = (
            await self.connection.execute(
                select(conversations, unread.label("unread"))
                .where(
                    or_(
                        conversations.c.counsellor_id == counsellor_id,
                        conversations.c.colleague_id == counsellor_id,
                    ),
                    conversations.c.state == State.ACTIVE.value,
                )
                .order_by(conversations.c.claimed_at)
            )
        ).all()
        return [(conversation_from_row(row), row.unread) for row in rows]

    async def live(self) -> list[tuple[Conversation, datetime | None]]:
        last_message_at = (
            select(messages.c.sent_at)
            .where(messages.c.conversation_id == conversations.c.id)
            .order_by(messages.c.seq.desc())
            .limit(1)
            .scalar_subquery()
        )
        rows = (
            await self.connection.execute(
                select(conversations, last_message_at.label("last_message_at"))
                .where(conversations.c.state.in_((State.WAITING.value, State.ACTIVE.value)))
                .order_by(conversations.c.created_at)
            )
        ).all()
        return [(conversation_from_row(row), row.last_message_at) for row in rows]

    async def count_held(self, counsellor_id: int) -> int:
        return int(
            (
                await self.connection.execute(
                    select(func.count())
                    .select_from(conversations)
                    .where(
                        conversations.c.counsellor_id == counsellor_id,
                        conversations.c.state == State.ACTIVE.value,
                    )
                )
            ).scalar_one()
        )

    async def load_by_counsellor(self) -> dict[int, int]:
        rows = (
            await self.connection.execute(
                select(conversations.c.counsellor_id, func.count())
                .where(conversations.c.state == State.ACTIVE.value)
                .group_by(conversations.c.counsellor_id)
            )
        ).all()
        return {row[0]: row[1] for row in rows}

    async def closed(self, limit: int) -> list[Conversation]:
        rows = (
            await self.connection.execute(
                select(conversations)
                .where(conversations.c.state == State.CLOSED.value)
                .order_by(conversations.c.closed_at.desc())
                .limit(limit)
            )
        ).all()
        return [conversation_from_row(row) for row in rows]

    async def recent_waits(self, limit: int = 20) -> list[float]:
        rows = (
            await self.connection.execute(
                select(conversations.c.created_at, conversations.c.claimed_at)
                .where(conversations.c.claimed_at.is_not(None))
                .order_by(conversations.c.claimed_at.desc())
                .limit(limit)
            )
        ).all()
        return [(row.claimed_at - row.created_at).total_seconds() for row in rows]

    async def mark_read(self, conversation_id: str, seq: int) -> int:
        """Raise the counsellor's read mark (never lower it); returns the mark now stored."""
        await self.connection.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id, conversations.c.counsellor_read_seq < seq)
            .values(
                counsellor_read_seq=func.min(seq, conversations.c.last_seq)
                if self.connection.dialect.name == "sqlite"
                else func.least(seq, conversations.c.last_seq)
            )
        )
        return int(
            (
                await self.connection.execute(
                    select(conversations.c.counsellor_read_seq).where(conversations.c.id == conversation_id)
                )
            ).scalar_one()
        )

    async def waiting_needing_update(self, before: datetime) -> list[Conversation]:
        rows = (
            await self.connection.execute(
                select(conversations).where(
                    conversations.c.state == State.WAITING.value,
                    func.coalesce(conversations.c.last_bot_update_at, conversations.c.created_at) < before,
                )
            )
        ).all()
        return [conversation_from_row(row) for row in rows]

    async def claim_bot_update(self, conversation_id: str, before: datetime, now: datetime) -> bool:
        result = await self.connection.execute(
            update(conversations)
            .where(
                conversations.c.id == conversation_id,
                func.coalesce(conversations.c.last_bot_update_at, conversations.c.created_at) < before,
            )
            .values(last_bot_update_at=now)
        )
        return result.rowcount == 1

    async def add_note(self, conversation_id: str, author_id: int, text: str, now: datetime) -> int:
        return int(
            (
                await self.connection.execute(
                    insert(notes)
                    .values(
                        conversation_id=conversation_id,
                        author_id=author_id,
                        body=self.cipher.encrypt(text),
                        created_at=now,
                    )
                    .returning(notes.c.id)
                )
            ).scalar_one()
        )

    async def notes_for(self, conversation_id: str) -> list[Note]:
        rows = (
            await self.connection.execute(
                select(notes, staff_users.c.display_name)
                .join(staff_users, staff_users.c.id == notes.c.author_id)
                .where(notes.c.conversation_id == conversation_id)
                .order_by(notes.c.id)
            )
        ).all()
        return [
            Note(row.id, row.conversation_id, row.display_name, self.cipher.decrypt(row.body), row.created_at)
            for row in rows
        ]

    async def delete_closed_before(self, cutoff: datetime) -> PurgedChats:
        """Closed conversations past ``cutoff``, with their messages, notes and tokens (by
        cascade); returns what went, counted before the delete."""
        due = select(conversations.c.id).where(
            conversations.c.state == State.CLOSED.value, conversations.c.closed_at < cutoff
        )
        ids = (await self.connection.execute(due)).scalars().all()
        if not ids:
            return PurgedChats()
        message_count = await self._count(messages, messages.c.conversation_id.in_(ids))
        note_count = await self._count(notes, notes.c.conversation_id.in_(ids))
        await self.connection.execute(delete(conversations).where(conversations.c.id.in_(ids)))
        return PurgedChats(tuple(ids), message_count, note_count)

    async def _count(self, table: Any, condition: Any) -> int:
        return int(
            (
                await self.connection.execute(select(func.count()).select_from(table).where(condition))
            ).scalar_one()
        )

    async def delete_expired_tokens(self, now: datetime) -> int:
        result = await self.connection.execute(
            delete(relative_tokens).where(relative_tokens.c.expires_at <= now)
        )
        return result.rowcount
