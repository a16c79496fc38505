"""Database engines. SQLite gets WAL, synchronous=FULL, foreign keys, a busy timeout and
BEGIN IMMEDIATE on the one writer connection, so concurrent writers queue instead of deadlocking."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
Result = TypeVar("Result")


# On every connection that may write (the migrations' too): deleted rows are overwritten with
# zeros, so text that retention purged does not linger in free pages of the file.
SECURE_DELETE = "PRAGMA secure_delete=ON"
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    SECURE_DELETE,
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
)


def apply_sqlite_pragmas(dbapi_connection: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        apply_sqlite_pragmas(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_private_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 (like the key file) before SQLite would create it world-readable
    under the usual umask; its -wal and -shm files take the database file's mode. An existing
    file, and its -wal and -shm, are narrowed to 0600 too."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            file.chmod(0o600)


def _announcing_connection(announce: Callable[[sqlite3.Connection], None]) -> type[sqlite3.Connection]:
    """A sqlite3 connection class (for ``sqlite3.connect(factory=...)``) that hands each new
    connection to ``announce``: how the database learns the plain connection under aiosqlite's."""

    class Announcing(sqlite3.Connection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            announce(self)

    return Announcing


class Database:
    """Two doors to one database: ``write()`` for short transactions that change state,
    ``read()`` for queries. On SQLite writes go through a single connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._loop_connection: sqlite3.Connection | None = None
        self._writer_connection: sqlite3.Connection | None = None
        self._writer_thread: ThreadPoolExecutor | None = None
        if self.is_sqlite:
            make_private_sqlite_file(url)
            self._writer = create_async_engine(
                url,
                pool_size=1,
                max_overflow=0,
                pool_timeout=60,
                pool_reset_on_return=None,
                connect_args={
                    "factory": _announcing_connection(self._remember_writer),
                    "check_same_thread": False,
                },
            )
            # read() commits or rolls back itself and quick_read()'s functions commit, so a connection
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

    async def write_in_thread(self, function: Callable[[sqlite3.Connection], Result]) -> Result:
        """SQLite only: one write transaction run whole in the writer connection's own thread
        (BEGIN IMMEDIATE, ``function``, COMMIT, or ROLLBACK if it raises), in a single hop from
        the event loop instead of one per statement of SQLAlchemy's begin and commit."""
        async with self._writer.connect() as connection:
            return await self.run_on_writer(connection, partial(_in_write_transaction, function))

    async def run_on_writer(
        self, connection: AsyncConnection, function: Callable[[sqlite3.Connection], Result]
    ) -> Result:
        """SQLite only: call ``function`` with the sqlite3 connection under ``connection``, the
        writer engine's one pooled connection (checked out by the caller, so SQLAlchemy and
        aiosqlite leave it alone meanwhile), in the writer's own thread: one hop from the event loop
        for any number of statements."""
        assert not connection.closed and self._writer_connection is not None
        if self._writer_thread is None:
            self._writer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        return await asyncio.get_running_loop().run_in_executor(
            self._writer_thread, function, self._writer_connection
        )

    def _remember_writer(self, connection: sqlite3.Connection) -> None:
        self._writer_connection = connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.begin() as connection:
            yield connection

    async def quick_read(self, function: Callable[[sqlite3.Connection], Result]) -> Result:
        """SQLite only: a small indexed read (``function`` opens and ends its own transaction).

        It runs right here on the event loop, on a read-only connection with no busy wait: in WAL
        mode a reader does not wait for the writer, and reading a few rows costs less than the hop
        to a database thread and back with the GIL hand-offs that go with it. In the rare moment
        the file is locked anyway, the read waits in a thread of its own (on a connection of its
        own, with the busy timeout) instead of blocking the loop."""
        try:
            return function(self._loop_reader())
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
        return await self.long_read(function)

    async def long_read(self, function: Callable[[sqlite3.Connection], Result]) -> Result:
        """SQLite only: a read in a thread on a connection of its own, with the busy timeout: a
        quick read that found the file locked, or a read of many rows. SQLite steps without the
        GIL there, and the event loop gets the GIL back at every switch interval, where on the
        loop the whole read would be one stall."""
        return await asyncio.to_thread(_read_on_own_connection, self._path, function)

    @property
    def _path(self) -> str:
        return make_url(self.url).database or ""

    def _loop_reader(self) -> sqlite3.Connection:
        if self._loop_connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None)
            connection.execute("PRAGMA query_only=ON")
            connection.execute("PRAGMA busy_timeout=0")
            self._loop_connection = connection
        return self._loop_connection

    async def dispose(self) -> None:
        if self._loop_connection is not None:
            self._loop_connection.close()
            self._loop_connection = None
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()
        if self._writer_thread is not None:
            self._writer_thread.shutdown(wait=True)
            self._writer_thread = None


def _read_on_own_connection(path: str, function: Callable[[sqlite3.Connection], Result]) -> Result:
    """A read off the event loop: a quick read that found the file locked, or a long read."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA query_only=ON")
        connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return function(connection)
    finally:
        connection.close()


def _in_write_transaction(
    function: Callable[[sqlite3.Connection], Result], database: sqlite3.Connection
) -> Result:
    database.execute("BEGIN IMMEDIATE")
    try:
        result = function(database)
    except BaseException:
        database.execute("ROLLBACK")
        raise
    database.execute("COMMIT")
    return result


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return error.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
