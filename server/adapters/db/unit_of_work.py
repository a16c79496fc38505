"""The SQL implementation of the services' UnitOfWork port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.crypto import FieldCipher
from server.adapters.db.chat_store import ChatStore
from server.adapters.db.engine import Database
from server.adapters.db.group_commit import GroupCommitter
from server.adapters.db.staff_store import StaffStore


@dataclass
class SqlRepositories:
    connection: AsyncConnection
    chat: ChatStore
    staff: StaffStore


Result = TypeVar("Result")


class SqlUnitOfWork:
    def __init__(self, database: Database, cipher: FieldCipher) -> None:
        self.database = database
        self.cipher = cipher
        self._group = GroupCommitter(database, self._repositories)

    async def grouped(self, work: Callable[[SqlRepositories], Awaitable[Result]]) -> Result:
        """Run work in a transaction shared with other concurrent callers; see group_commit."""
        return await self._group.run(work)

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
