"""The chat's hot paths on SQLite, as plain sqlite3 on a raw connection.

Through SQLAlchemy's async layer every statement is a round trip between the event loop and the
database thread; on a 2-core machine those hops, not SQLite, were the cost of a message. The
writes here (``append``, ``start``) run on the writer's own sqlite3 connection in its own thread
(``Database.run_on_writer``), a whole commit group in one hop; the reads (``relative_view``,
``waiting``) run on the event loop itself (``Database.quick_read``). They are the SQLite twins of
the ChatStore methods of the same names (used on PostgreSQL) and run the same statements
(``chat_statements``, compiled once to SQLite's SQL) with the same rules; the integration tests run
both against the same expectations."""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from server.adapters.crypto import FieldCipher
from server.adapters.db import cards
from server.adapters.db import chat_statements as statements
from server.adapters.db.chat_statements import sqlite_text
from server.adapters.db.chat_store import conversation_from_row
from server.adapters.db.queue_order import RAW_ORDER_BY, RAW_SERVED_BEFORE, raw_served_before
from server.adapters.db.tables import parse_utc, sqlite_utc_text
from server.domain.conversations import Conversation, Message, Sender, State
from server.domain.errors import NotFound
from server.domain.knowledge import ResourceCard
from server.services.ports.chat import Appended, AppendRequest, NewConversation, RelativeView

NEXT_SEQ = sqlite_text(statements.NEXT_SEQ, "conversation_id")
INSERT_MESSAGE = sqlite_text(
    statements.INSERT_MESSAGE,
    "conversation_id",
    "seq",
    "client_id",
    "sender",
    "author_id",
    "body",
    "sent_at",
    "card",
)
MESSAGE_BY_CLIENT_ID = sqlite_text(statements.MESSAGE_BY_CLIENT_ID, "conversation_id", "client_id")
CONVERSATION = sqlite_text(statements.CONVERSATION, "conversation_id")
INSERT_CONVERSATION = sqlite_text(
    statements.INSERT_CONVERSATION,
    "id",
    "language",
    "topic",
    "state",
    "priority",
    "created_at",
    "resume_hash",
    "relative_gone_since",
)
INSERT_TOKEN = sqlite_text(
    statements.INSERT_TOKEN, "token_hash", "conversation_id", "created_at", "expires_at"
)
CONVERSATION_FOR_TOKEN = sqlite_text(statements.CONVERSATION_FOR_TOKEN, "token_hash", "now")
MESSAGES_AFTER = sqlite_text(statements.MESSAGES_AFTER, "conversation_id", "after_seq")

TIMESTAMP_COLUMNS = ("created_at", "claimed_at", "closed_at", "last_bot_update_at", "relative_gone_since")


def _conversation(row: sqlite3.Row) -> Conversation:
    values = dict(row)
    for column in TIMESTAMP_COLUMNS:
        if values.get(column) is not None:
            values[column] = parse_utc(values[column])
    return conversation_from_row(SimpleNamespace(**values))


def _message(cipher: FieldCipher, conversation_id: str, row: sqlite3.Row) -> Message:
    return Message(
        row["id"],
        conversation_id,
        row["seq"],
        Sender(row["sender"]),
        cipher.decrypt(row["body"]),
        parse_utc(row["sent_at"]),
        row["client_id"],
        cards.decode(cipher, row["card"]),
    )


def _cursor(db: sqlite3.Connection) -> sqlite3.Cursor:
    cursor = db.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor


def _insert_next(
    cursor: sqlite3.Cursor,
    cipher: FieldCipher,
    conversation_id: str,
    client_id: str,
    sender: Sender,
    text: str,
    now: datetime,
    author_id: int | None,
    card: ResourceCard | None = None,
) -> Message:
    (seq,) = cursor.execute(NEXT_SEQ, (conversation_id,)).fetchone()
    (message_id,) = cursor.execute(
        INSERT_MESSAGE,
        (
            conversation_id,
            seq,
            client_id,
            sender.value,
            author_id,
            cipher.encrypt(text),
            sqlite_utc_text(now),
            cards.encode(cipher, card),
        ),
    ).fetchone()
    return Message(message_id, conversation_id, seq, sender, text, now, client_id, card)


