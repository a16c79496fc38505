"""A lean asyncio Socket.IO v5 client (Engine.IO v4, websocket transport only) for the load generator.

python-socketio's AsyncClient spends about as much CPU per message as the server does (a Task and a
queue hop per frame in python-engineio, a packet object and a binary search per packet), so on a
small machine it caps what bench/chat_load.py can measure. This client does the minimum per frame:
it dispatches on the first characters, parses only the JSON payload, and builds outgoing frames
with one f-string. One client is one connection to one namespace; handlers are plain functions.

    client = Client(session, "/relative")
    client.on("message", on_message)
    await client.connect("http://127.0.0.1:8080", auth={"token": token}, timeout=30)
    ack = await client.call("send_message", {"client_id": ..., "text": ...}, timeout=30)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Callable
from typing import Any, NamedTuple

import aiohttp

logger = logging.getLogger(__name__)

_dumps = json.JSONEncoder(separators=(",", ":")).encode
_DIGITS = "0123456789"

# Engine.IO packet types (the first character of a frame).
OPEN, CLOSE, PING, PONG, MESSAGE, NOOP = "0", "1", "2", "3", "4", "6"
# Socket.IO packet types, inside an Engine.IO message (its second character).
CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR = "40", "41", "42", "43", "44"


class Reason:
    """Disconnect reasons given to the "disconnect" handler; the same strings as python-socketio's."""

    CLIENT_DISCONNECT = "client disconnect"
    SERVER_DISCONNECT = "server disconnect"
    TRANSPORT_ERROR = "transport error"


class ConnectError(Exception):
    """The connection or the namespace connect failed."""


class ConnectRefused(ConnectError):
    """The server refused the namespace connect; `data` is its connect-error payload."""

    def __init__(self, namespace: str, data: Any) -> None:
        super().__init__(f"{namespace} refused the connect: {data!r}")
        self.data = data


class CallTimeout(Exception):
    """No ack arrived in time."""


class _ServerEnded(Exception):
    """The server closed the Engine.IO connection or the namespace."""


class Packet(NamedTuple):
    """One decoded frame. `kind` is the Engine.IO type, or for messages the two-character
    Socket.IO type ("42"); `namespace` and `ack_id` are None where the frame has none."""

    kind: str
    namespace: str | None
    ack_id: int | None
    data: Any


def decode(frame: str) -> Packet:
    if not frame.startswith(MESSAGE):
        kind = frame[:1]
        return Packet(kind, None, None, json.loads(frame[1:]) if kind == OPEN else frame[1:] or None)
    kind = frame[:2]
    namespace = "/"
    start = 2
    if frame.startswith("/", 2):
        comma = frame.find(",", 2)
        if comma == -1:
            return Packet(kind, frame[2:], None, None)
        namespace = frame[2:comma]
        start = comma + 1
    end = start
    length = len(frame)
    while end < length and frame[end] in _DIGITS:
        end += 1
    ack_id = int(frame[start:end]) if end > start else None
    return Packet(kind, namespace, ack_id, json.loads(frame[end:]) if end < length else None)


def _head(kind: str, namespace: str) -> str:
    """The type and namespace part of a Socket.IO frame; the main namespace is left implicit."""
    return kind if namespace == "/" else f"{kind}{namespace},"


def encode_connect(namespace: str, auth: Any = None) -> str:
    return _head(CONNECT, namespace) + ("" if auth is None else _dumps(auth))


def encode_disconnect(namespace: str) -> str:
    return _head(DISCONNECT, namespace)


def encode_event(namespace: str, event: str, data: Any, ack_id: int | None = None) -> str:
    return f"{_head(EVENT, namespace)}{'' if ack_id is None else ack_id}{_dumps([event, data])}"


def encode_ack(namespace: str, ack_id: int, args: list[Any]) -> str:
    return f"{_head(ACK, namespace)}{ack_id}{_dumps(args)}"


def ack_arguments(result: Any) -> list[Any]:
    """What a handler's return value acks with, as python-socketio has it: a tuple is several
    arguments, None none."""
    if isinstance(result, tuple):
        return list(result)
    return [] if result is None else [result]


def websocket_url(url: str) -> str:
    """ws(s)://host:port/socket.io/?EIO=4&transport=websocket for an http(s):// server URL."""
    base = url.rstrip("/")
    if base.startswith("http"):
        base = "ws" + base[4:]
    return f"{base}/socket.io/?EIO=4&transport=websocket"


