"""Issue 9, findings 4, 7 and 10 (sockets per conversation), against real server processes:
one address cannot flood or jump the queue, a relative who has gone is abandoned, forwarded
headers count only from a trusted proxy, and leaving ends the relative's access."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable
from typing import Any

import pytest
import socketio

from tests.e2e.escalation_helpers import draft_body
from tests.support.booking import BookingClient
from tests.support.clients import (
    Api,
    Harness,
    StartedConversation,
    connect_error_code,
    query_database,
    queue_ids,
)
from tests.support.server import ServerProcess
from tests.support.services import postgres_server, redis_server

PROXY = {"KINLINE_SECURITY__TRUSTED_PROXIES": '["127.0.0.1"]'}
FLOOD_ADDRESS = "203.0.113.66"
REAL_ADDRESS = "198.51.100.7"


def forwarded(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def start(api: Api, headers: dict[str, str] | None = None, language: str = "sv") -> Any:
    return await api.request("POST", "/api/conversations", json={"language": language}, headers=headers)


def started(result: Any) -> StartedConversation:
    assert result.status == 201, result.body
    return StartedConversation(**result.body)


def assert_error(result: Any, status: int, code: str) -> None:
    assert result.status == status, result.body
    assert result.body["error"]["code"] == code, result.body


async def refused_code(h: Harness, token: str) -> str | None:
    socket = h.relative_socket()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await socket.connect(auth={"token": token})
    return connect_error_code(socket.connect_errors[-1] if socket.connect_errors else None)


class TestWaitingPerAddress:
    async def test_a_fourth_waiting_conversation_is_refused_until_one_is_claimed_or_left(
        self, server_factory: Callable[..., ServerProcess]
    ) -> None:
        server = server_factory(env={"KINLINE_LIMITS__WAITING_PER_ADDRESS": "3"})
        async with Harness(server) as h:
            (alice,) = await h.counsellors("alice")
            api = h.api()
            first, second, third = [started(await start(api)) for _ in range(3)]
            fourth = await start(api)
            assert_error(fourth, 429, "too_many_waiting")

            assert (await alice.socket.claim(first.conversation_id))["ok"]
            after_claim = started(await start(api))
            assert_error(await start(api), 429, "too_many_waiting")

            relative = await h.relative(second.token)
            assert await relative.call("leave", {}) == {"ok": True}
            started(await start(api))
            assert_error(await start(api), 429, "too_many_waiting")
        assert third.conversation_id != after_claim.conversation_id

    async def test_forwarded_addresses_count_only_from_a_trusted_proxy(
        self, server_factory: Callable[..., ServerProcess]
    ) -> None:
        untrusting = server_factory(env={"KINLINE_LIMITS__WAITING_PER_ADDRESS": "1"}, name="untrusting")
        trusting = server_factory(env={"KINLINE_LIMITS__WAITING_PER_ADDRESS": "1", **PROXY}, name="trusting")
        async with Harness(untrusting) as h:
            api = h.api()
            started(await start(api, forwarded("192.0.2.1")))
            assert_error(await start(api, forwarded("192.0.2.2")), 429, "too_many_waiting")
        async with Harness(trusting) as h:
            api = h.api()
            started(await start(api, forwarded("192.0.2.1")))
            started(await start(api, forwarded("192.0.2.2")))
            # Only the rightmost hop our proxy wrote counts: a client cannot choose its own.
            started(await start(api, forwarded("192.0.2.1, 192.0.2.3")))
            assert_error(await start(api, forwarded("192.0.2.9, 192.0.2.2")), 429, "too_many_waiting")

    async def test_the_forwarded_scheme_counts_only_from_a_trusted_proxy(
        self, server_factory: Callable[..., ServerProcess]
    ) -> None:
        untrusting = server_factory(name="untrusting", start=False)
        trusting = server_factory(env=PROXY, name="trusting", start=False)
        for server in (untrusting, trusting):
            server.add_user("alice")
            server.start()
        results = []
        for server in (untrusting, trusting):
            async with Harness(server) as h:
                host = server.url.removeprefix("http://")
                login = await h.api().request(
                    "POST",
                    "/api/auth/login",
                    json={"username": "alice", "password": "correct-horse-battery-staple"},
                    headers={"Origin": f"https://{host}", "X-Forwarded-Proto": "https"},
                )
                results.append(login.status)
        assert results == [403, 200]


async def test_danger_words_from_one_address_raise_one_conversation_only(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(env=PROXY)
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        api = h.api()
        real = started(await start(api, forwarded(REAL_ADDRESS)))
        flood = [started(await start(api, forwarded(FLOOD_ADDRESS), "en")) for _ in range(4)]
        for conversation in flood:
            relative = await h.relative(conversation.token)
            mark = relative.log.mark()
            assert (await relative.send("there is a bomb"))["ok"]
            bot = await relative.log.wait_for("message", lambda m: m["sender"] == "bot", since=mark)
            assert "112" in bot["text"], "every one of them is still told the emergency number"
        flood_ids = {c.conversation_id for c in flood}
        queue = await alice.socket.log.wait_for(
            "queue",
            lambda q: sum(item["priority_reason"] == "danger_words" for item in q["conversations"]) == 4,
        )
    order = queue_ids(queue)
    assert order.index(real.conversation_id) == 1, order
    assert order[0] in flood_ids
    raised = [item for item in queue["conversations"] if item["priority"] > 0]
    assert [item["conversation_id"] for item in raised] == [order[0]]


async def test_a_relative_gone_for_abandon_after_is_closed_and_one_who_returns_keeps_the_place(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(env={"KINLINE_CHAT__ABANDON_AFTER": "4s"})
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        returning = await h.start_conversation()
        returning_socket = await h.relative(returning.token)
        leaving = await h.start_conversation()
        leaving_socket = await h.relative(leaving.token)
        staying = await h.start_conversation()
        await h.relative(staying.token)
        everyone = [returning.conversation_id, leaving.conversation_id, staying.conversation_id]
        await alice.socket.log.wait_for("queue", lambda q: queue_ids(q) == everyone)

        await returning_socket.close()
        back = await h.relative(returning.token)
        await leaving_socket.close()
        mark = alice.socket.log.mark()
        queue = await alice.socket.log.wait_for(
            "queue", lambda q: leaving.conversation_id not in queue_ids(q), since=mark, timeout=30
        )
        await back.barrier()
        statuses = back.log.named("status")
    assert queue_ids(queue) == [returning.conversation_id, staying.conversation_id]
    assert statuses[-1]["state"] == "waiting" and statuses[-1]["queue_position"] == 1
    rows = query_database(server, "SELECT id, state, outcome FROM conversations ORDER BY created_at", *())
    assert rows == [
        (returning.conversation_id, "waiting", None),
        (leaving.conversation_id, "closed", "abandoned"),
        (staying.conversation_id, "waiting", None),
    ]


class TestLeave:
    async def test_leave_ends_the_token_the_resume_code_and_every_open_socket(
        self, server_factory: Callable[..., ServerProcess]
    ) -> None:
        server = server_factory(env={"KINLINE_BOOKING__KINDS__PHONE__MIN_NOTICE": "0s"})
        async with Harness(server) as h:
            (alice,) = await h.counsellors("alice")
            booking = BookingClient(alice.api, h.api())
            await booking.open_all_week()
            conversation = await h.start_conversation()
            assert (await alice.socket.claim(conversation.conversation_id))["ok"]
            escalation = await alice.api.request(
                "POST", "/api/escalations", json=draft_body(conversation.conversation_id)
            )
            assert escalation.status == 201, escalation.body
            booked = await booking.book(await booking.next_start(60), conversation_token=conversation.token)
            leaver, other_tab = await h.relative(conversation.token), await h.relative(conversation.token)
            public = h.api()
            mark = alice.socket.log.mark()

            assert await leaver.call("leave", {}) == {"ok": True}
            await asyncio.gather(leaver.wait_disconnected(), other_tab.wait_disconnected())
            await alice.socket.log.wait_for("mine", lambda m: m["conversations"] == [], since=mark)
            reconnect = await refused_code(h, conversation.token)
            resume = await public.request(
                "POST", "/api/conversations/resume", json={"resume_code": conversation.resume_code}
            )
            offer = await public.request(
                "POST", "/api/appointments/offer", json={"conversation_token": conversation.token}
            )
            status = await public.request(
                "POST", "/api/escalations/status", json={"resume_code": conversation.resume_code}
            )
            manage = await public.request(
                "POST", "/api/appointments/lookup", json={"manage_code": booked["manage_code"]}
            )
        assert leaver.log.named("status")[-1]["state"] == "closed"
        assert reconnect == "invalid_token"
        assert_error(resume, 404, "not_found")
        assert_error(offer, 401, "invalid_token")
        assert status.status == 200 and status.body == {"escalations": []}, status.body
        assert manage.status == 200 and manage.body["appointment"]["state"] == "booked", manage.body
        rows = query_database(
            server, "SELECT state, outcome FROM conversations WHERE id = ?", conversation.conversation_id
        )
        assert rows == [("closed", "left_by_relative")]

    async def test_typing_is_not_answered_ok_once_the_conversation_is_closed(
        self, server: ServerProcess
    ) -> None:
        async with Harness(server) as h:
            (alice,) = await h.counsellors("alice")
            conversation = await h.start_conversation()
            relative = await h.relative(conversation.token)
            assert (await alice.socket.claim(conversation.conversation_id))["ok"]
            closed = await alice.socket.call(
                "close", {"conversation_id": conversation.conversation_id, "outcome": "supported"}
            )
            assert closed["ok"], closed
            typing = await relative.call("typing", {})
        assert typing["ok"] is False and typing["error"]["code"] == "conversation_closed"

    async def test_quick_exit_leaves_by_token_over_http(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            conversation = await h.start_conversation()
            relative = await h.relative(conversation.token)
            api = h.api()
            left = await api.request("POST", "/api/conversations/leave", json={"token": conversation.token})
            await relative.wait_disconnected()
            again = await api.request("POST", "/api/conversations/leave", json={"token": conversation.token})
            reconnect = await refused_code(h, conversation.token)
        assert left.status == 204
        assert_error(again, 401, "invalid_token")
        assert reconnect == "invalid_token"


async def test_the_sixth_socket_of_one_conversation_is_refused(server: ServerProcess) -> None:
    async with Harness(server) as h:
        conversation = await h.start_conversation()
        tabs = [await h.relative(conversation.token) for _ in range(5)]
        sixth = await refused_code(h, conversation.token)
        await tabs[0].barrier()
        still_open = [tab.connected for tab in tabs]
    assert sixth == "too_many_sockets"
    assert still_open == [True] * 5


async def test_leaving_disconnects_the_relative_in_every_process(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """Two processes on one PostgreSQL and one Redis: the tab on the other process goes too."""
    with postgres_server() as database_url, redis_server() as redis_url:
        shared = {
            "KINLINE_DATABASE_URL": database_url,
            "KINLINE_SCALE__REDIS_URL": redis_url,
            "KINLINE_SECURITY__DATA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        }
        server_a = server_factory(env=shared, name="a")
        server_b = server_factory(env=shared, name="b")
        async with Harness(server_a) as a, Harness(server_b) as b:
            conversation = await a.start_conversation()
            here = await a.relative(conversation.token)
            there = await b.relative(conversation.token)
            assert await here.call("leave", {}) == {"ok": True}
            await asyncio.gather(here.wait_disconnected(), there.wait_disconnected())
            refused = await refused_code(b, conversation.token)
        assert refused == "invalid_token"
