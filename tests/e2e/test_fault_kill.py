"""Fault test: kill -9 the server while relatives and a counsellor stream messages, restart it, and prove
that no acknowledged message is lost or stored twice (the streaming clients: tests/support/streams.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from tests.support.server import ServerProcess
from tests.support.streams import (
    RECOVERY_TIMEOUT,
    Message,
    Peer,
    Progress,
    Sender,
    assert_history_matches_acks,
    catch_up_after_reconnects,
    log_in,
    start_conversation,
)

pytestmark = pytest.mark.fault

CONVERSATIONS = 3
KILLS = 3
ACKS_PER_SENDER_BETWEEN_KILLS = 12


def assert_database_clean(db_path: Path, acked: dict[str, Message], history_lengths: dict[str, int]) -> None:
    """Read the SQLite file directly: one row per client_id, seqs 1..last_seq, and nothing unacknowledged."""
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        duplicates = db.execute(
            "SELECT conversation_id, client_id, COUNT(*) FROM messages "
            "GROUP BY conversation_id, client_id HAVING COUNT(*) > 1"
        ).fetchall()
        rows = db.execute("SELECT conversation_id, seq, client_id, sender FROM messages").fetchall()
        last_seqs = dict(db.execute("SELECT id, last_seq FROM conversations").fetchall())
    assert duplicates == [], "a client_id is stored twice"
    stored_ours = sorted(
        (c, client_id) for c, _seq, client_id, sender in rows if sender in ("relative", "counsellor")
    )
    assert stored_ours == sorted((m["conversation_id"], client_id) for client_id, m in acked.items())
    assert last_seqs.keys() == history_lengths.keys()
    for conversation_id, last_seq in last_seqs.items():
        stored_seqs = sorted(seq for c, seq, _client_id, _sender in rows if c == conversation_id)
        assert stored_seqs == list(range(1, last_seq + 1)), f"stored seqs have gaps: {stored_seqs}"
        assert last_seq == history_lengths[conversation_id]


async def test_kill_nine_mid_stream_loses_and_duplicates_nothing(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(env={"KINLINE_CHAT__COUNSELLOR_CAPACITY": str(CONVERSATIONS)})
    password = server.add_user("fault-counsellor", "counsellor")
    progress = Progress()
    stop = asyncio.Event()

    staff_http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    await log_in(staff_http, server.url, "fault-counsellor", password)
    started = [await start_conversation(staff_http, server.url) for _ in range(CONVERSATIONS)]
    conversation_ids = [c["conversation_id"] for c in started]

    counsellor = Peer("/counsellor", progress, staff_http)
    await counsellor.connect(server.url)
    for conversation_id in conversation_ids:
        ack = await counsellor.call("claim", {"conversation_id": conversation_id})
        assert ack["ok"], ack

    relatives: list[Peer] = []
    senders: list[Sender] = []
    for index, conversation in enumerate(started):
        relative = Peer("/relative", progress)
        conversation_id = conversation["conversation_id"]

        def relative_auth(relative: Peer = relative, conversation: dict[str, str] = conversation) -> Message:
            cursor = relative.contiguous_seq(conversation["conversation_id"])
            return {"token": conversation["token"], "after_seq": cursor}

        await relative.connect(server.url, auth=relative_auth)
        relatives.append(relative)
        senders.append(Sender(f"relative-{index}", relative, conversation_id))
        senders.append(
            Sender(f"counsellor-{index}", counsellor, conversation_id, {"conversation_id": conversation_id})
        )
    peers = [counsellor, *relatives]

    catch_up = asyncio.create_task(
        catch_up_after_reconnects(counsellor, conversation_ids, stop, RECOVERY_TIMEOUT * (KILLS + 2))
    )
    streams = [asyncio.create_task(sender.run(stop)) for sender in senders]

    async def every_sender_streaming(what: str) -> None:
        for sender in senders:
            sender.acks_since_restart = 0
        await progress.until(
            lambda: (
                all(s.acks_since_restart >= ACKS_PER_SENDER_BETWEEN_KILLS for s in senders)
                or any(task.done() for task in streams)
            ),
            what,
        )
        for task in streams:
            if task.done():
                task.result()

    histories: dict[str, list[Message]] = {}
    try:
        await every_sender_streaming("every sender to stream before the first kill")
        for kill in range(1, KILLS + 1):
            server.kill()
            await asyncio.to_thread(server.start)
            await progress.until(
                lambda kill=kill: all(p.connects == kill + 1 for p in peers),
                f"every client to reconnect after kill {kill}",
            )
            await every_sender_streaming(f"every sender to stream again after kill {kill}")
        stop.set()
        progress.notify()
        await asyncio.wait_for(asyncio.gather(*streams, catch_up), RECOVERY_TIMEOUT)

        for conversation_id in conversation_ids:
            ack = await counsellor.call("history", {"conversation_id": conversation_id, "after_seq": 0})
            assert ack["ok"], ack
            histories[conversation_id] = ack["messages"]

        def every_view_complete() -> bool:
            return all(
                set(peer.seen.get(conversation_id, {})) == {m["seq"] for m in histories[conversation_id]}
                for conversation_id, relative in zip(conversation_ids, relatives, strict=True)
                for peer in (relative, counsellor)
            )

        await progress.until(every_view_complete, "the relatives' replay and the counsellor's catch-up")
    finally:
        stop.set()
        progress.notify()
        for task in [*streams, catch_up]:
            task.cancel()
        await asyncio.gather(*streams, catch_up, return_exceptions=True)
        for peer in peers:
            await peer.close()
        await staff_http.close()

    assert all(p.connects == KILLS + 1 for p in peers), "a client reconnected more or less often than killed"
    assert sum(s.resent for s in senders) > 0, "no message was in flight at a kill: resending went untested"
    acked = {client_id: m for s in senders for client_id, m in s.acked.items()}
    assert acked.keys() == {client_id for s in senders for client_id in s.created}, (
        "a message was never acked"
    )
    assert len(acked) >= len(senders) * ACKS_PER_SENDER_BETWEEN_KILLS * (KILLS + 1)

    for conversation_id, relative in zip(conversation_ids, relatives, strict=True):
        acked_here = [m for m in acked.values() if m["conversation_id"] == conversation_id]
        assert_history_matches_acks(histories[conversation_id], acked_here, [relative, counsellor])

    server.stop()
    assert_database_clean(server.db_path, acked, {c: len(h) for c, h in histories.items()})
