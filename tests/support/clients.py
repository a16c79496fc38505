"""Async clients for the e2e protocol tests: aiohttp for HTTP, python-socketio for the sockets.

``Harness`` opens everything one test needs against one server and closes it all at the end.
Every socket keeps an ``EventLog`` of what the server pushed, so a test waits on a condition
(an event arriving) instead of sleeping, and checks absence only after a round trip on the same
socket (``barrier``): Socket.IO keeps the order of packets on one connection, so an ack that
comes back proves every packet queued before it has arrived too.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio

from tests.support.server import DEFAULT_PASSWORD, ServerProcess

EVENT_TIMEOUT = 30.0
CONNECT_TIMEOUT = 30.0
SESSION_COOKIE = "kinline_session"

Predicate = Callable[[Any], bool]


def _always(_data: Any) -> bool:
    return True


class EventLog:
    """Events a socket received, in arrival order, with an awaitable search."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, Any]] = []
        self._arrived = asyncio.Condition()

    async def record(self, name: str, *args: Any) -> None:
        """Catch-all handler: one argument is kept as is, none as None, several as a tuple."""
        data = args[0] if len(args) == 1 else (args or None)
        async with self._arrived:
            self.entries.append((name, data))
            self._arrived.notify_all()

    def mark(self) -> int:
        """A position in the log; pass it as ``since`` to look only at later events."""
        return len(self.entries)

    def named(self, name: str, since: int = 0) -> list[Any]:
        return [data for event, data in self.entries[since:] if event == name]

    def _first(self, name: str, predicate: Predicate, since: int) -> tuple[int, Any] | None:
        for index in range(since, len(self.entries)):
            event, data = self.entries[index]
            if event == name and predicate(data):
                return index, data
        return None

    async def wait_for(
        self, name: str, predicate: Predicate = _always, since: int = 0, timeout: float = EVENT_TIMEOUT
    ) -> Any:
        """The first ``name`` event at or after ``since`` that satisfies ``predicate``."""
        return (await self.wait_for_indexed(name, predicate, since, timeout))[1]

    async def wait_for_indexed(
        self, name: str, predicate: Predicate = _always, since: int = 0, timeout: float = EVENT_TIMEOUT
    ) -> tuple[int, Any]:
        async with self._arrived:
            try:
                async with asyncio.timeout(timeout):
                    await self._arrived.wait_for(lambda: self._first(name, predicate, since) is not None)
            except TimeoutError:
                seen = [event for event, _ in self.entries[since:]]
                raise AssertionError(f"no matching {name!r} event within {timeout}s; saw {seen}") from None
            found = self._first(name, predicate, since)
            assert found is not None
            return found

    async def wait_until(self, check: Callable[[], bool], timeout: float = EVENT_TIMEOUT) -> None:
        """Until ``check()`` holds, looked at again after each event this log receives."""
        async with self._arrived:
            try:
                async with asyncio.timeout(timeout):
                    await self._arrived.wait_for(check)
            except TimeoutError:
                raise AssertionError(f"not reached within {timeout}s") from None


