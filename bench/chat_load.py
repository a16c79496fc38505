"""Load generator for Kinline (or bench/bare_relay.py) over the real HTTP + Socket.IO protocol.

Scenarios, each bounded in time and loopback-only:

  throughput  relatives send as fast as acks allow; sustained msg/s, ack and delivery latency,
              lost (acked, never delivered) and duplicated messages
  paced       a fixed message rate across many conversations; the same latency figures
  idle        many connected relatives, half waiting in the queue; server RSS per connection,
              then claims from the front and times every waiting relative's position update
  reconnect   relatives drop and reconnect with after_seq while counsellors keep sending;
              every counsellor message must arrive exactly once
  churn       active conversations at a fixed rate both ways while a counsellor claims the
              head of a long queue once a second; delivery latency, and the time until every
              waiting relative's position (derived from `queue` and `status`) is right

The load runs in --procs worker processes (spawned). Each holds a slice of the conversations
and some of the --counsellors counsellor sockets, which claim that slice between them. Against
Kinline every counsellor socket logs in as its own account: --username "bench-{i}" becomes
bench-0, bench-1, ... (Kinline sends a message to every socket of the holding account). Without
--username nobody logs in (the bare relay).

Sockets use bench/raw_socketio.py, a lean client that leaves the CPU to the server, unless
--client python-socketio asks for python-socketio's AsyncClient (the figures before it existed).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import contextlib
import json
import logging
import math
import multiprocessing
import random
import resource
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import psutil
import raw_socketio
import socketio

RELATIVE = "/relative"
COUNSELLOR = "/counsellor"
TEXT_TAG = "bench"
CLIENTS = ("raw", "python-socketio")


# ---------------------------------------------------------------------------------------- figures


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_values) + 0.4999))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def distribution(values: Iterable[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else float("nan"),
    }


def format_distribution(name: str, figures: dict[str, float], unit: str = "ms") -> str:
    return (
        f"{name:<22} p50 {figures['p50']:8.1f} {unit}  p95 {figures['p95']:8.1f} {unit}"
        f"  p99 {figures['p99']:8.1f} {unit}  max {figures['max']:8.1f} {unit}"
        f"  (n={figures['count']})"
    )


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def message_text(client_id: str) -> str:
    """The send time travels in the text so any process on this machine can time delivery."""
    return f"{TEXT_TAG}|{time.monotonic_ns()}|{client_id}"


def parse_text(text: str) -> tuple[int, str] | None:
    parts = text.split("|")
    if len(parts) != 3 or parts[0] != TEXT_TAG:
        return None
    return int(parts[1]), parts[2]


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def new_event_loop() -> asyncio.AbstractEventLoop:
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


# ------------------------------------------------------------------------------------ the sides


@dataclass(eq=False)
class Relative:
    """One anonymous relative: its conversation and everything it received, across reconnects.

    With `queue_events` it connects with `"queue_events": 1` and keeps its place in the queue by
    the client rule of docs/protocol.md ("Queue positions, version 2"): a personal `status` sets
    position, line and round; a `queue` broadcast of the next round moves the position by what
    was vacated and inserted before it; after a gap in the rounds it asks `queue_status`.
    A status without a round stops the derivation until a labelled one (Kinline sends one in its
    next round). Without queue_events, the last `status` is the position. `statuses` logs
    (time, state, position) at every status and every change the broadcasts make."""

    conversation_id: str
    token: str
    queue_events: bool = False
    client: SocketClient | None = None
    statuses: list[tuple[float, str, int | None]] = field(default_factory=list)
    seq_counts: collections.Counter[int] = field(default_factory=collections.Counter)
    contiguous_seq: int = 0
    out_of_order: int = 0
    connection: int = 0
    lost_connections: int = 0
    state: str | None = None
    position: int | None = None
    line: str | None = None
    round: int | None = None
    estimated_wait: int | None = None
    status_events: int = 0
    queue_events_seen: int = 0
    resyncs: int = 0
    resyncing: bool = False
    held_back: list[dict[str, Any]] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    delivered: collections.Counter[str] = field(default_factory=collections.Counter)
    deliveries: list[tuple[int, float]] = field(default_factory=list)

    def handlers(self) -> dict[str, Callable[[Any], None]]:
        """Handlers for a new connection; they go deaf once it is dropped, so frames still
        buffered in a cut connection count as lost, as they would be on a real network."""
        self.connection += 1
        current = self.connection

        def live(handler: Callable[[Any], None]) -> Callable[[Any], None]:
            return lambda data: handler(data) if self.connection == current else None

        return {
            "status": live(self.on_status),
            "queue": live(self.on_queue),
            "message": live(self.on_message),
            "disconnect": live(self.on_disconnect),
        }

    def auth(self) -> dict[str, Any]:
        auth: dict[str, Any] = {"token": self.token, "after_seq": self.contiguous_seq}
        if self.queue_events:
            auth["queue_events"] = 1
        return auth

    def on_disconnect(self, reason: Any) -> None:
        if reason != raw_socketio.Reason.CLIENT_DISCONNECT:
            self.lost_connections += 1

    def on_status(self, data: dict[str, Any]) -> None:
        self.status_events += 1
        self.take_status(data)

    def take_status(self, data: dict[str, Any]) -> None:
        status_round = data.get("round")
        self.state = data.get("state")
        self.position = data.get("queue_position")
        self.estimated_wait = data.get("estimated_wait_seconds")
        self.line = data.get("line")
        # Without a round (on connect, a queue_status answer, an old server) the position stands
        # but nothing is derived from broadcasts until a status labelled with a round comes.
        self.round = status_round
        self.statuses.append((time.monotonic(), str(self.state), self.position))

    def on_queue(self, data: dict[str, Any]) -> None:
        self.queue_events_seen += 1
        if self.resyncing:
            self.held_back.append(data)
        else:
            self.apply_queue(data)

    def apply_queue(self, data: dict[str, Any]) -> None:
        queue_round = int(data["round"])
        if self.state != "waiting" or self.round is None or self.position is None:
            return
        if queue_round <= self.round:
            return
        if queue_round > self.round + 1:
            self.held_back.append(data)
            self.resync()
            return
        self.round = queue_round
        change = data["views"].get(self.line) if self.line is not None else None
        if change is not None:
            position = self.position - sum(1 for v in change["vacated"] if v < self.position)
            moved = 0
            for inserted in change["inserted"]:
                if inserted <= position + moved:
                    moved += 1
            position += moved
            self.estimated_wait = math.floor(float(data["wait_per_position"]) * position)
            if position != self.position:
                self.position = position
                self.statuses.append((time.monotonic(), "waiting", position))

    def resync(self) -> None:
        """A round was missed: ask for the status, then apply what arrived meanwhile."""
        if self.resyncing or self.client is None:
            return
        self.resyncing = True
        self.resyncs += 1
        task = asyncio.get_running_loop().create_task(self._resync(self.client))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _resync(self, client: SocketClient) -> None:
        try:
            ack = await client.call("queue_status", {}, timeout=30)
            if isinstance(ack, dict) and ack.get("ok"):
                self.take_status(ack["status"])
        except Exception:
            pass
        finally:
            self.resyncing = False
            held, self.held_back = sorted(self.held_back, key=lambda d: int(d["round"])), []
            for data in held:
                if self.resyncing:
                    self.held_back.append(data)
                else:
                    self.apply_queue(data)

    def on_message(self, message: dict[str, Any]) -> None:
        received_ns = time.monotonic_ns()
        seq = int(message["seq"])
        self.seq_counts[seq] += 1
        if seq > self.contiguous_seq + 1:
            self.out_of_order += 1
        while self.seq_counts[self.contiguous_seq + 1]:
            self.contiguous_seq += 1
        parsed = parse_text(str(message.get("text", "")))
        if message.get("sender") == "counsellor" and parsed is not None:
            sent_ns, client_id = parsed
            self.delivered[client_id] += 1
            if self.delivered[client_id] == 1:
                self.deliveries.append((sent_ns, (received_ns - sent_ns) / 1e6))

    def current_position(self) -> int | None:
        return self.position if self.state == "waiting" else None

    def drop(self) -> None:
        """Cut the TCP connection under the socket, as a phone losing its network would."""
        client, self.client = self.client, None
        self.connection += 1
        if client is not None:
            client.cut()


@dataclass(eq=False)
class Counsellor:
    """A counsellor socket; it times relative messages of the conversations it claimed."""

    username: str | None = None
    cookie: str | None = None
    client: SocketClient | None = None
    conversations: set[str] = field(default_factory=set)
    delivered: collections.Counter[str] = field(default_factory=collections.Counter)
    deliveries: list[tuple[int, float]] = field(default_factory=list)
    foreign: int = 0

    def on_message(self, message: dict[str, Any]) -> None:
        received_ns = time.monotonic_ns()
        if message.get("conversation_id") not in self.conversations:
            self.foreign += 1
            return
        parsed = parse_text(str(message.get("text", "")))
        if message.get("sender") != "relative" or parsed is None:
            return
        sent_ns, client_id = parsed
        self.delivered[client_id] += 1
        if self.delivered[client_id] == 1:
            self.deliveries.append((sent_ns, (received_ns - sent_ns) / 1e6))


class PythonSocketioClient:
    """python-socketio's AsyncClient behind raw_socketio.Client's interface (--client python-socketio)."""

    def __init__(self, session: aiohttp.ClientSession, namespace: str) -> None:
        self.session = session
        self.namespace = namespace
        self.handlers: dict[str, Callable[..., Any]] = {}
        self.client: socketio.AsyncClient | None = None

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    def on(self, event: str, handler: Callable[..., Any]) -> None:
        self.handlers[event] = handler

    async def connect(
        self, url: str, auth: Any = None, headers: dict[str, str] | None = None, timeout: float = 30.0
    ) -> None:
        self.client = socketio.AsyncClient(
            reconnection=False, handle_sigint=False, http_session=self.session, request_timeout=timeout
        )
        for event, handler in self.handlers.items():
            self.client.on(event, handler, namespace=self.namespace)
        await self.client.connect(
            url,
            headers=headers or {},
            auth=auth,
            namespaces=[self.namespace],
            transports=["websocket"],
            wait_timeout=timeout,
        )

    async def emit(self, event: str, data: Any, callback: Callable[..., Any] | None = None) -> None:
        assert self.client is not None
        await self.client.emit(event, data, namespace=self.namespace, callback=callback)

    async def call(self, event: str, data: Any, timeout: float = 60.0) -> Any:
        assert self.client is not None
        try:
            return await self.client.call(event, data, namespace=self.namespace, timeout=timeout)
        except socketio.exceptions.TimeoutError as exc:
            raise raw_socketio.CallTimeout(f"no ack for {event} within {timeout} s") from exc

    async def disconnect(self) -> None:
        if self.client is not None:
            await self.client.disconnect()

    def cut(self) -> None:
        ws = self.client.eio.ws if self.client is not None else None
        if ws is not None:
            raw_socketio.cut_connection(ws)


SocketClient = raw_socketio.Client | PythonSocketioClient


class Protocol:
    """HTTP calls and Socket.IO connections of one worker process."""

    def __init__(self, url: str, timeout: float, client: str = "raw") -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.client = client
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
        self.counsellor_sessions: list[aiohttp.ClientSession] = []

    async def close(self) -> None:
        for session in [self.session, *self.counsellor_sessions]:
            await session.close()

    async def create_conversation(self, queue_events: bool = False) -> Relative:
        async with self.session.post(f"{self.url}/api/conversations", json={"language": "sv"}) as response:
            body = await response.json()
            if response.status != 201:
                raise RuntimeError(f"POST /api/conversations -> {response.status} {body}")
        return Relative(body["conversation_id"], body["token"], queue_events)

    async def login(self, username: str, password: str) -> str:
        """Return the session cookie as a Cookie header value."""
        async with self.session.post(
            f"{self.url}/api/auth/login", json={"username": username, "password": password}
        ) as response:
            if response.status != 200:
                raise RuntimeError(f"login as {username} -> {response.status}")
            return "; ".join(f"{name}={morsel.value}" for name, morsel in response.cookies.items())

    def new_client(self, namespace: str, cookie: str | None) -> SocketClient:
        if self.client == "raw":
            return raw_socketio.Client(self.session, namespace)
        session = self.session
        if cookie:
            # python-socketio moves the cookie into its session's jar: a counsellor needs its own.
            session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            self.counsellor_sessions.append(session)
        return PythonSocketioClient(session, namespace)

    async def connect(
        self,
        namespace: str,
        handlers: dict[str, Callable[[Any], None]],
        auth: dict[str, Any] | None = None,
        cookie: str | None = None,
    ) -> SocketClient:
        client = self.new_client(namespace, cookie)
        for event, handler in handlers.items():
            client.on(event, handler)
        await client.connect(
            self.url, auth=auth, headers={"Cookie": cookie} if cookie else None, timeout=self.timeout
        )
        return client

    async def connect_relative(self, relative: Relative) -> None:
        relative.client = await self.connect(RELATIVE, relative.handlers(), auth=relative.auth())


async def disconnect(client: SocketClient | None) -> None:
    if client is None:
        return
    with contextlib.suppress(Exception):
        await client.disconnect()


async def bounded(concurrency: int, jobs: Iterable[Callable[[], Any]]) -> list[Any]:
    """Run coroutine factories with at most `concurrency` at once; exceptions are returned."""
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Callable[[], Any]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(run(job) for job in jobs), return_exceptions=True)


# -------------------------------------------------------------------------------------- worker


class Worker:
    """One load process. The parent drives it phase by phase with `cmd_*` calls over a pipe."""

    def __init__(self, index: int, options: argparse.Namespace) -> None:
        self.index = index
        self.options = options
        self.protocol = Protocol(options.url, options.timeout, options.client)
        self.relatives: list[Relative] = []
        self.waiting: list[Relative] = []  # churn: the waiting relatives, in the order created
        self.counsellors = [Counsellor(username) for username in account_names(options, index)]
        self.holder: dict[str, Counsellor] = {}
        self.errors: collections.Counter[str] = collections.Counter()

    async def serve(self, conn: Any) -> None:
        while True:
            command, kwargs = await asyncio.to_thread(conn.recv)
            try:
                result = await getattr(self, f"cmd_{command}")(**kwargs)
            except Exception:
                result = {"exception": traceback.format_exc()}
            conn.send(result)
            if command == "close":
                return

    # ---- setup

    async def cmd_login(self) -> None:
        for counsellor in self.counsellors:
            if counsellor.username and counsellor.cookie is None:
                counsellor.cookie = await self.protocol.login(counsellor.username, self.options.password)

    async def cmd_connect_counsellors(self, count: int | None = None) -> None:
        await self.cmd_login()
        for counsellor in self.counsellors[:count]:
            counsellor.client = await self.protocol.connect(
                COUNSELLOR, {"message": counsellor.on_message}, cookie=counsellor.cookie
            )

    async def cmd_drop_counsellors(self) -> None:
        for counsellor in self.counsellors:
            await disconnect(counsellor.client)
            counsellor.client = None

    async def claim(self, conversation_id: str, counsellor: Counsellor) -> dict[str, Any]:
        assert counsellor.client is not None
        ack = await counsellor.client.call(
            "claim", {"conversation_id": conversation_id}, timeout=self.options.timeout
        )
        if not ack.get("ok"):
            raise RuntimeError(f"claim -> {ack.get('error')}")
        counsellor.conversations.add(conversation_id)
        self.holder[conversation_id] = counsellor
        return ack

    async def cmd_create(self, count: int, claim: bool, connect: bool) -> dict[str, Any]:
        """Create conversations; optionally claim each at once and connect its relative."""

        async def one(counsellor: Counsellor) -> None:
            relative = await self.protocol.create_conversation(self.options.queue_events)
            if claim:
                await self.claim(relative.conversation_id, counsellor)
            if connect:
                await self.protocol.connect_relative(relative)
            self.relatives.append(relative)

        started = time.monotonic()
        holders = [self.counsellors[k % len(self.counsellors)] for k in range(count)]
        outcomes = await bounded(self.options.concurrency, [lambda c=holder: one(c) for holder in holders])
        failures = [repr(outcome) for outcome in outcomes if isinstance(outcome, Exception)]
        return {
            "created": count - len(failures),
            "seconds": time.monotonic() - started,
            "failures": failures[:5],
            "failed": len(failures),
        }

    async def cmd_connect_relatives(self) -> dict[str, Any]:
        started = time.monotonic()
        pending = [relative for relative in self.relatives if relative.client is None]
        outcomes = await bounded(
            self.options.concurrency,
            [lambda relative=relative: self.protocol.connect_relative(relative) for relative in pending],
        )
        failures = [repr(outcome) for outcome in outcomes if isinstance(outcome, Exception)]
        return {
            "connected": len(pending) - len(failures),
            "seconds": time.monotonic() - started,
            "failures": failures[:5],
            "failed": len(failures),
        }

    async def cmd_create_waiting(self, count: int) -> dict[str, Any]:
        """Create conversations one after another and leave them waiting, so that their order
        in the queue is the order of `self.waiting`."""
        started = time.monotonic()
        for _ in range(count):
            self.waiting.append(await self.protocol.create_conversation(self.options.queue_events))
        return {"ids": [r.conversation_id for r in self.waiting], "seconds": time.monotonic() - started}

    async def cmd_connect_waiting(self) -> dict[str, Any]:
        started = time.monotonic()
        outcomes = await bounded(
            self.options.concurrency,
            [lambda relative=relative: self.protocol.connect_relative(relative) for relative in self.waiting],
        )
        failures = [repr(outcome) for outcome in outcomes if isinstance(outcome, Exception)]
        return {
            "connected": len(self.waiting) - len(failures),
            "seconds": time.monotonic() - started,
            "failures": failures[:5],
            "failed": len(failures),
        }

    async def cmd_waiting_positions(self) -> list[int | None]:
        return [relative.current_position() for relative in self.waiting]

    async def cmd_waiting_log(self) -> dict[str, Any]:
        return {
            "logs": [relative.statuses for relative in self.waiting],
            "status_events": sum(r.status_events for r in self.waiting),
            "queue_events": sum(r.queue_events_seen for r in self.waiting),
            "resyncs": sum(r.resyncs for r in self.waiting),
            "lost": sum(r.lost_connections for r in self.waiting),
        }

    async def cmd_close(self) -> None:
        everyone = self.relatives + self.waiting
        await bounded(64, [lambda r=r: disconnect(r.client) for r in everyone])
        await self.cmd_drop_counsellors()
        await self.protocol.close()

    # ---- relatives sending

    async def send_until_acked(self, relative: Relative, client_id: str, text: str) -> dict[str, Any] | None:
        """Send one message, resending the same client_id on timeout, as a real client does."""
        assert relative.client is not None
        payload = {"client_id": client_id, "text": text}
        for _ in range(self.options.attempts):
            try:
                return await relative.client.call("send_message", payload, timeout=self.options.timeout)
            except raw_socketio.CallTimeout:
                self.errors["ack_timeout_retried"] += 1
        self.errors["gave_up"] += 1
        return None

    async def cmd_throughput(self, start_at: float, duration: float) -> dict[str, Any]:
        acks: list[tuple[int, float]] = []
        acked: set[str] = set()
        end_at = start_at + duration

        async def closed_loop(relative: Relative) -> None:
            await sleep_until(start_at)
            while time.monotonic() < end_at:
                client_id = str(uuid.uuid4())
                text = message_text(client_id)
                sent_ns = parse_text(text)[0]  # type: ignore[index]
                ack = await self.send_until_acked(relative, client_id, text)
                if ack is None:
                    return
                if not ack.get("ok"):
                    self.errors[str(ack.get("error", {}).get("code"))] += 1
                    return
                acks.append((sent_ns, (time.monotonic_ns() - sent_ns) / 1e6))
                acked.add(client_id)

        await asyncio.gather(*(closed_loop(relative) for relative in self.relatives))
        last_ack = time.monotonic()
        return await self.delivery_report(acks, acked, start_at, last_ack, sent=len(acked))

    async def cmd_paced(
        self, start_at: float, duration: float, rate: float, both_ways: bool = False
    ) -> dict[str, Any]:
        """Open loop: each conversation sends on its own fixed schedule, acked or not; with
        `both_ways` its relative and its counsellor take turns."""
        acks: list[tuple[int, float]] = []
        acked: set[str] = set()
        acked_back: set[str] = set()
        lags: list[float] = []
        sent = 0
        total = self.options.conversations
        interval = total / rate
        end_at = start_at + duration

        def on_ack(client_id: str, sent_ns: int, into: set[str], ack: dict[str, Any]) -> None:
            if not ack.get("ok"):
                self.errors[str(ack.get("error", {}).get("code"))] += 1
                return
            acks.append((sent_ns, (time.monotonic_ns() - sent_ns) / 1e6))
            into.add(client_id)

        async def open_loop(relative: Relative, slot: int) -> None:
            nonlocal sent
            assert relative.client is not None
            counsellor = self.holder[relative.conversation_id].client
            due = start_at + interval * slot / total
            turn = slot
            while due < end_at:
                await sleep_until(due)
                lags.append((time.monotonic() - due) * 1000)
                client_id = str(uuid.uuid4())
                text = message_text(client_id)
                sent_ns = parse_text(text)[0]  # type: ignore[index]
                if both_ways and turn % 2 and counsellor is not None:
                    await counsellor.emit(
                        "send_message",
                        {"conversation_id": relative.conversation_id, "client_id": client_id, "text": text},
                        callback=lambda ack, c=client_id, s=sent_ns: on_ack(c, s, acked_back, ack),
                    )
                else:
                    await relative.client.emit(
                        "send_message",
                        {"client_id": client_id, "text": text},
                        callback=lambda ack, c=client_id, s=sent_ns: on_ack(c, s, acked, ack),
                    )
                sent += 1
                turn += 1
                due += interval

        first_slot = sum(split(total, self.options.procs)[: self.index])
        await asyncio.gather(*(open_loop(r, first_slot + slot) for slot, r in enumerate(self.relatives)))
        await self.wait_for(lambda: len(acks) + sum(self.errors.values()) >= sent)
        last_ack = time.monotonic()
        report = await self.delivery_report(acks, acked, start_at, last_ack, sent=sent, acked_back=acked_back)
        report["send_lag_ms"] = lags
        return report

    async def cmd_churn(
        self,
        start_at: float,
        duration: float,
        rate: float,
        claims: list[str],
        claim_interval: float,
    ) -> dict[str, Any]:
        """Messages both ways at `rate` in all while (worker 0) a counsellor claims `claims` in
        order, `claim_interval` apart, from half an interval after the start."""

        async def claim_in_order() -> list[tuple[float, float, bool]]:
            times = []
            await sleep_until(start_at + claim_interval / 2)
            for conversation_id in claims:
                sent = time.monotonic()
                try:
                    await self.claim(conversation_id, self.counsellors[0])
                    ok = True
                except Exception as exc:
                    self.errors[f"claim: {exc}"] += 1
                    ok = False
                times.append((sent, time.monotonic(), ok))
                await sleep_until(sent + claim_interval)
            return times

        claimer = asyncio.create_task(claim_in_order())
        report = await self.cmd_paced(start_at, duration, rate, both_ways=True)
        report["claim_times"] = await claimer
        return report

    async def wait_for(self, condition: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + self.options.grace
        while not condition():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def delivery_report(
        self,
        acks: list[tuple[int, float]],
        acked: set[str],
        start_at: float,
        last_ack: float,
        sent: int,
        acked_back: set[str] | None = None,
    ) -> dict[str, Any]:
        """`acked`: sent by relatives, due at their counsellor; `acked_back`: sent by
        counsellors, due at their relative."""
        acked_back = acked_back or set()
        delivered: collections.Counter[str] = collections.Counter()

        def all_delivered() -> bool:
            delivered.clear()
            for counsellor in self.counsellors:
                delivered.update(counsellor.delivered)
            for relative in self.relatives:
                delivered.update(relative.delivered)
            return all(delivered[client_id] for client_id in acked | acked_back)

        await self.wait_for(all_delivered)
        return {
            "sent": sent,
            "acked": len(acked) + len(acked_back),
            "start_at": start_at,
            "last_ack": last_ack,
            "acks": acks,
            "deliveries": [d for counsellor in self.counsellors for d in counsellor.deliveries]
            + [d for relative in self.relatives for d in relative.deliveries],
            "lost": sum(1 for client_id in acked | acked_back if not delivered[client_id]),
            "duplicates": sum(count - 1 for count in delivered.values() if count > 1),
            "foreign": sum(counsellor.foreign for counsellor in self.counsellors),
            "errors": dict(self.errors),
        }

    # ---- idle

    async def cmd_health(self) -> dict[str, int]:
        """Relatives still connected, and connections the server or a heartbeat ended."""
        return {
            "open": sum(1 for r in self.relatives if r.client is not None and r.client.connected),
            "lost": sum(r.lost_connections for r in self.relatives),
        }

    async def cmd_positions(self) -> dict[str, int]:
        positions = {r.conversation_id: r.current_position() for r in self.relatives}
        return {conversation: p for conversation, p in positions.items() if p is not None}

    async def cmd_claim_in_order(
        self, conversation_ids: list[str], interval: float
    ) -> list[tuple[float, float]]:
        """Claim one after another, `interval` apart; return (sent, acked) monotonic times."""
        times = []
        for conversation_id in conversation_ids:
            sent = time.monotonic()
            await self.claim(conversation_id, self.counsellors[0])
            times.append((sent, time.monotonic()))
            await sleep_until(sent + interval)
        return times

    async def cmd_status_log(self, since: float) -> dict[str, list[tuple[float, str, int | None]]]:
        return {
            r.conversation_id: [entry for entry in r.statuses if entry[0] >= since] for r in self.relatives
        }

    # ---- reconnect

    async def cmd_reconnect(
        self, start_at: float, drop_at: float, spread: float, window: float, rate: float
    ) -> dict[str, Any]:
        acked: dict[str, set[int]] = collections.defaultdict(set)
        pending = 0
        stop_sending = asyncio.Event()
        rate_here = rate * len(self.relatives) / self.options.conversations

        def on_ack(conversation_id: str, ack: dict[str, Any]) -> None:
            nonlocal pending
            pending -= 1
            if ack.get("ok"):
                acked[conversation_id].add(int(ack["message"]["seq"]))
            else:
                self.errors[str(ack.get("error", {}).get("code"))] += 1

        async def keep_sending() -> None:
            nonlocal pending
            due = start_at
            for relative in self.cycle(self.relatives):
                if stop_sending.is_set():
                    return
                await sleep_until(due)
                pending += 1
                counsellor = self.holder[relative.conversation_id].client
                assert counsellor is not None
                await counsellor.emit(
                    "send_message",
                    {
                        "conversation_id": relative.conversation_id,
                        "client_id": str(uuid.uuid4()),
                        "text": "counsellor message",
                    },
                    callback=lambda ack, c=relative.conversation_id: on_ack(c, ack),
                )
                due += 1 / rate_here

        async def reconnect(relative: Relative) -> tuple[float, float] | None:
            """Seconds from the drop until back, and from the first attempt until back."""
            first_attempt = drop_at + random.uniform(0, spread)
            await sleep_until(first_attempt)
            while time.monotonic() < drop_at + window:
                try:
                    await self.protocol.connect_relative(relative)
                    return time.monotonic() - drop_at, time.monotonic() - first_attempt
                except Exception as exc:
                    self.errors[f"reconnect: {type(exc).__name__}"] += 1
                    await asyncio.sleep(0.5)
            return None

        sender = asyncio.create_task(keep_sending())
        await sleep_until(drop_at)
        old_clients = [relative.client for relative in self.relatives]
        for relative in self.relatives:
            relative.drop()
        reconnected = await asyncio.gather(*(reconnect(r) for r in self.relatives))
        await asyncio.sleep(self.options.tail)
        stop_sending.set()
        await sender
        await self.wait_for(lambda: pending == 0)

        came_back = [r for r, times in zip(self.relatives, reconnected, strict=True) if times]

        def missed(relatives: list[Relative]) -> int:
            return sum(
                1
                for relative in relatives
                for seq in acked[relative.conversation_id]
                if not relative.seq_counts[seq]
            )

        await self.wait_for(lambda: missed(came_back) == 0)
        await bounded(64, [lambda c=c: disconnect(c) for c in old_clients])
        return {
            "clients": len(self.relatives),
            "reconnected": [times for times in reconnected if times is not None],
            "not_reconnected": sum(1 for times in reconnected if times is None or times[0] > window),
            "acked": sum(len(seqs) for seqs in acked.values()),
            "unacked": pending,
            "missed": missed(self.relatives),
            "missed_by_those_back": missed(came_back),
            "duplicated": sum(
                count - 1 for r in self.relatives for count in r.seq_counts.values() if count > 1
            ),
            "gaps": sum(max(r.seq_counts, default=0) - len(r.seq_counts) for r in self.relatives),
            "out_of_order": sum(r.out_of_order for r in self.relatives),
            "errors": dict(self.errors),
        }

    @staticmethod
    def cycle(items: list[Relative]) -> Iterable[Relative]:
        while True:
            yield from items


def account_names(options: argparse.Namespace, worker: int) -> list[str | None]:
    """The counsellor accounts of one worker: every procs-th of --counsellors, from `worker`;
    none for the churn scenario's processes of waiting relatives (after the first --procs)."""
    indices = range(worker, options.counsellors, options.procs) if worker < options.procs else range(0)
    if not options.username:
        return [None for _ in indices]
    return [options.username.replace("{i}", str(index)) for index in indices]


