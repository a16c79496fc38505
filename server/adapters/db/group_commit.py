"""Group commit: many short units of work share one transaction and one fsync.

Each caller still gets its own result only after the COMMIT that holds its writes, so "acked after
commit" stays true while SQLite's synchronous=FULL costs one fsync per batch instead of per message.
A unit that raises a DomainError has made no writes (services check before they write), so only that
caller sees the error. Any other failure rolls the whole batch back; its units are then committed
again one at a time (they are idempotent), so a failure that came from the batch as a whole, such
as a deadlock between two processes' batches on PostgreSQL (each locks its conversations' rows in
its own order), costs no caller their write, and a unit that fails on its own fails alone."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.db.engine import Database
from server.domain.errors import DomainError

log = logging.getLogger(__name__)

Repos = TypeVar("Repos")
Result = TypeVar("Result")
MAX_BATCH = 500


@dataclass(frozen=True)
class InThread:
    """A unit for SQLite that runs in the database connection's own thread on the raw sqlite3
    connection. Consecutive ones in a group share a single hop from the event loop."""

    function: Callable[[sqlite3.Connection], Any]


Work = Callable[[Repos], Awaitable[Any]] | InThread
Unit = tuple[Work[Repos], asyncio.Future[Any]]
Outcome = tuple[BaseException | None, Any]


class GroupCommitter(Generic[Repos]):
    def __init__(self, database: Database, make_repositories: Callable[[AsyncConnection], Repos]) -> None:
        self.database = database
        self.make_repositories = make_repositories
        self._pending: list[Unit[Repos]] = []
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[Repos], Awaitable[Result]] | InThread) -> Result:
        if self._worker is None or self._worker.done():
            self._wakeup = asyncio.Event()
            self._worker = asyncio.create_task(self._drain_forever(), name="group-commit")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((work, future))
        assert self._wakeup is not None
        self._wakeup.set()
        return await future

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        for _work, future in self._pending:
            if not future.done():
                future.set_exception(RuntimeError("shutting down"))
        self._pending.clear()

    async def _drain_forever(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._commit(batch)

    async def _commit(self, batch: list[Unit[Repos]]) -> None:
        outcomes: list[Outcome]
        try:
            if all(isinstance(work, InThread) for work, _future in batch):
                outcomes = await self.database.write_in_thread(
                    partial(_run_all, units=[work for work, _future in batch if isinstance(work, InThread)])
                )
            else:
                outcomes = await self._commit_mixed(batch)
        except Exception as failure:
            if len(batch) > 1:
                log.warning(
                    "group commit of %d units failed (%s); committing them one at a time",
                    len(batch),
                    type(failure).__name__,
                )
                for unit in batch:
                    await self._commit([unit])
                return
            log.exception("group commit of %d units failed", len(batch))
            for _work, future in batch:
                if not future.done():
                    future.set_exception(failure)
            return
        for (_work, future), (domain_error, value) in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if domain_error is not None:
                future.set_exception(domain_error)
            else:
                future.set_result(value)

    async def _commit_mixed(self, batch: list[Unit[Repos]]) -> list[Outcome]:
        """Units through SQLAlchemy and SQLite units in the driver's thread, in one transaction."""
        outcomes: list[Outcome] = []
        async with self.database.write() as connection:
            repositories = self.make_repositories(connection)
            in_thread: list[InThread] = []
            for work, _future in batch:
                if isinstance(work, InThread):
                    in_thread.append(work)
                    continue
                outcomes.extend(await self._run_in_thread(connection, in_thread))
                in_thread = []
                try:
                    outcomes.append((None, await work(repositories)))
                except DomainError as error:
                    outcomes.append((error, None))
            outcomes.extend(await self._run_in_thread(connection, in_thread))
        return outcomes

    async def _run_in_thread(self, connection: AsyncConnection, units: list[InThread]) -> list[Outcome]:
        """One trip to the writer's thread for all units, inside the transaction already begun."""
        if not units:
            return []
        return await self.database.run_on_writer(connection, partial(_run_all, units=units))


def _run_all(database: sqlite3.Connection, *, units: list[InThread]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for unit in units:
        try:
            outcomes.append((None, unit.function(database)))
        except DomainError as error:
            outcomes.append((error, None))
    return outcomes