class SocketClient:
    """One python-socketio client on one namespace, websocket transport only, no reconnection.
    It owns its aiohttp session, so a refused connect leaves nothing open."""

    def __init__(self, base_url: str, namespace: str) -> None:
        self.base_url = base_url
        self.namespace = namespace
        self.log = EventLog()
        self.connect_errors: list[Any] = []
        self.disconnected = asyncio.Event()
        self.http = aiohttp.ClientSession()
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.sio.on("*", self.log.record, namespace=namespace)
        self.sio.on("connect_error", self._on_connect_error, namespace=namespace)
        self.sio.on("disconnect", self._on_disconnect, namespace=namespace)

    async def _on_connect_error(self, data: Any = None) -> None:
        self.connect_errors.append(data)

    async def _on_disconnect(self, _reason: Any = None) -> None:
        self.disconnected.set()

    async def connect(
        self, auth: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self.disconnected.clear()
        await self.sio.connect(
            self.base_url,
            headers=headers or {},
            auth=auth,
            transports=["websocket"],
            namespaces=[self.namespace],
            wait_timeout=CONNECT_TIMEOUT,
        )

    @property
    def connected(self) -> bool:
        return bool(self.sio.connected)

    async def call(self, event: str, data: Any = None, timeout: float = EVENT_TIMEOUT) -> Any:
        return await self.sio.call(event, data, namespace=self.namespace, timeout=timeout)

    async def barrier(self) -> None:
        """A round trip (an event the server does not know, answered with an error ack): every
        event the server queued for this socket before the ack has arrived when this returns."""
        await self.call("barrier_round_trip")

    async def wait_disconnected(self, timeout: float = EVENT_TIMEOUT) -> None:
        async with asyncio.timeout(timeout):
            await self.disconnected.wait()

    async def close(self) -> None:
        await self.sio.shutdown()
        await self.http.close()


class RelativeSocket(SocketClient):
    def __init__(self, base_url: str) -> None:
        super().__init__(base_url, "/relative")

    async def send(self, text: str, client_id: str | None = None) -> dict[str, Any]:
        return dict(
            await self.call("send_message", {"client_id": client_id or new_client_id(), "text": text})
        )

    def messages(self, since: int = 0) -> list[dict[str, Any]]:
        return self.log.named("message", since)


class CounsellorSocket(SocketClient):
    def __init__(self, base_url: str) -> None:
        super().__init__(base_url, "/counsellor")

    async def send(self, conversation_id: str, text: str, client_id: str | None = None) -> dict[str, Any]:
        payload = {
            "conversation_id": conversation_id,
            "client_id": client_id or new_client_id(),
            "text": text,
        }
        return dict(await self.call("send_message", payload))

    async def claim(self, conversation_id: str) -> dict[str, Any]:
        return dict(await self.call("claim", {"conversation_id": conversation_id}))

    def messages_of(self, conversation_id: str, since: int = 0) -> list[dict[str, Any]]:
        return [m for m in self.log.named("message", since) if m.get("conversation_id") == conversation_id]


@dataclass
class HttpResult:
    status: int
    body: Any
    headers: Any


class Api:
    """An aiohttp session against one server. A cookie jar that accepts cookies from an IP
    address keeps the staff session after ``login``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.jar = aiohttp.CookieJar(unsafe=True)
        self.session = aiohttp.ClientSession(
            base_url, cookie_jar=self.jar, timeout=aiohttp.ClientTimeout(total=EVENT_TIMEOUT)
        )

    async def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResult:
        send_headers = dict(headers or {})
        if data is not None:
            send_headers.setdefault("Content-Type", "application/json")
        async with self.session.request(method, path, json=json, data=data, headers=send_headers) as response:
            text = await response.text()
            body: Any = None
            if text and response.content_type == "application/json":
                body = await response.json()
            return HttpResult(response.status, body, response.headers)

    async def start_conversation(self, language: str = "sv", topic: str | None = None) -> StartedConversation:
        payload: dict[str, Any] = {"language": language}
        if topic is not None:
            payload["topic"] = topic
        result = await self.request("POST", "/api/conversations", json=payload)
        assert result.status == 201, result.body
        return StartedConversation(**result.body)

    async def login(self, username: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
        result = await self.request(
            "POST", "/api/auth/login", json={"username": username, "password": password}
        )
        assert result.status == 200, result.body
        return dict(result.body["user"])

    def session_cookie(self) -> str:
        for cookie in self.jar:
            if cookie.key == SESSION_COOKIE:
                return cookie.value
        raise AssertionError("no session cookie in the jar")

    async def close(self) -> None:
        await self.session.close()


@dataclass(frozen=True)
class StartedConversation:
    conversation_id: str
    token: str
    resume_code: str


@dataclass
class Staff:
    """A signed-in staff member: the HTTP session with its cookie, the user U, and the console socket."""

    api: Api
    user: dict[str, Any]
    socket: CounsellorSocket

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.api.session_cookie()}"}


@dataclass
class Harness:
    """Everything a test opens against one server, closed together on exit."""

    server: ServerProcess
    _sockets: list[SocketClient] = field(default_factory=list)
    _apis: list[Api] = field(default_factory=list)

    async def __aenter__(self) -> Harness:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await asyncio.gather(*(s.close() for s in self._sockets), return_exceptions=True)
        await asyncio.gather(*(a.close() for a in self._apis), return_exceptions=True)

    @property
    def url(self) -> str:
        return self.server.url

    def api(self) -> Api:
        api = Api(self.url)
        self._apis.append(api)
        return api

    def relative_socket(self) -> RelativeSocket:
        socket = RelativeSocket(self.url)
        self._sockets.append(socket)
        return socket

    def counsellor_socket(self) -> CounsellorSocket:
        socket = CounsellorSocket(self.url)
        self._sockets.append(socket)
        return socket

    async def start_conversation(self, language: str = "sv", topic: str | None = None) -> StartedConversation:
        return await self.api().start_conversation(language, topic)

    async def relative(self, token: str, after_seq: int | None = None) -> RelativeSocket:
        auth: dict[str, Any] = {"token": token}
        if after_seq is not None:
            auth["after_seq"] = after_seq
        socket = self.relative_socket()
        await socket.connect(auth=auth)
        return socket

    async def add_staff(self, *names: str, role: str = "counsellor") -> None:
        """Create accounts through the real CLI, concurrently."""
        await asyncio.gather(*(asyncio.to_thread(self.server.add_user, name, role) for name in names))

    async def sign_in(self, username: str, password: str = DEFAULT_PASSWORD, connect: bool = True) -> Staff:
        api = self.api()
        user = await api.login(username, password)
        socket = self.counsellor_socket()
        staff = Staff(api, user, socket)
        if connect:
            await socket.connect(headers=staff.cookie_header)
        return staff

    async def counsellors(self, *names: str) -> list[Staff]:
        """New counsellor accounts, signed in with their console sockets connected."""
        await self.add_staff(*names)
        return list(await asyncio.gather(*(self.sign_in(name) for name in names)))


def new_client_id() -> str:
    return str(uuid.uuid4())


def named_client_id(name: str) -> str:
    """A client_id (a UUID, as the protocol asks) that is the same for the same name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kinline-test:{name}"))


def queue_ids(payload: dict[str, Any]) -> list[str]:
    return [item["conversation_id"] for item in payload["conversations"]]


def connect_error_code(data: Any) -> str | None:
    """The error code a refused connect carries, where socket.io clients read it: the ``data``
    of the CONNECT_ERROR packet (``err.data.code`` in socket.io-client)."""
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        code = data["data"].get("code")
        return str(code) if code is not None else None
    return None


def query_database(server: ServerProcess, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the running server's SQLite file through a separate read-only connection: what this
    sees has been committed."""
    connection = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()