async def serve_worker(index: int, options: argparse.Namespace, conn: Any) -> None:
    await Worker(index, options).serve(conn)


def worker_process(index: int, options: argparse.Namespace, conn: Any) -> None:
    raise_fd_limit()
    # A client whose server missed its heartbeats logs "packet queue is empty" once per
    # connection; those drops are counted as lost connections instead.
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(serve_worker(index, options, conn))
    finally:
        loop.close()


# -------------------------------------------------------------------------------------- parent


def waiting_procs(options: argparse.Namespace) -> int:
    return options.waiting_procs if options.scenario == "churn" else 0


class WorkerPool:
    def __init__(self, options: argparse.Namespace) -> None:
        context = multiprocessing.get_context("spawn")
        self.conns = []
        self.processes = []
        for index in range(options.procs + waiting_procs(options)):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=worker_process, args=(index, options, child_end), daemon=True)
            process.start()
            self.conns.append(parent_end)
            self.processes.append(process)

    async def call(self, index: int, command: str, **kwargs: Any) -> Any:
        try:
            self.conns[index].send((command, kwargs))
            result = await asyncio.to_thread(self.conns[index].recv)
        except (EOFError, OSError) as exc:
            raise RuntimeError(f"worker {index} died during {command}") from exc
        if isinstance(result, dict) and "exception" in result:
            raise RuntimeError(f"worker {index} {command}:\n{result['exception']}")
        return result

    async def call_all(
        self, command: str, per_worker: Sequence[dict[str, Any]] | None = None, **kwargs: Any
    ) -> list[Any]:
        return await self.call_some(range(len(self.conns)), command, per_worker, **kwargs)

    async def call_some(
        self,
        indices: Sequence[int],
        command: str,
        per_worker: Sequence[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        arguments = per_worker or [kwargs] * len(indices)
        return await asyncio.gather(
            *(self.call(index, command, **args) for index, args in zip(indices, arguments, strict=True))
        )

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.call_all("close"), 60)
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()


@dataclass
class CpuSnapshot:
    at: float
    server: float
    load: list[float]
    machine: Any


class Probe:
    """CPU of the server process tree (--server-pid), of the load processes and of the whole
    machine over one window, and the server's RSS."""

    def __init__(self, server_pid: int | None, pool: WorkerPool) -> None:
        self.server = psutil.Process(server_pid) if server_pid else None
        self.load = [psutil.Process(process.pid) for process in pool.processes]

    def server_tree(self) -> list[Any]:
        if self.server is None:
            return []
        return [self.server, *self.server.children(recursive=True)]

    def rss(self) -> int | None:
        return sum(p.memory_info().rss for p in self.server_tree()) if self.server else None

    @staticmethod
    def cpu_seconds(process: Any) -> float:
        return float(sum(process.cpu_times()[:2]))

    def snapshot(self) -> CpuSnapshot:
        return CpuSnapshot(
            time.monotonic(),
            sum(self.cpu_seconds(p) for p in self.server_tree()),
            [self.cpu_seconds(p) for p in self.load],
            psutil.cpu_times(),
        )

    def figures(self, before: CpuSnapshot) -> dict[str, Any]:
        """Percentages where 100 is one core, except machine_percent (100 = every core)."""
        now = self.snapshot()
        wall = now.at - before.at
        cores = psutil.cpu_count() or 1

        def busy(times: Any) -> float:
            return float(sum(times) - times.idle - times.iowait)

        machine = 100 * (busy(now.machine) - busy(before.machine)) / wall
        load = [100 * (a - b) / wall for a, b in zip(now.load, before.load, strict=True)]
        server = 100 * (now.server - before.server) / wall if self.server else None
        return {
            "server_core_percent": server,
            "load_core_percent": load,
            "others_core_percent": machine - sum(load) - server if server is not None else None,
            "machine_percent": machine / cores,
        }


def describe_cpu(figures: dict[str, Any]) -> str:
    server, others = figures["server_core_percent"], figures["others_core_percent"]
    load = ", ".join(f"{percent:.0f}%" for percent in figures["load_core_percent"])
    text = f"CPU (100% = one core): server {server:.0f}%," if server is not None else "CPU:"
    text += f" load process(es) {load}"
    if others is not None:
        text += f", other processes on the machine {others:.0f}%"
    return text + f"; machine {figures['machine_percent']:.0f}% busy of {psutil.cpu_count()} cores"


def wait_for_quiet(limit: float, patience: float) -> None:
    """Shared machine: wait until other processes leave the CPU mostly idle, or give up."""
    deadline = time.monotonic() + patience
    while True:
        busy = psutil.cpu_percent(interval=3)
        if busy <= limit or time.monotonic() > deadline:
            print(f"machine {busy:.0f}% busy before the run (limit {limit:.0f}%)")
            return
        print(f"machine {busy:.0f}% busy, waiting for it to drop below {limit:.0f}%")


def merged_errors(results: list[dict[str, Any]]) -> dict[str, int]:
    errors: collections.Counter[str] = collections.Counter()
    for result in results:
        errors.update(result["errors"])
    return dict(errors)


async def setup_claimed(pool: WorkerPool, options: argparse.Namespace) -> None:
    senders = range(options.procs)
    await pool.call_some(senders, "connect_counsellors")
    sizes = split(options.conversations, options.procs)
    results = await pool.call_some(
        senders, "create", [{"count": size, "claim": True, "connect": True} for size in sizes]
    )
    report_setup("created, claimed and connected", results, "created")


def report_setup(what: str, results: list[dict[str, Any]], key: str) -> dict[str, Any]:
    done = sum(result[key] for result in results)
    seconds = max(result["seconds"] for result in results)
    print(f"{done} {what} in {seconds:.1f} s ({done / seconds:.0f}/s)")
    failed = sum(result["failed"] for result in results)
    if failed:
        samples = [failure for result in results for failure in result["failures"]]
        print(f"{failed} failed and are left out, e.g. {samples[:3]}")
    return {"done": done, "failed": failed, "seconds": seconds}


async def run_delivery(
    pool: WorkerPool, options: argparse.Namespace, command: str, **kwargs: Any
) -> dict[str, Any]:
    await setup_claimed(pool, options)
    probe = Probe(options.server_pid, pool)
    before = probe.snapshot()
    start_at = time.monotonic() + 0.5
    results = await pool.call_all(command, start_at=start_at, duration=options.duration, **kwargs)
    return delivery_figures(results, start_at, options, probe.figures(before))


def delivery_figures(
    results: list[dict[str, Any]], start_at: float, options: argparse.Namespace, cpu: dict[str, Any]
) -> dict[str, Any]:
    measure_from = int((start_at + options.warmup) * 1e9)
    acked = sum(result["acked"] for result in results)
    wall = max(result["last_ack"] for result in results) - start_at
    figures = {
        "sent": sum(result["sent"] for result in results),
        "acked": acked,
        "msg_per_s": acked / wall,
        "ack_ms": distribution(
            ms for result in results for sent, ms in result["acks"] if sent >= measure_from
        ),
        "delivery_ms": distribution(
            ms for result in results for sent, ms in result["deliveries"] if sent >= measure_from
        ),
        "lost": sum(result["lost"] for result in results),
        "duplicates": sum(result["duplicates"] for result in results),
        "foreign_deliveries": sum(result["foreign"] for result in results),
        "errors": merged_errors(results),
        **cpu,
    }
    print(f"sent {figures['sent']}, acked {acked} in {wall:.1f} s: {figures['msg_per_s']:.0f} msg/s")
    print(format_distribution("ack latency", figures["ack_ms"]))
    print(format_distribution("delivery latency", figures["delivery_ms"]))
    if "send_lag_ms" in results[0]:
        lag = distribution(ms for result in results for ms in result["send_lag_ms"])
        figures["send_lag_ms"] = lag
        print(format_distribution("client send lag", lag))
    print(f"lost (acked, never delivered) {figures['lost']}, duplicates {figures['duplicates']}")
    if figures["foreign_deliveries"]:
        print(f"deliveries to a worker that did not claim them: {figures['foreign_deliveries']}")
    if figures["errors"]:
        print(f"errors: {figures['errors']}")
    print(describe_cpu(figures))
    return figures


async def scenario_throughput(pool: WorkerPool, options: argparse.Namespace) -> dict[str, Any]:
    return await run_delivery(pool, options, "throughput")


async def scenario_paced(pool: WorkerPool, options: argparse.Namespace) -> dict[str, Any]:
    return await run_delivery(pool, options, "paced", rate=options.rate)


async def scenario_churn(pool: WorkerPool, options: argparse.Namespace) -> dict[str, Any]:
    """Delivery in the active conversations while the queue moves, and the queue positions."""
    await setup_claimed(pool, options)
    senders = range(options.procs)
    holders = range(options.procs, options.procs + waiting_procs(options)) or senders
    started = time.monotonic()
    order: list[str] = []
    for index, size in zip(holders, split(options.waiting, len(holders)), strict=True):
        # One worker after another, each one conversation at a time: the queue's order is known.
        order.extend((await pool.call(index, "create_waiting", count=size))["ids"])
    print(f"{len(order)} waiting conversations created in {time.monotonic() - started:.1f} s")
    report_setup("waiting relatives connected", await pool.call_some(holders, "connect_waiting"), "connected")

    async def positions() -> list[int | None]:
        return [p for part in await pool.call_some(holders, "waiting_positions") for p in part]

    deadline = time.monotonic() + options.settle * 10
    while (shown := await positions()) != list(range(1, len(order) + 1)) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    wrong_before = sum(1 for index, p in enumerate(shown) if p != index + 1)
    print(f"positions before the claims: {len(order) - wrong_before} right, {wrong_before} not")

    claims = order[: int(options.duration / options.claim_interval)]
    probe = Probe(options.server_pid, pool)
    before = probe.snapshot()
    start_at = time.monotonic() + 0.5
    per_worker = [
        {
            "start_at": start_at,
            "duration": options.duration,
            "rate": options.rate,
            "claims": claims if index == 0 else [],
            "claim_interval": options.claim_interval,
        }
        for index in senders
    ]
    results = await pool.call_some(senders, "churn", per_worker)
    cpu = probe.figures(before)
    await asyncio.sleep(options.settle)
    figures = delivery_figures(results, start_at, options, cpu)

    parts = await pool.call_some(holders, "waiting_log")
    logs = [log for part in parts for log in part["logs"]]
    claim_times = results[0]["claim_times"]
    queue_figures = position_figures(order, logs, claim_times, options.position_deadline)
    figures.update(queue_figures)
    for key in ("status_events", "queue_events", "resyncs"):
        figures[key] = sum(part[key] for part in parts)
    figures["waiting_connections_lost"] = sum(part["lost"] for part in parts)
    figures["waiting_wrong_before_claims"] = wrong_before
    claim_ms = distribution((acked - sent) * 1000 for sent, acked, _ in claim_times)
    figures["claim_ack_ms"] = claim_ms
    print(format_distribution("claim ack", claim_ms))
    print(format_distribution("position right after", queue_figures["position_right_ms"]))
    print(
        "every waiting relative right, per claim (ms): "
        + " ".join(f"{ms:.0f}" for ms in queue_figures["every_waiting_right_ms_per_claim"])
    )
    print(
        f"claims {queue_figures['claims']} ({queue_figures['claims_failed']} failed);"
        f" positions not right within {options.position_deadline:g} s:"
        f" {queue_figures['not_right_in_time']} of {queue_figures['position_checks']}"
        f" ({queue_figures['never_right']} never);"
        f" waiting relatives got {figures['status_events']} status, {figures['queue_events']} queue,"
        f" asked queue_status {figures['resyncs']} times;"
        f" connections lost {figures['waiting_connections_lost']}"
    )
    return figures


def position_figures(
    order: list[str],
    logs: list[list[tuple[float, str, int | None]]],
    claim_times: list[tuple[float, float, bool]],
    deadline: float,
) -> dict[str, Any]:
    """For each claim and each relative still waiting after it: the time from the claim until
    the relative's derived position is right, i.e. equal to the truth after this claim or after
    a later one already sent by then. The truth: 1 + the waiting conversations created before."""
    claimed_index = {conversation_id: index for index, conversation_id in enumerate(order)}
    done = [(sent, claimed_index[order[k]]) for k, (sent, _, ok) in enumerate(claim_times) if ok]
    failed = sum(1 for *_, ok in claim_times if not ok)
    sent_times = [sent for sent, _ in done]

    def truth(index: int, claims_done: int) -> int:
        return index + 1 - sum(1 for _, claimed in done[:claims_done] if claimed < index)

    seconds: list[float] = []
    per_claim_worst: list[float] = []
    late = never = 0
    for k, (sent, _) in enumerate(done, 1):
        worst = 0.0
        for index, log in enumerate(logs):
            if any(claimed == index for _, claimed in done[:k]):
                continue
            right_at = None
            for at, state, position in log:
                if at < sent:
                    continue
                if state != "waiting":
                    break
                sent_by_then = bisect.bisect_right(sent_times, at)
                if truth(index, sent_by_then) <= (position or 0) <= truth(index, k):
                    right_at = at
                    break
            if right_at is None:
                never += 1
                late += 1
                worst = math.inf
                continue
            seconds.append(right_at - sent)
            worst = max(worst, right_at - sent)
            late += right_at - sent > deadline
        per_claim_worst.append(worst)
    return {
        "claims": len(done),
        "claims_failed": failed,
        "position_checks": len(seconds) + never,
        "position_right_ms": distribution(s * 1000 for s in seconds),
        "every_waiting_right_ms_per_claim": [s * 1000 for s in per_claim_worst],
        "not_right_in_time": late,
        "never_right": never,
    }


async def pool_health(pool: WorkerPool) -> dict[str, int]:
    parts = await pool.call_all("health")
    return {key: sum(part[key] for part in parts) for key in ("open", "lost")}


async def scenario_idle(pool: WorkerPool, options: argparse.Namespace) -> dict[str, Any]:
    probe = Probe(options.server_pid, pool)
    waiting = round(options.conversations * options.waiting_share)
    sizes_active = split(options.conversations - waiting, options.procs)
    sizes_waiting = split(waiting, options.procs)

    await pool.call_all("connect_counsellors")
    results = await pool.call_all(
        "create", [{"count": n, "claim": True, "connect": False} for n in sizes_active]
    )
    report_setup("conversations created and claimed", results, "created")
    await pool.call_all("drop_counsellors")
    results = await pool.call_all(
        "create", [{"count": n, "claim": False, "connect": False} for n in sizes_waiting]
    )
    report_setup("conversations created, left waiting", results, "created")

    await asyncio.sleep(options.settle)
    rss_before = probe.rss()
    connecting = report_setup("relatives connected", await pool.call_all("connect_relatives"), "connected")
    await asyncio.sleep(options.settle)
    rss_after = probe.rss()
    health = await pool_health(pool)
    figures: dict[str, Any] = {
        "conversations": options.conversations,
        "waiting": waiting,
        "connects_per_s": connecting["done"] / connecting["seconds"],
        "connect_failures": connecting["failed"],
        "open_after_connecting": health["open"],
        "lost_while_connecting": health["lost"],
    }
    print(f"{health['open']} relatives connected now; {health['lost']} connections lost")
    if rss_before is not None and rss_after is not None and health["open"]:
        figures["rss_before_mb"] = rss_before / 2**20
        figures["rss_after_mb"] = rss_after / 2**20
        figures["rss_per_connection_kb"] = (rss_after - rss_before) / health["open"] / 1024
        print(
            f"server RSS {figures['rss_before_mb']:.0f} MB -> {figures['rss_after_mb']:.0f} MB:"
            f" {figures['rss_per_connection_kb']:.1f} KB per open connection"
        )

    positions: dict[str, int] = {}
    for part in await pool.call_all("positions"):
        positions.update(part)
    if len(positions) != waiting:
        print(f"warning: {len(positions)} relatives report a queue position, expected {waiting}")
    front = sorted(positions, key=positions.__getitem__)[: options.claims]
    await pool.call(0, "connect_counsellors", count=1)
    claims_from = time.monotonic()
    before = probe.snapshot()
    claim_times = await pool.call(
        0, "claim_in_order", conversation_ids=front, interval=options.claim_interval
    )
    await asyncio.sleep(options.settle)
    cpu = probe.figures(before)
    logs: dict[str, list[tuple[float, str, int | None]]] = {}
    for part in await pool.call_all("status_log", since=claims_from):
        logs.update(part)

    update_seconds: list[float] = []
    per_claim_worst: list[float] = []
    missed = 0
    for claimed, (sent_at, _) in enumerate(claim_times, 1):
        worst = 0.0
        for conversation_id, position in positions.items():
            if position <= claimed:
                continue
            expected = position - claimed
            arrivals = [
                at
                for at, state, pos in logs[conversation_id]
                if at >= sent_at and state == "waiting" and pos is not None and pos <= expected
            ]
            if not arrivals:
                missed += 1
                continue
            update_seconds.append(min(arrivals) - sent_at)
            worst = max(worst, min(arrivals) - sent_at)
        per_claim_worst.append(worst)
    claim_ms = distribution((acked - sent) * 1000 for sent, acked in claim_times)
    update = distribution(seconds * 1000 for seconds in update_seconds)
    figures.update(
        {
            "claims": len(claim_times),
            "claim_ack_ms": claim_ms,
            "position_update_ms": update,
            "every_waiting_updated_ms_per_claim": [seconds * 1000 for seconds in per_claim_worst],
            "position_updates_missed": missed,
            "lost_by_end": (await pool_health(pool))["lost"],
            **cpu,
        }
    )
    print(format_distribution("claim ack", claim_ms))
    print(format_distribution("position update", update))
    print(
        "all waiting relatives updated, per claim (ms): "
        + " ".join(f"{seconds * 1000:.0f}" for seconds in per_claim_worst)
    )
    print(f"position updates never received: {missed}; connections lost by the end: {figures['lost_by_end']}")
    print(f"during the claims: {describe_cpu(cpu)}")
    return figures


async def scenario_reconnect(pool: WorkerPool, options: argparse.Namespace) -> dict[str, Any]:
    await setup_claimed(pool, options)
    probe = Probe(options.server_pid, pool)
    start_at = time.monotonic() + 1.0
    drop_at = start_at + options.before_drop
    before = probe.snapshot()
    results = await pool.call_all(
        "reconnect",
        start_at=start_at,
        drop_at=drop_at,
        spread=options.spread,
        window=options.window,
        rate=options.rate,
    )
    cpu = probe.figures(before)
    back = [times for r in results for times in r["reconnected"]]
    connect = distribution(took * 1000 for _, took in back)
    figures = {
        "clients": sum(r["clients"] for r in results),
        "connect_ms": connect,
        "last_back_after_drop_s": max((after for after, _ in back), default=float("nan")),
        "not_reconnected": sum(r["not_reconnected"] for r in results),
        "counsellor_messages_acked": sum(r["acked"] for r in results),
        "unacked": sum(r["unacked"] for r in results),
        "missed": sum(r["missed"] for r in results),
        "missed_by_those_back": sum(r["missed_by_those_back"] for r in results),
        "duplicated": sum(r["duplicated"] for r in results),
        "gaps": sum(r["gaps"] for r in results),
        "out_of_order": sum(r["out_of_order"] for r in results),
        "errors": merged_errors(results),
        **cpu,
    }
    print(format_distribution("reconnect took", connect))
    print(
        f"last relative back {figures['last_back_after_drop_s']:.1f} s after the drop"
        f" (reconnects spread over {options.spread:.0f} s);"
        f" not back within {options.window:.0f} s: {figures['not_reconnected']};"
        f" counsellor messages acked {figures['counsellor_messages_acked']}"
        f" (unacked {figures['unacked']})"
    )
    print(
        f"missed {figures['missed']} ({figures['missed_by_those_back']} by relatives that came"
        f" back), duplicated {figures['duplicated']},"
        f" seq gaps {figures['gaps']}, out of order {figures['out_of_order']}"
    )
    if figures["errors"]:
        print(f"errors: {figures['errors']}")
    print(describe_cpu(figures))
    return figures


SCENARIOS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "throughput": (scenario_throughput, {"conversations": 200}),
    "paced": (scenario_paced, {"conversations": 200, "rate": 1000.0}),
    "idle": (scenario_idle, {"conversations": 10_000, "claim_interval": 2.5}),
    "reconnect": (scenario_reconnect, {"conversations": 5_000, "rate": 200.0}),
    "churn": (
        scenario_churn,
        {"conversations": 200, "rate": 500.0, "claim_interval": 1.0, "queue_events": True},
    ),
}


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument(
        "--username", help='counsellor account; "{i}" becomes the counsellor number 0, 1, ...'
    )
    parser.add_argument("--password", default="")
    parser.add_argument("--counsellors", type=int, help="counsellor sockets (accounts), spread over --procs")
    parser.add_argument("--server-pid", type=int, help="server process, for its CPU and RSS")
    parser.add_argument("--procs", type=int, default=1, help="load processes")
    parser.add_argument(
        "--client",
        choices=CLIENTS,
        default="raw",
        help="Socket.IO client of the load: bench/raw_socketio.py or python-socketio's AsyncClient",
    )
    parser.add_argument(
        "-n", "--conversations", type=int, help="conversations / relatives (scenario default)"
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of sending")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds left out of latencies")
    parser.add_argument("--rate", type=float, help="msg/s in total (paced, reconnect, churn)")
    parser.add_argument("--concurrency", type=int, default=64, help="setup calls in flight")
    parser.add_argument("--timeout", type=float, default=30.0, help="per call, seconds")
    parser.add_argument("--attempts", type=int, default=3, help="sends of one client_id")
    parser.add_argument("--grace", type=float, default=10.0, help="wait for stragglers")
    parser.add_argument("--waiting-share", type=float, default=0.5, help="idle: share waiting")
    parser.add_argument("--claims", type=int, default=10, help="idle: claims from the front")
    parser.add_argument("--claim-interval", type=float, help="idle, churn: seconds between claims (2.5, 1)")
    parser.add_argument("--waiting", type=int, default=1000, help="churn: relatives waiting")
    parser.add_argument(
        "--queue-events",
        action=argparse.BooleanOptionalAction,
        help="relatives connect with queue_events and derive their position from `queue`"
        " broadcasts (default: on for churn, off for idle)",
    )
    parser.add_argument(
        "--waiting-procs",
        type=int,
        default=1,
        help="churn: load processes holding only the waiting relatives, so that their queue"
        " broadcasts do not hold up the deliveries measured in the others (0: spread over --procs)",
    )
    parser.add_argument(
        "--position-deadline", type=float, default=2.0, help="churn: a position is late after this"
    )
    parser.add_argument(
        "--settle", type=float, default=3.0, help="idle: seconds before RSS; idle, churn: after the claims"
    )
    parser.add_argument("--before-drop", type=float, default=3.0, help="reconnect: seconds")
    parser.add_argument("--spread", type=float, default=10.0, help="reconnect: reconnects over")
    parser.add_argument("--window", type=float, default=20.0, help="reconnect: must be back in")
    parser.add_argument("--tail", type=float, default=3.0, help="reconnect: sending after")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=100.0,
        help="first wait until the machine is less busy than this (percent of all cores)",
    )
    parser.add_argument("--quiet-patience", type=float, default=600.0, help="seconds to wait")
    options = parser.parse_args(argv)
    for name, default in SCENARIOS[options.scenario][1].items():
        if getattr(options, name) is None:
            setattr(options, name, default)
    options.queue_events = bool(options.queue_events)
    if options.counsellors is None:
        options.counsellors = options.procs
    if options.conversations < options.counsellors or options.counsellors < options.procs:
        parser.error("need conversations >= --counsellors >= --procs")
    if options.username and options.counsellors > 1 and "{i}" not in options.username:
        parser.error('several counsellors need several accounts: put "{i}" in --username')
    return options


async def main_async(options: argparse.Namespace) -> dict[str, Any]:
    run, _ = SCENARIOS[options.scenario]
    wait_for_quiet(options.quiet_below, options.quiet_patience)
    pool = WorkerPool(options)
    try:
        await pool.call_all("login")
        return await run(pool, options)
    finally:
        await pool.close()


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_options(argv)
    raise_fd_limit()
    print(
        f"{options.scenario} against {options.url}: {options.conversations} conversations,"
        f" {options.procs} load process(es), {options.client} client"
    )
    figures = asyncio.run(main_async(options))
    if options.json:
        with open(options.json, "w") as out:
            json.dump(
                {"scenario": options.scenario, "argv": sys.argv[1:], "figures": figures},
                out,
                indent=2,
            )


if __name__ == "__main__":
    main()
