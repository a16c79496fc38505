"""Database engines. SQLite gets WAL, synchronous=FULL, foreign keys, a busy timeout and
BEGIN IMMEDIATE on the one writer connection, so concurrent writers queue instead of deadlocking."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
Result = TypeVar("Result")


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Two doors to one database: ``write()`` for short transactions that change state,
    ``read()`` for queries. On SQLite writes go through a single connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self._writer = create_async_engine(
                url, pool_size=1, max_overflow=0, pool_timeout=60, pool_reset_on_return=None
            )
            # read() commits or rolls back itself and read_in_thread() commits, so a connection
            # going back to the pool needs no extra rollback (one thread hop less per read).
            self._reader = create_async_engine(
                url, pool_size=4, max_overflow=4, pool_timeout=60, pool_reset_on_return=None
            )
            _configure_sqlite(self._writer, immediate=True)
            _configure_sqlite(self._reader, immediate=False)
        else:
            self._writer = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
            self._reader = self._writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self._writer.begin() as connection:
            yield connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.begin() as connection:
            yield connection

    async def read_in_thread(self, function: Callable[[sqlite3.Connection], Result]) -> Result:
        """SQLite only: run ``function`` on a reader's raw sqlite3 connection in its own thread, in
        one hop from the event loop. ``function`` opens and ends its own read transaction."""
        async with self._reader.connect() as connection:
            return await run_in_driver_thread(connection, function)

    async def dispose(self) -> None:
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()


async def run_in_driver_thread(
    connection: AsyncConnection, function: Callable[[sqlite3.Connection], Result]
) -> Result:
    """Call ``function`` with aiosqlite's sqlite3 connection, on the thread that owns it."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    result: Result = await driver._execute(function, driver._conn)
    return result
