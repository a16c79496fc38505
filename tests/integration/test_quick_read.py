"""Database.quick_read: small reads on the event loop that never block it, even on a locked file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from server.adapters.db.engine import Database


def count_staff(connection: sqlite3.Connection) -> int:
    connection.execute("BEGIN")
    try:
        (count,) = connection.execute("SELECT COUNT(*) FROM staff_users").fetchone()
        return int(count)
    finally:
        connection.execute("COMMIT")


async def test_a_read_on_a_locked_file_waits_in_a_thread_while_the_loop_goes_on(
    database: Database, migrated: Path
) -> None:
    assert await database.quick_read(count_staff) == 0

    holder = sqlite3.connect(migrated, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute(
        "INSERT INTO staff_users (username, display_name, password_hash, role, languages, active, "
        "created_at) VALUES ('ada', 'Ada', 'x', 'counsellor', '[]', 1, '2026-01-01 00:00:00.000000')"
    )
    read = asyncio.create_task(database.quick_read(count_staff))
    ticks = 0
    while ticks < 20:
        await asyncio.sleep(0)
        ticks += 1
    assert not read.done(), "the read must wait for the lock, off the loop"
    holder.execute("COMMIT")
    holder.close()
    assert await asyncio.wait_for(read, timeout=30) == 1
    assert await database.quick_read(count_staff) == 1
