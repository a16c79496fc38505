"""Group commit on SQLite: units sharing one transaction, committed whole or not at all."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from server.adapters.db.engine import Database
from server.adapters.db.group_commit import GroupCommitter, InThread
from server.domain.errors import Conflict


def note(text: str) -> InThread:
    """A unit that writes one row (a staff account, the simplest table) and returns its id."""

    def write(connection: sqlite3.Connection) -> int:
        (row_id,) = connection.execute(
            "INSERT INTO staff_users (username, display_name, password_hash, role, languages, active, "
            "created_at) VALUES (?, ?, 'x', 'counsellor', '[]', 1, '2026-01-01 00:00:00.000000') "
            "RETURNING id",
            (text, text),
        ).fetchone()
        return int(row_id)

    return InThread(write)


def failing(error: Exception) -> InThread:
    def write(_connection: sqlite3.Connection) -> None:
        raise error

    return InThread(write)


def usernames(migrated: Path) -> list[str]:
    with sqlite3.connect(migrated) as connection:
        return [row[0] for row in connection.execute("SELECT username FROM staff_users ORDER BY id")]


async def run_together(committer: GroupCommitter[None], units: list[InThread]) -> list[object]:
    """All units are queued before the committer drains, so they share one transaction."""
    return await asyncio.gather(*(committer.run(unit) for unit in units), return_exceptions=True)


@pytest.fixture
def committer(database: Database) -> GroupCommitter[None]:
    make_repositories: Callable[[object], None] = lambda _connection: None  # noqa: E731
    return GroupCommitter(database, make_repositories)


async def test_units_of_one_batch_are_all_committed(committer: GroupCommitter[None], migrated: Path) -> None:
    results = await run_together(committer, [note(f"user-{n}") for n in range(20)])
    await committer.close()
    assert len(set(results)) == 20 and all(isinstance(r, int) for r in results)
    assert usernames(migrated) == [f"user-{n}" for n in range(20)]


async def test_a_refused_unit_fails_alone(committer: GroupCommitter[None], migrated: Path) -> None:
    refused = Conflict("taken", code="already_claimed")
    results = await run_together(committer, [note("before"), failing(refused), note("after")])
    await committer.close()
    assert results[1] is refused
    assert isinstance(results[0], int) and isinstance(results[2], int)
    assert usernames(migrated) == ["before", "after"]


async def test_a_broken_batch_is_committed_again_one_unit_at_a_time(
    committer: GroupCommitter[None], migrated: Path
) -> None:
    """The batch rolls back whole (nothing of it is half-written), then each unit is tried alone:
    only the broken one fails (a deadlock of the batch as a whole costs nobody their write)."""
    broken = RuntimeError("disk trouble")
    results = await run_together(committer, [note("first"), failing(broken), note("third")])
    assert isinstance(results[0], int) and results[1] is broken and isinstance(results[2], int)
    assert usernames(migrated) == ["first", "third"]
    assert isinstance(await committer.run(note("later")), int), "the writer is usable again"
    await committer.close()
    assert usernames(migrated) == ["first", "third", "later"]
