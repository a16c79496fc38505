"""Backups (issue 14): `kinline backup` while relatives and a counsellor post without pause, then
`kinline restore` into a fresh place with the same data key (a new SQLite file; on PostgreSQL a
second, empty database on the same server: pg_dump/pg_restore), a server started from it, and the
restored messages are exactly a consistent snapshot: every message acked before the backup began,
and per conversation nothing but an unbroken prefix of what was acked; a restore into a database
that holds data is refused."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.clients import Harness, Staff
from tests.support.server import ServerProcess
from tests.support.services import create_database, postgres_server

RELATIVES = 3


@dataclass(frozen=True)
class Acked:
    conversation_id: str
    seq: int
    client_id: str
    sender: str
    text: str


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest) -> tuple[dict[str, str], dict[str, str]]:
    """The settings of the server backed up and of the one restored into: SQLite files of their
    own, or two databases (the second empty) on one real PostgreSQL server."""
    if request.param == "sqlite":
        return {}, {}
    url: str = request.getfixturevalue("postgres_url")
    suffix = uuid.uuid4().hex[:8]
    return (
        {"KINLINE_DATABASE_URL": create_database(url, f"source_{suffix}")},
        {"KINLINE_DATABASE_URL": create_database(url, f"restored_{suffix}")},
    )


@contextmanager
def checkpoints_held_back(server: ServerProcess, settings: dict[str, str]) -> Iterator[None]:
    """On SQLite, an open read transaction (as an operator's query would hold) keeps the WAL from
    being copied back into the database file, so what is posted meanwhile is in the -wal file
    alone: a backup that copied only the database file would lose it, and this test would fail."""
    if settings:
        yield
        return
    with contextlib.closing(sqlite3.connect(server.db_path, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM messages").fetchone()
        yield
        reader.execute("COMMIT")


async def post_until(
    stop: asyncio.Event,
    acked: list[Acked],
    send: Callable[[str, str], object],
    conversation_id: str,
    sender: str,
) -> None:
    """Send one message after the other, each as soon as the last is acked, until ``stop``."""
    n = 0
    while not stop.is_set():
        n += 1
        text = f"{sender} {conversation_id[:8]} nr {n}"
        client_id = str(uuid.uuid4())
        ack = await send(text, client_id)  # type: ignore[misc]
        assert ack["ok"], ack
        assert ack["message"]["client_id"] == client_id, ack
        acked.append(Acked(conversation_id, ack["message"]["seq"], client_id, sender, text))


async def run_backup(server: ServerProcess, path: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "backup",
        str(path),
        env=server.env,
        cwd=server.workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_a_backup_taken_under_load_restores_every_message_acked_before_it(
    server_factory: Callable[..., ServerProcess],
    tmp_path: Path,
    databases: tuple[dict[str, str], dict[str, str]],
) -> None:
    source_settings, restored_settings = databases
    source = server_factory(source_settings, name="source")
    backup_file = tmp_path / "kinline-backup"
    acked: list[Acked] = []
    stop = asyncio.Event()
    async with Harness(source) as h:
        (cora,) = await h.counsellors("cora")
        with checkpoints_held_back(source, source_settings):
            posters = []
            for _ in range(RELATIVES):
                started = await h.start_conversation("sv")
                assert (await cora.socket.claim(started.conversation_id))["ok"]
                relative = await h.relative(started.token)
                conversation_id = started.conversation_id
                posters.append(post_until(stop, acked, relative.send, conversation_id, "relative"))
                posters.append(
                    post_until(
                        stop,
                        acked,
                        lambda text, client_id, c=conversation_id: cora.socket.send(c, text, client_id),  # type: ignore[misc]
                        conversation_id,
                        "counsellor",
                    )
                )
            posting = asyncio.gather(*posters)
            while len(acked) < 30:
                await asyncio.sleep(0.01)
            before = set(acked)
            returncode, output = await run_backup(source, backup_file)
        during = len(acked) - len(before)
        stop.set()
        await posting

    assert returncode == 0, output
    assert during > 0, "the messages kept coming while the backup ran"
    assert "Keep the data key with this backup" in output
    assert str(source.workdir / "data.key") in output
    assert backup_file.stat().st_mode & 0o777 == 0o600

    restored = server_factory(restored_settings, name="restored", start=False)
    shutil.copy2(source.workdir / "data.key", restored.workdir / "data.key")
    result = restored.cli("restore", str(backup_file))
    assert result.returncode == 0, result.stderr + result.stdout
    again = restored.cli("restore", str(backup_file))
    assert again.returncode != 0 and "not empty" in again.stderr, again.stderr + again.stdout
    restored.start()

    conversations = {a.conversation_id for a in acked}
    found: set[Acked] = set()
    async with Harness(restored) as h:
        cora_again: Staff = await h.sign_in("cora", connect=False)
        for conversation_id in conversations:
            detail = await cora_again.api.request("GET", f"/api/staff/conversations/{conversation_id}")
            assert detail.status == 200, detail.body
            found |= {
                Acked(conversation_id, m["seq"], m["client_id"], m["sender"], m["text"])
                for m in detail.body["messages"]
                if m["sender"] in ("relative", "counsellor")
            }
    missing = before - found
    assert not missing, f"{len(missing)} of {len(before)} acked messages are not in the restored copy"
    # A snapshot: per conversation, exactly the acked messages up to the last one restored (no
    # message that was never acked, none changed, no gap left by a torn copy).
    for conversation_id in conversations:
        restored_here = {a for a in found if a.conversation_id == conversation_id}
        last = max(a.seq for a in restored_here)
        expected = {a for a in acked if a.conversation_id == conversation_id and a.seq <= last}
        assert restored_here == expected, conversation_id


async def test_restore_refuses_a_database_that_holds_data(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(name="busy", start=False)
    server.add_user("ada", "admin")
    backup_file = tmp_path / "copy.db"
    made = server.cli("backup", str(backup_file))
    assert made.returncode == 0, made.stderr

    refused = server.cli("restore", str(backup_file))

    assert refused.returncode != 0
    assert "not empty" in refused.stderr
    with sqlite3.connect(server.db_path) as db:
        assert db.execute("SELECT username FROM staff_users").fetchall() == [("ada",)]
    again = server.cli("backup", str(backup_file))
    assert again.returncode != 0 and "exists" in again.stderr
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    fresh = server_factory(name="fresh", start=False)
    wrong = fresh.cli("restore", str(not_a_backup))
    assert wrong.returncode != 0 and "kinline restore:" in wrong.stderr