def append(db: sqlite3.Connection, cipher: FieldCipher, request: AppendRequest) -> Appended:
    """ChatStore.append, inside the open write transaction of a commit group."""
    cursor = _cursor(db)
    existing = cursor.execute(MESSAGE_BY_CLIENT_ID, (request.conversation_id, request.client_id)).fetchone()
    if existing is not None:
        return None, _message(cipher, request.conversation_id, existing)
    row = cursor.execute(CONVERSATION, (request.conversation_id,)).fetchone()
    if row is None:
        raise NotFound("no such conversation")
    conversation = _conversation(row)
    request.check(conversation)
    message = _insert_next(
        cursor,
        cipher,
        request.conversation_id,
        request.client_id,
        request.sender,
        request.text,
        request.now,
        request.author_id,
        request.card,
    )
    return conversation, message


def start(db: sqlite3.Connection, cipher: FieldCipher, new: NewConversation) -> None:
    """ChatStore.start: the conversation, its first token and the bot's opening messages."""
    conversation = new.conversation
    gone = conversation.relative_gone_since
    cursor = _cursor(db)
    cursor.execute(
        INSERT_CONVERSATION,
        (
            conversation.id,
            conversation.language,
            conversation.topic,
            conversation.state.value,
            conversation.priority,
            sqlite_utc_text(conversation.created_at),
            new.resume_hash,
            None if gone is None else sqlite_utc_text(gone),
        ),
    )
    cursor.execute(
        INSERT_TOKEN,
        (
            new.token_hash,
            conversation.id,
            sqlite_utc_text(conversation.created_at),
            sqlite_utc_text(new.token_expires_at),
        ),
    )
    for client_id, text in new.opening_messages():
        _insert_next(
            cursor, cipher, conversation.id, client_id, Sender.BOT, text, conversation.created_at, None
        )


def relative_view(
    db: sqlite3.Connection, cipher: FieldCipher, token_hash: str, now: datetime, after_seq: int
) -> RelativeView | None:
    """ChatStore.relative_view, in one read transaction."""
    cursor = _cursor(db)
    cursor.execute("BEGIN")
    try:
        row = cursor.execute(CONVERSATION_FOR_TOKEN, (token_hash, sqlite_utc_text(now))).fetchone()
        if row is None:
            return None
        conversation = _conversation(row)
        position: int | None = None
        if conversation.state is State.WAITING:
            (ahead,) = cursor.execute(
                f"SELECT COUNT(*) FROM conversations WHERE state = ? AND {RAW_SERVED_BEFORE}",  # noqa: S608 - the order's field names, no input
                (State.WAITING.value, *raw_served_before(conversation, _sql_value)),
            ).fetchone()
            position = ahead + 1
        rows = cursor.execute(MESSAGES_AFTER, (conversation.id, after_seq)).fetchall()
        return RelativeView(conversation, position, [_message(cipher, conversation.id, r) for r in rows])
    finally:
        cursor.execute("COMMIT")


class WaitingReader:
    """ChatStore.waiting: the queue in the order it is served, in one read transaction.

    Every queue round reads the whole queue on the event loop, and turning a thousand rows into
    Conversations (five timestamps parsed each) was most of that read. A row that has not changed
    since the last read gives the Conversation made from it then (they are immutable), so a claim
    costs the fetch and the few rows that changed."""

    COLUMNS = tuple(field.name for field in fields(Conversation))
    QUERY = (
        f"SELECT {', '.join(COLUMNS)} FROM conversations"  # noqa: S608 - field names, no input
        f" WHERE state = ? ORDER BY {RAW_ORDER_BY}"
    )

    # From this many rows on (at the last read) the queue is read in a thread (Database.long_read).
    LONG = 256

    def __init__(self) -> None:
        self._known: dict[tuple[Any, ...], Conversation] = {}
        self.last_count = 0

    def __call__(self, db: sqlite3.Connection) -> list[Conversation]:
        cursor = db.cursor()
        cursor.execute("BEGIN")
        try:
            rows = cursor.execute(self.QUERY, (State.WAITING.value,)).fetchall()
        finally:
            cursor.execute("COMMIT")
        known = self._known
        now_known = {row: known.get(row) or self._conversation(row) for row in rows}
        self._known = now_known
        self.last_count = len(rows)
        return [now_known[row] for row in rows]

    def _conversation(self, row: tuple[Any, ...]) -> Conversation:
        values = dict(zip(self.COLUMNS, row, strict=True))
        for column in TIMESTAMP_COLUMNS:
            if values.get(column) is not None:
                values[column] = parse_utc(values[column])
        return conversation_from_row(SimpleNamespace(**values))


def _sql_value(value: Any) -> Any:
    return sqlite_utc_text(value) if isinstance(value, datetime) else value
