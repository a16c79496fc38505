"""Backups (issue 14): `kinline backup` while relatives and a counsellor post without pause, then
`kinline restore` into a fresh directory with the same data key, a server started from it, and
every message acked before the backup began is there and readable; a restore into a database
that holds data is refused."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.clients import Harness, Staff
from tests.support.server import ServerProcess

RELATIVES = 3


@dataclass(frozen=True)
class Acked:
    conversation_id: str
    seq: int
    sender: str
    text: str


async def post_until(
    stop: asyncio.Event, acked: list[Acked], send: Callable[[str], object], conversation_id: str, sender: str
) -> None:
    """Send one message after the other, each as soon as the last is acked, until ``stop``."""
    n = 0
    while not stop.is_set():
        n += 1
        text = f"{sender} {conversation_id[:8]} nr {n}"
        ack = await send(text)  # type: ignore[misc]
        assert ack["ok"], ack
        acked.append(Acked(conversation_id, ack["message"]["seq"], sender, text))


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
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    source = server_factory(name="source")
    backup_file = tmp_path / "kinline-backup.db"
    acked: list[Acked] = []
    stop = asyncio.Event()
    async with Harness(source) as h:
        (cora,) = await h.counsellors("cora")
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
                    lambda text, c=conversation_id: cora.socket.send(c, text),  # type: ignore[misc]
                    conversation_id,
                    "counsellor",
                )
            )
        posting = asyncio.gather(*posters)
        while len(acked) < 30:
            await asyncio.sleep(0.01)
        before = list(acked)
        returncode, output = await run_backup(source, backup_file)
        during = len(acked) - len(before)
        stop.set()
        await posting

    assert returncode == 0, output
    assert during > 0, "the messages kept coming while the backup ran"
    assert "Keep the data key with this backup" in output
    assert str(source.workdir / "data.key") in output
    assert backup_file.stat().st_mode & 0o777 == 0o600

    restored = server_factory(name="restored", start=False)
    shutil.copy2(source.workdir / "data.key", restored.workdir / "data.key")
    result = restored.cli("restore", str(backup_file))
    assert result.returncode == 0, result.stderr + result.stdout
    restored.start()

    async with Harness(restored) as h:
        cora_again: Staff = await h.sign_in("cora", connect=False)
        found: set[Acked] = set()
        for conversation_id in {a.conversation_id for a in before}:
            detail = await cora_again.api.request("GET", f"/api/staff/conversations/{conversation_id}")
            assert detail.status == 200, detail.body
            found |= {
                Acked(conversation_id, m["seq"], m["sender"], m["text"])
                for m in detail.body["messages"]
                if m["sender"] in ("relative", "counsellor")
            }
    missing = [a for a in before if a not in found]
    assert not missing, f"{len(missing)} of {len(before)} acked messages are not in the restored copy"


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
