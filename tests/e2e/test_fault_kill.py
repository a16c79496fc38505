"""Fault test: kill -9 the server while relatives and a counsellor stream messages, restart it, and prove
that no acknowledged message is lost or stored twice.

Every sender keeps one message in flight. A message without an ack (the connection died under it) stays in
the sender's outbox and is sent again, with the same client_id, once the client has reconnected on its own.
Relatives reconnect with ``after_seq`` (their contiguous cursor) and get the rest replayed; the counsellor,
whose namespace has no connect cursor, catches up with ``history``.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from tests.support.server import ServerProcess

pytestmark = pytest.mark.fault

CONVERSATIONS = 3
KILLS = 3
ACKS_PER_SENDER_BETWEEN_KILLS = 12
ACK_TIMEOUT = 15.0
RECOVERY_TIMEOUT = 60.0
TEXT_MARKER = "fault-stream"

Message = dict[str, Any]


class ConnectionLost(Exception):
    """The socket dropped before the ack arrived: the message may or may not be stored."""


class Progress:
    """Wakes every waiter whenever anything observable changes, so the test waits on conditions."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()

    async def until(
        self, condition: Callable[[], bool], what: str, timeout: float = RECOVERY_TIMEOUT
    ) -> None:
        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None


class Peer:
    """One python-socketio client on one namespace. It reconnects by itself after the server dies, fails
    its in-flight calls as soon as the connection drops, and keeps every message it has seen by
    conversation and seq. Staff clients pass their logged-in HTTP session: its cookie jar sends the
    session cookie on every reconnect (python-socketio drops a ``Cookie`` header after the first connect)."""

    def __init__(self, namespace: str, progress: Progress, http: aiohttp.ClientSession | None = None) -> None:
        self.namespace = namespace
        self.progress = progress
        self.sio = socketio.AsyncClient(
            reconnection=True, reconnection_delay=0.1, reconnection_delay_max=0.5, http_session=http
        )
        self.connected = asyncio.Event()
        self.connects = 0
        self.seen: dict[str, dict[int, Message]] = {}
        self._in_flight: set[asyncio.Future[Any]] = set()
        self.sio.on("connect", self._on_connect, namespace=namespace)
        self.sio.on("disconnect", self._on_disconnect, namespace=namespace)
        self.sio.on("message", self.record, namespace=namespace)

    async def _on_connect(self) -> None:
        self.connects += 1
        self.connected.set()
        self.progress.notify()

    async def _on_disconnect(self, *_reason: Any) -> None:
        self.connected.clear()
        for future in self._in_flight:
            if not future.done():
                future.set_exception(ConnectionLost())
        self.progress.notify()

    async def record(self, message: Message) -> None:
        self.seen.setdefault(message["conversation_id"], {})[message["seq"]] = message
        self.progress.notify()

    def contiguous_seq(self, conversation_id: str) -> int:
        seqs = self.seen.get(conversation_id, {})
        return next(n for n in itertools.count() if n + 1 not in seqs)

    async def connect(self, url: str, **options: Any) -> None:
        await self.sio.connect(
            url, namespaces=[self.namespace], transports=["websocket"], wait_timeout=10, **options
        )

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Emit and wait for the ack; raises ConnectionLost when the connection is, or goes, down."""
        if not self.connected.is_set():
            raise ConnectionLost()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._in_flight.add(future)

        def on_ack(*args: Any) -> None:
            if not future.done():
                future.set_result(args[0] if args else None)

        try:
            await self.sio.emit(event, data, namespace=self.namespace, callback=on_ack)
            return dict(await asyncio.wait_for(future, ACK_TIMEOUT))
        except (socketio.exceptions.SocketIOError, TimeoutError):
            raise ConnectionLost() from None
        finally:
            self._in_flight.discard(future)

    async def wait_connected(self) -> None:
        try:
            await asyncio.wait_for(self.connected.wait(), RECOVERY_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"the {self.namespace} client did not reconnect") from None

    async def close(self) -> None:
        self.sio.reconnection = False
        await self.sio.disconnect()


@dataclass
class Outgoing:
    client_id: str
    text: str
    attempts: int = 0


@dataclass
class Sender:
    """Sends one message at a time into one conversation until stopped, and records every ack."""

    name: str
    peer: Peer
    conversation_id: str
    extra: dict[str, Any] = field(default_factory=dict)
    outbox: list[Outgoing] = field(default_factory=list)
    created: set[str] = field(default_factory=set)
    acked: dict[str, Message] = field(default_factory=dict)
    resent: int = 0
    acks_since_restart: int = 0
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def _new_message(self) -> Outgoing:
        client_id = str(uuid.uuid4())
        self.created.add(client_id)
        return Outgoing(client_id, f"{TEXT_MARKER} {self.name} #{next(self.counter)} {client_id}")

    async def run(self, stop: asyncio.Event) -> None:
        while self.outbox or not stop.is_set():
            if not self.outbox:
                self.outbox.append(self._new_message())
            entry = self.outbox[0]
            await self.peer.wait_connected()
            entry.attempts += 1
            self.resent += entry.attempts > 1
            payload = {**self.extra, "client_id": entry.client_id, "text": entry.text}
            try:
                ack = await self.peer.call("send_message", payload)
            except ConnectionLost:
                continue
            assert ack.get("ok"), f"{self.name}: send_message refused: {ack}"
            message = ack["message"]
            assert message["text"] == entry.text, f"{self.name}: the ack carries another message: {message}"
            assert message["conversation_id"] == self.conversation_id
            self.outbox.pop(0)
            self.acked[entry.client_id] = message
            self.acks_since_restart += 1
            await self.peer.record(message)


async def log_in(http: aiohttp.ClientSession, url: str, username: str, password: str) -> None:
    credentials = {"username": username, "password": password}
    async with http.post(f"{url}/api/auth/login", json=credentials) as response:
        assert response.status == 200, await response.text()


async def start_conversation(http: aiohttp.ClientSession, url: str) -> dict[str, str]:
    async with http.post(f"{url}/api/conversations", json={"language": "sv"}) as response:
        assert response.status == 201, await response.text()
        return dict(await response.json())


async def catch_up_after_reconnects(
    counsellor: Peer, conversation_ids: list[str], stop: asyncio.Event
) -> None:
    """After every reconnect of the counsellor, ask ``history`` from its contiguous seq per conversation."""
    handled = 1

    def reconnected_or_stopped() -> bool:
        return counsellor.connects > handled or stop.is_set()

    while True:
        await counsellor.progress.until(reconnected_or_stopped, "a reconnect", RECOVERY_TIMEOUT * (KILLS + 2))
        if counsellor.connects == handled:
            return
        handled = counsellor.connects
        for conversation_id in conversation_ids:
            cursor = counsellor.contiguous_seq(conversation_id)
            try:
                ack = await counsellor.call(
                    "history", {"conversation_id": conversation_id, "after_seq": cursor}
                )
            except ConnectionLost:
                break
            assert ack["ok"], ack
            for message in ack["messages"]:
                await counsellor.record(message)


def assert_history_matches_acks(history: list[Message], acked: list[Message], views: list[Peer]) -> None:
    seqs = [m["seq"] for m in history]
    assert seqs == list(range(1, len(history) + 1)), f"seqs have gaps or duplicates: {seqs}"
    ours = [m for m in history if m["text"].startswith(TEXT_MARKER)]
    texts = [m["text"] for m in ours]
    assert len(texts) == len(set(texts)), "a message is in the history twice"
    expected = {m["text"]: m for m in acked}
    assert set(texts) == set(expected), "the history and the acknowledged messages differ"
    for message in ours:
        assert expected[message["text"]] == message, "a message changed between its ack and the history"
    for view in views:
        conversation_id = history[0]["conversation_id"]
        seen = [view.seen[conversation_id][seq]["text"] for seq in seqs]
        assert seen == [m["text"] for m in history], f"the {view.namespace} client saw another conversation"


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

    catch_up = asyncio.create_task(catch_up_after_reconnects(counsellor, conversation_ids, stop))
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
