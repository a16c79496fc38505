"""The SQL implementation of the services' UnitOfWork port: every repository on one connection,
one short transaction per use case, and the chat's hot paths the cheapest way the database allows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.crypto import DataCiphers
from server.adapters.db import sqlite_hot_paths
from server.adapters.db.booking.outbox import OutboxStore
from server.adapters.db.booking_store import BookingStore
from server.adapters.db.chat_store import ChatStore
from server.adapters.db.engine import Database
from server.adapters.db.escalation_store import EscalationStore
from server.adapters.db.group_commit import GroupCommitter, InThread
from server.adapters.db.knowledge_store import KnowledgeStore
from server.adapters.db.record_store import RecordStore
from server.adapters.db.retention_store import RetentionStore
from server.adapters.db.staff_store import StaffStore
from server.domain.conversations import Conversation
from server.services.ports.chat import Appended, AppendRequest, NewConversation, RelativeView
from server.services.ports.unit_of_work import Repositories, UnitOfWork


@dataclass
class SqlRepositories:
    connection: AsyncConnection
    chat: ChatStore
    staff: StaffStore
    booking: BookingStore
    outbox: OutboxStore
    escalations: EscalationStore
    records: RecordStore
    retention: RetentionStore
    knowledge: KnowledgeStore


class SqlUnitOfWork:
    def __init__(self, database: Database, ciphers: DataCiphers) -> None:
        self.database = database
        self.ciphers = ciphers
        self._group = GroupCommitter(database, self._repositories)
        self._waiting_reader = sqlite_hot_paths.WaitingReader()

    async def append_message(self, request: AppendRequest) -> Appended | None:
        if self.database.is_sqlite:
            return await self._group.run(
                InThread(partial(sqlite_hot_paths.append, cipher=self.ciphers.chat, request=request))
            )
        return await self._group.run(lambda repositories: repositories.chat.append(request))

    async def start_conversation(self, new: NewConversation) -> None:
        if self.database.is_sqlite:
            await self._group.run(
                InThread(partial(sqlite_hot_paths.start, cipher=self.ciphers.chat, new=new))
            )
        else:
            await self._group.run(lambda repositories: repositories.chat.start(new))

    async def relative_view(self, token_hash: str, now: datetime, after_seq: int) -> RelativeView | None:
        if self.database.is_sqlite:
            return await self.database.quick_read(
                partial(
                    sqlite_hot_paths.relative_view,
                    cipher=self.ciphers.chat,
                    token_hash=token_hash,
                    now=now,
                    after_seq=after_seq,
                )
            )
        async with self.read() as repositories:
            return await repositories.chat.relative_view(token_hash, now, after_seq)

    async def waiting(self) -> list[Conversation]:
        if self.database.is_sqlite:
            if self._waiting_reader.last_count >= sqlite_hot_paths.WaitingReader.LONG:
                return await self.database.long_read(self._waiting_reader)
            return await self.database.quick_read(self._waiting_reader)
        async with self.read() as repositories:
            return await repositories.chat.waiting()

    async def close(self) -> None:
        await self._group.close()

    def _repositories(self, connection: AsyncConnection) -> SqlRepositories:
        ciphers = self.ciphers
        return SqlRepositories(
            connection,
            chat=ChatStore(connection, ciphers.chat),
            staff=StaffStore(connection),
            booking=BookingStore(connection, ciphers.booking, ciphers.phone_index),
            outbox=OutboxStore(connection, ciphers.booking),
            escalations=EscalationStore(connection, ciphers.escalations),
            records=RecordStore(connection),
            retention=RetentionStore(connection),
            knowledge=KnowledgeStore(connection),
        )

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlRepositories]:
        async with self.database.write() as connection:
            yield self._repositories(connection)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlRepositories]:
        async with self.database.read() as connection:
            yield self._repositories(connection)


def _implements_the_port(
    uow: SqlUnitOfWork, repositories: SqlRepositories
) -> tuple[UnitOfWork, Repositories]:
    """Never called: mypy checks here that the SQL unit of work and every store implement their port."""
    return uow, repositories