def cut_connection(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Shut the TCP connection under a websocket down at once, with no goodbye, as a phone
    losing its network would; what is still buffered in it is lost."""
    transport_socket = ws.get_extra_info("socket")
    if transport_socket is None:
        return
    # uvloop hands out a socket look-alike without shutdown(); a duplicate fd has it.
    with (
        contextlib.suppress(OSError),
        socket.fromfd(transport_socket.fileno(), socket.AF_INET, socket.SOCK_STREAM) as dup,
    ):
        dup.shutdown(socket.SHUT_RDWR)


Handler = Callable[..., Any]


class Client:
    """One websocket connection to one namespace, on a shared aiohttp ClientSession.

    Handlers are called inline from the read loop with the event's arguments ("disconnect" with a
    `Reason`); they must not block. A lost connection is noticed when the socket closes or when
    the server's pings stop for pingInterval + pingTimeout, as python-engineio does.
    """

    def __init__(self, session: aiohttp.ClientSession, namespace: str) -> None:
        self.session = session
        self.namespace = namespace
        self.sid: str | None = None
        self.connected = False
        self._handlers: dict[str, Handler] = {}
        self._acks: dict[int, Handler] = {}
        self._next_ack_id = 0
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._heartbeat_deadline = 0.0
        self._last_ping = 0.0
        self._watchdog: asyncio.TimerHandle | None = None

    def on(self, event: str, handler: Handler) -> None:
        self._handlers[event] = handler

    async def connect(
        self,
        url: str,
        auth: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Open the websocket and connect the namespace; raise ConnectRefused with the server's
        data if it says no, ConnectError on anything else."""
        ws: aiohttp.ClientWebSocketResponse | None = None
        try:
            async with asyncio.timeout(timeout):
                ws = await self.session.ws_connect(
                    websocket_url(url),
                    headers=headers,
                    compress=0,
                    timeout=aiohttp.ClientWSTimeout(ws_close=timeout),
                )
                await self._handshake(ws, auth)
        except ConnectError:
            await self._close_quietly(ws)
            raise
        except TimeoutError as exc:
            await self._close_quietly(ws)
            raise ConnectError(f"no connect answer from {url} within {timeout} s") from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            await self._close_quietly(ws)
            raise ConnectError(f"connecting to {url} failed: {exc!r}") from exc
        self._ws = ws
        self.connected = True
        loop = asyncio.get_running_loop()
        self._last_ping = loop.time()
        self._watchdog = loop.call_later(self._heartbeat_deadline, self._check_heartbeat)
        self._reader = asyncio.create_task(self._read(ws))

    async def _handshake(self, ws: aiohttp.ClientWebSocketResponse, auth: Any) -> None:
        opening = decode(await self._receive_text(ws))
        if opening.kind != OPEN:
            raise ConnectError(f"expected an open packet, got {opening!r}")
        self._heartbeat_deadline = (opening.data["pingInterval"] + opening.data["pingTimeout"]) / 1000
        await ws.send_str(encode_connect(self.namespace, auth))
        while True:
            packet = decode(await self._receive_text(ws))
            if packet.namespace == self.namespace and packet.kind == CONNECT:
                self.sid = packet.data.get("sid") if isinstance(packet.data, dict) else None
                return
            if packet.namespace == self.namespace and packet.kind == CONNECT_ERROR:
                raise ConnectRefused(self.namespace, packet.data)
            # python-socketio runs the server's connect handler before it answers the connect,
            # so what that handler emits (a relative's status and missed messages) comes first.
            try:
                reply = self._on_packet(packet)
            except _ServerEnded as exc:
                raise ConnectError("the server closed the connection during the connect") from exc
            if reply is not None:
                await ws.send_str(reply)

    @staticmethod
    async def _receive_text(ws: aiohttp.ClientWebSocketResponse) -> str:
        message = await ws.receive()
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectError(f"the websocket ended during the connect: {message.type.name}")
        return str(message.data)

    async def emit(self, event: str, data: Any, callback: Handler | None = None) -> None:
        """Send an event; `callback` gets the ack's arguments when it comes."""
        ack_id = None if callback is None else self._expect_ack(callback)
        await self._send(encode_event(self.namespace, event, data, ack_id))

    def _expect_ack(self, callback: Handler) -> int:
        self._next_ack_id += 1
        self._acks[self._next_ack_id] = callback
        return self._next_ack_id

    async def _send(self, frame: str) -> None:
        if self._ws is None:
            raise ConnectionError("not connected")
        await self._ws.send_str(frame)

    async def call(self, event: str, data: Any, timeout: float = 60.0) -> Any:
        """Send an event and return its ack (its only argument, or a tuple of several);
        raise CallTimeout if none comes within `timeout` seconds."""
        future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

        def resolve(*args: Any) -> None:
            if not future.done():
                future.set_result(args)

        def expire() -> None:
            if not future.done():
                future.set_exception(CallTimeout(f"no ack for {event} within {timeout} s"))

        ack_id = self._expect_ack(resolve)
        timer = asyncio.get_running_loop().call_later(timeout, expire)
        try:
            await self._send(encode_event(self.namespace, event, data, ack_id))
            args = await future
        finally:
            timer.cancel()
            self._acks.pop(ack_id, None)
        if len(args) == 1:
            return args[0]
        return args or None

    async def disconnect(self) -> None:
        """Leave the namespace and close the websocket."""
        ws = self._ws
        if ws is None:
            return
        was_connected = self.connected
        self._lost(Reason.CLIENT_DISCONNECT)
        with contextlib.suppress(Exception):
            if was_connected:
                await ws.send_str(encode_disconnect(self.namespace))
            await ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    def cut(self) -> None:
        """Cut the TCP connection with no goodbye (see cut_connection)."""
        if self._ws is not None:
            cut_connection(self._ws)

    # ---- receiving

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        reason = Reason.TRANSPORT_ERROR
        try:
            while True:
                message = await ws.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    if message.type is aiohttp.WSMsgType.BINARY:
                        continue
                    break
                reply = self._on_packet(decode(message.data))
                if reply is not None:
                    await ws.send_str(reply)
        except _ServerEnded:
            reason = Reason.SERVER_DISCONNECT
        except aiohttp.ClientConnectionResetError:
            pass  # the connection was cut (the reconnect scenario's drop) while answering
        except Exception:
            if self.connected:
                logger.exception("%s: read loop failed", self.namespace)
        finally:
            self._lost(reason)
        with contextlib.suppress(Exception):
            await ws.close()

    def _on_packet(self, packet: Packet) -> str | None:
        """Handle one packet; return the frame to send back, if any."""
        kind = packet.kind
        if kind == EVENT:
            if packet.namespace != self.namespace:
                return None
            event, *args = packet.data
            result = self._dispatch(event, args)
            if packet.ack_id is None:
                return None
            return encode_ack(self.namespace, packet.ack_id, ack_arguments(result))
        if kind == ACK:
            callback = self._acks.pop(packet.ack_id, None) if packet.ack_id is not None else None
            if callback is not None and packet.namespace == self.namespace:
                callback(*packet.data)
            return None
        if kind == PING:
            self._last_ping = asyncio.get_running_loop().time()
            return PONG
        if kind == CLOSE or (kind == DISCONNECT and packet.namespace == self.namespace):
            raise _ServerEnded
        return None

    def _dispatch(self, event: str, args: list[Any]) -> Any:
        handler = self._handlers.get(event)
        if handler is None:
            return None
        try:
            return handler(*args)
        except Exception:
            logger.exception("%s: handler for %s failed", self.namespace, event)
            return None

    def _check_heartbeat(self) -> None:
        """Give up on a server whose pings stopped, as python-engineio does."""
        silent_for = asyncio.get_running_loop().time() - self._last_ping
        if silent_for < self._heartbeat_deadline:
            self._watchdog = asyncio.get_running_loop().call_later(
                self._heartbeat_deadline - silent_for, self._check_heartbeat
            )
            return
        self._watchdog = None
        self._lost(Reason.TRANSPORT_ERROR)
        self.cut()

    def _lost(self, reason: str) -> None:
        """Mark the connection gone and tell the "disconnect" handler, once."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if not self.connected:
            return
        self.connected = False
        self._dispatch("disconnect", [reason])

    @staticmethod
    async def _close_quietly(ws: aiohttp.ClientWebSocketResponse | None) -> None:
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
