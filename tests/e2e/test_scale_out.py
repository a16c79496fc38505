"""Two server processes on one PostgreSQL and one Redis behave like one server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
import socketio

from tests.support.server import ServerProcess
from tests.support.services import postgres_server, redis_server

WAIT = 20.0


@pytest.fixture(scope="module")
def shared_backends() -> Iterator[dict[str, str]]:
    with postgres_server() as database_url, redis_server() as redis_url:
        yield {"KINLINE_DATABASE_URL": database_url, "KINLINE_SCALE__REDIS_URL": redis_url}


class Inbox:
    """Collects events of one socket and lets a test await the first one matching a predicate."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Condition()

    def recorder(self, name: str) -> Callable[[Any], Any]:
        async def record(data: Any) -> None:
            async with self._changed:
                self.events.append((name, data))
                self._changed.notify_all()

        return record

    async def wait_for(self, name: str, predicate: Callable[[Any], bool]) -> Any:
        async def found() -> Any:
            async with self._changed:
                while True:
                    for event, data in self.events:
                        if event == name and predicate(data):
                            return data
                    await self._changed.wait()

        return await asyncio.wait_for(found(), WAIT)


async def _connect(
    url: str, namespace: str, inbox: Inbox, events: list[str], **kwargs: Any
) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    for name in events:
        client.on(name, inbox.recorder(name), namespace=namespace)
    await client.connect(url, namespaces=[namespace], transports=["websocket"], **kwargs)
    return client


async def _login(url: str, username: str, password: str) -> str:
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{url}/api/auth/login", json={"username": username, "password": password})
        assert response.status == 200
        return response.cookies["kinline_session"].value


async def _start(url: str, language: str = "sv") -> dict[str, str]:
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{url}/api/conversations", json={"language": language})
        assert response.status == 201
        return dict(await response.json())


async def test_relative_on_one_process_and_counsellor_on_another_talk_through_shared_state(
    server_factory: Callable[..., ServerProcess], shared_backends: dict[str, str]
) -> None:
    server_a = server_factory(env=shared_backends, name="a")
    server_b = server_factory(env=shared_backends, name="b")
    password = server_b.add_user("carin", "counsellor")

    cookie = await _login(server_b.url, "carin", password)
    staff_inbox = Inbox()
    counsellor = await _connect(
        server_b.url,
        "/counsellor",
        staff_inbox,
        ["queue", "mine", "message"],
        headers={"Cookie": f"kinline_session={cookie}"},
    )
    started = await _start(server_a.url)
    conversation_id = started["conversation_id"]
    await staff_inbox.wait_for(
        "queue", lambda q: any(c["conversation_id"] == conversation_id for c in q["conversations"])
    )

    relative_inbox = Inbox()
    relative = await _connect(
        server_a.url,
        "/relative",
        relative_inbox,
        ["status", "message"],
        auth={"token": started["token"], "after_seq": 0},
    )
    ack = await counsellor.call("claim", {"conversation_id": conversation_id}, namespace="/counsellor")
    assert ack["ok"] is True
    await relative_inbox.wait_for("status", lambda s: s["state"] == "active")

    sent = await relative.call(
        "send_message", {"client_id": str(uuid.uuid4()), "text": "hej från process A"}, namespace="/relative"
    )
    assert sent["ok"] is True
    delivered = await staff_inbox.wait_for("message", lambda m: m["seq"] == sent["message"]["seq"])
    assert delivered["text"] == "hej från process A"

    reply = await counsellor.call(
        "send_message",
        {"conversation_id": conversation_id, "client_id": str(uuid.uuid4()), "text": "svar från B"},
        namespace="/counsellor",
    )
    assert reply["ok"] is True
    assert reply["message"]["seq"] == sent["message"]["seq"] + 1
    got = await relative_inbox.wait_for("message", lambda m: m["seq"] == reply["message"]["seq"])
    assert got["text"] == "svar från B"
    await relative.disconnect()
    await counsellor.disconnect()


async def test_concurrent_claims_across_processes_have_one_winner(
    server_factory: Callable[..., ServerProcess], shared_backends: dict[str, str]
) -> None:
    servers = [server_factory(env=shared_backends, name=name) for name in ("a", "b")]
    passwords = [servers[index % 2].add_user(f"c{index}", "counsellor") for index in range(6)]
    clients = []
    for index, password in enumerate(passwords):
        server = servers[index % 2]
        cookie = await _login(server.url, f"c{index}", password)
        clients.append(
            await _connect(
                server.url, "/counsellor", Inbox(), [], headers={"Cookie": f"kinline_session={cookie}"}
            )
        )
    conversation_id = (await _start(servers[0].url))["conversation_id"]
    acks = await asyncio.gather(
        *(c.call("claim", {"conversation_id": conversation_id}, namespace="/counsellor") for c in clients)
    )
    winners = [ack for ack in acks if ack["ok"]]
    assert len(winners) == 1
    assert {ack["error"]["code"] for ack in acks if not ack["ok"]} == {"already_claimed"}
    for client in clients:
        await client.disconnect()


async def test_a_session_ended_through_one_process_closes_the_console_on_the_other(
    server_factory: Callable[..., ServerProcess], shared_backends: dict[str, str]
) -> None:
    """Logout over HTTP on A and `kinline user disable` each close a console held on B within 5 s."""
    server_a = server_factory(env=shared_backends, name="a")
    server_b = server_factory(env=shared_backends, name="b")
    consoles = {}
    for name in ("dora", "erik"):
        cookie = await _login(server_a.url, name, server_a.add_user(name, "counsellor"))
        console = await _connect(
            server_b.url, "/counsellor", Inbox(), [], headers={"Cookie": f"kinline_session={cookie}"}
        )
        closed = asyncio.Event()
        console.on("disconnect", lambda *_args, closed=closed: closed.set(), namespace="/counsellor")
        assert (await console.call("staff", {}, namespace="/counsellor"))["ok"] is True
        consoles[name] = (cookie, console, closed)

    cookie, _console, closed = consoles["dora"]
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{server_a.url}/api/auth/logout", headers={"Cookie": f"kinline_session={cookie}"}
        )
        assert response.status == 204
    await asyncio.wait_for(closed.wait(), 5)

    disabled = await asyncio.to_thread(server_a.cli, "user", "disable", "erik")
    assert disabled.returncode == 0, disabled.stderr
    _cookie, console, closed = consoles["erik"]
    await asyncio.wait_for(closed.wait(), 5)
    for _cookie, console, _closed in consoles.values():
        await console.shutdown()
