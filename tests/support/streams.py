"""Clients that stream messages through server deaths, shared by the fault tests
(tests/e2e/test_fault_kill.py, tests/e2e/test_node_loss.py).

Every sender keeps one message in flight. A message without an ack (the connection died under it) stays in
the sender's outbox and is sent again, with the same client_id, once the client has reconnected on its own.
Relatives reconnect with ``after_seq`` (their contiguous cursor) and get the rest replayed; the counsellor,
whose namespace has no connect cursor, catches up with ``history`` (``catch_up_after_reconnects``).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio

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
        """Returns once ``condition()`` holds, looked at again after every change."""

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
        #: The last ``status`` and ``queue`` the server pushed (None: none yet).
        self.last: dict[str, Any] = {"status": None, "queue": None}
        self._in_flight: set[asyncio.Future[Any]] = set()
        self.sio.on("connect", self._on_connect, namespace=namespace)
        self.sio.on("disconnect", self._on_disconnect, namespace=namespace)
        self.sio.on("message", self.record, namespace=namespace)
        for event in self.last:
            self.sio.on(event, self._keeper(event), namespace=namespace)

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

    def _keeper(self, event: str) -> Callable[[Any], Any]:
        async def keep(data: Any) -> None:
            self.last[event] = data
            self.progress.notify()

        return keep

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
    counsellor: Peer, conversation_ids: list[str], stop: asyncio.Event, timeout: float
) -> None:
    """After every reconnect of the counsellor, ask ``history`` from its contiguous seq per conversation."""
    handled = 1

    def reconnected_or_stopped() -> bool:
        return counsellor.connects > handled or stop.is_set()

    while True:
        await counsellor.progress.until(reconnected_or_stopped, "a reconnect", timeout)
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
