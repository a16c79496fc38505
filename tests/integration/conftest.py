"""Fixtures: services on a real migrated SQLite file in tmp_path."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.migrate import upgrade
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.services.accounts import AccountPolicy, AccountService
from server.services.auth import AuthService, SessionPolicy
from server.services.chat import ChatService
from tests.integration.wiring import (
    ABSOLUTE_TIMEOUT,
    FAILURES_BEFORE_DELAY,
    IDLE_TIMEOUT,
    T0,
    ManualClock,
    RecordingBus,
    chat_policy,
    sqlite_url,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "kinline.db"


@pytest.fixture
async def migrated(db_path: Path) -> Path:
    """Alembic runs its own event loop, so it runs in a thread, as the CLI runs it before serving."""
    await asyncio.to_thread(upgrade, sqlite_url(db_path))
    return db_path


@pytest.fixture
def data_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
async def database(migrated: Path) -> AsyncIterator[Database]:
    database = Database(sqlite_url(migrated))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def events() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
async def uow(database: Database, data_key: bytes) -> AsyncIterator[SqlUnitOfWork]:
    """Closed before the engine is disposed, as create_app's cleanup does."""
    uow = SqlUnitOfWork(database, DataCiphers.from_key(data_key))
    yield uow
    await uow.close()


@pytest.fixture
def chat(uow: SqlUnitOfWork, events: RecordingBus, clock: ManualClock) -> ChatService:
    return ChatService(uow, events, clock, chat_policy())


@pytest.fixture
def auth(uow: SqlUnitOfWork, events: RecordingBus, clock: ManualClock, data_key: bytes) -> AuthService:
    return AuthService(
        uow,
        events,
        clock,
        SessionPolicy(IDLE_TIMEOUT, ABSOLUTE_TIMEOUT, FAILURES_BEFORE_DELAY),
        uow.ciphers.totp,
    )


@pytest.fixture
def raw(migrated: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to the same file, to look at what is really stored."""
    connection = sqlite3.connect(migrated)
    yield connection
    connection.close()


SETUP_LINK_LIFETIME = timedelta(hours=24)
ROUTES = frozenset({"spanga-tensta"})


@pytest.fixture
def accounts(
    uow: SqlUnitOfWork, events: RecordingBus, clock: ManualClock, auth: AuthService
) -> AccountService:
    return AccountService(uow, events, clock, AccountPolicy(SETUP_LINK_LIFETIME, ROUTES), auth.hasher)
