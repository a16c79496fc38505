"""SQLite as DESIGN.md sets it up: migrations, WAL, synchronous=FULL, foreign keys, busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.db.engine import SQLITE_BUSY_TIMEOUT_MS, Database
from server.adapters.db.migrate import upgrade
from tests.integration.wiring import sqlite_url

SYNCHRONOUS_FULL = 2
EXPECTED_TABLES = {
    "alembic_version",
    "audit_log",
    "conversations",
    "messages",
    "notes",
    "relative_tokens",
    "staff_sessions",
    "staff_users",
}


def table_names(raw: sqlite3.Connection) -> set[str]:
    return {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrations_create_every_table(raw: sqlite3.Connection) -> None:
    assert table_names(raw) >= EXPECTED_TABLES


async def test_migrating_again_changes_nothing(migrated: Path, raw: sqlite3.Connection) -> None:
    version = raw.execute("SELECT version_num FROM alembic_version").fetchall()
    await asyncio.to_thread(upgrade, sqlite_url(migrated))
    assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == version
    assert table_names(raw) >= EXPECTED_TABLES


async def pragmas(connection: AsyncConnection) -> dict[str, object]:
    values = {}
    for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout"):
        values[name] = (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
    return values


@pytest.mark.parametrize("door", ["write", "read"])
async def test_every_connection_runs_with_the_designed_pragmas(database: Database, door: str) -> None:
    async with getattr(database, door)() as connection:
        found = await pragmas(connection)
    assert found == {
        "journal_mode": "wal",
        "synchronous": SYNCHRONOUS_FULL,
        "foreign_keys": 1,
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
    }
    assert SQLITE_BUSY_TIMEOUT_MS > 0


async def test_wal_mode_is_recorded_in_the_file_itself(database: Database, migrated: Path) -> None:
    async with database.write() as connection:
        await connection.execute(text("SELECT 1"))
    plain = sqlite3.connect(migrated)
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        plain.close()


async def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(IntegrityError):
        async with database.write() as connection:
            await connection.execute(
                text(
                    "INSERT INTO messages (conversation_id, seq, client_id, sender, body, sent_at) "
                    "VALUES ('no-such-conversation', 1, 'c', 'relative', x'00', '2026-11-26 09:00:00')"
                )
            )
