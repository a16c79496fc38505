"""The chat's hot statements, written once. ChatStore runs them through SQLAlchemy (PostgreSQL and
SQLite alike); ``sqlite_hot_paths`` runs the same statements compiled once to SQLite's SQL on a raw
sqlite3 connection, where the parameters are given as SQLite stores them (see ``sqlite_utc_text``)."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, literal_column, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from server.adapters.db.tables import conversations, messages, relative_tokens

NEXT_SEQ = (
    update(conversations)
    .where(conversations.c.id == bindparam("conversation_id"))
    .values(last_seq=conversations.c.last_seq + literal_column("1"))
    .returning(conversations.c.last_seq)
)
INSERT_MESSAGE = (
    insert(messages)
    .values(
        conversation_id=bindparam("conversation_id"),
        seq=bindparam("seq"),
        client_id=bindparam("client_id"),
        sender=bindparam("sender"),
        author_id=bindparam("author_id"),
        body=bindparam("body"),
        sent_at=bindparam("sent_at"),
        card=bindparam("card"),
    )
    .returning(messages.c.id)
)
MESSAGE_BY_CLIENT_ID = select(messages).where(
    messages.c.conversation_id == bindparam("conversation_id"), messages.c.client_id == bindparam("client_id")
)
CONVERSATION = select(conversations).where(conversations.c.id == bindparam("conversation_id"))
INSERT_CONVERSATION = insert(conversations).values(
    id=bindparam("id"),
    language=bindparam("language"),
    topic=bindparam("topic"),
    state=bindparam("state"),
    priority=bindparam("priority"),
    created_at=bindparam("created_at"),
    last_seq=literal_column("0"),
    counsellor_read_seq=literal_column("0"),
    resume_hash=bindparam("resume_hash"),
    relative_gone_since=bindparam("relative_gone_since"),
)
INSERT_TOKEN = insert(relative_tokens).values(
    token_hash=bindparam("token_hash"),
    conversation_id=bindparam("conversation_id"),
    created_at=bindparam("created_at"),
    expires_at=bindparam("expires_at"),
)
CONVERSATION_FOR_TOKEN = (
    select(conversations)
    .join(relative_tokens, relative_tokens.c.conversation_id == conversations.c.id)
    .where(
        relative_tokens.c.token_hash == bindparam("token_hash"),
        relative_tokens.c.expires_at > bindparam("now"),
    )
)
MESSAGES_AFTER = (
    select(messages)
    .where(
        messages.c.conversation_id == bindparam("conversation_id"), messages.c.seq > bindparam("after_seq")
    )
    .order_by(messages.c.seq)
)


def sqlite_text(statement: ClauseElement, *parameters: str) -> str:
    """The statement as SQLite's SQL with ``?`` placeholders, for sqlite3's ``execute`` with a tuple
    of the values of ``parameters`` in this order (checked here, once; positional binding is the
    cheaper one on the hot path)."""
    compiled = statement.compile(dialect=sqlite.dialect(paramstyle="qmark"))
    assert isinstance(compiled, SQLCompiler)
    if tuple(compiled.positiontup or ()) != parameters:
        raise ValueError(f"the statement takes {compiled.positiontup}, not {parameters}")
    if any(value is not None for value in compiled.params.values()):
        raise ValueError("a hot statement takes every value as a parameter")
    return str(compiled)
