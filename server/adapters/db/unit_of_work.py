"""The SQL implementation of the services' UnitOfWork port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.crypto import FieldCipher
from server.adapters.db import sqlite_hot_paths
from server.adapters.db.chat_store import ChatStore
from server.adapters.db.engine import Database
from server.adapters.db.group_commit import GroupCommitter, InThread
from server.adapters.db.staff_store import StaffStore
from server.domain.conversations import Conversation
from server.services.ports import Appended, AppendRequest, NewConversation, RelativeView


@dataclass
class SqlRepositories:
    connection: AsyncConnection
    chat: ChatStore
    staff: StaffStore


class SqlUnitOfWork:
    def __init__(self, database: Database, cipher: FieldCipher) -> None:
        self.database = database
        self.cipher = cipher
        self._group = GroupCommitter(database, self._repositories)

    async def append_message(self, request: AppendRequest) -> Appended | None:
        if self.database.is_sqlite:
            return await self._group.run(
                InThread(partial(sqlite_hot_paths.append, cipher=self.cipher, request=request))
            )
        return await self._group.run(lambda repositories: repositories.chat.append(request))

    async def start_conversation(self, new: NewConversation) -> None:
        if self.database.is_sqlite:
            await self._group.run(InThread(partial(sqlite_hot_paths.start, cipher=self.cipher, new=new)))
        else:
            await self._group.run(lambda repositories: repositories.chat.start(new))

    async def relative_view(self, token_hash: str, now: datetime, after_seq: int) -> RelativeView | None:
        if self.database.is_sqlite:
            return await self.database.quick_read(
                partial(
                    sqlite_hot_paths.relative_view,
                    cipher=self.cipher,
                    token_hash=token_hash,
                    now=now,
                    after_seq=after_seq,
                )
            )
        async with self.read() as repositories:
            return await repositories.chat.relative_view(token_hash, now, after_seq)

    async def waiting(self) -> list[Conversation]:
        if self.database.is_sqlite:
            return await self.database.quick_read(sqlite_hot_paths.waiting)
        async with self.read() as repositories:
            return await repositories.chat.waiting()

    async def close(self) -> None:
        await self._group.close()

    def _repositories(self, connection: AsyncConnection) -> SqlRepositories:
        return SqlRepositories(connection, ChatStore(connection, self.cipher), StaffStore(connection))

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlRepositories]:
        async with self.database.write() as connection:
            yield self._repositories(connection)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlRepositories]:
        async with self.database.read() as connection:
            yield self._repositories(connection)
