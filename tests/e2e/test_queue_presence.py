"""Issue 11 item 6, against real server processes and real socket.io clients: a waiting relative
whose last page has gone turns "away" in the counsellors' queue, comes back with the same place,
closes as abandoned after chat.abandon_after, and leaves the queue at once by quick exit or leave;
with two processes the flag follows the stored presence, not one process's memory."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable
from typing import Any

from tests.support.clients import Harness, Staff, query_database, queue_ids
from tests.support.server import ServerProcess
from tests.support.services import postgres_server, redis_server

AWAY_AFTER = {"KINLINE_CHAT__AWAY_AFTER": "1s"}
# Long enough that only the sweep's reading of the stored presence can clear a flag in time.
PRESENCE_WAIT = 30.0


def away_of(queue: dict[str, Any]) -> dict[str, bool]:
    return {item["conversation_id"]: item["away"] for item in queue["conversations"]}


def shows(expected: dict[str, bool]) -> Callable[[dict[str, Any]], bool]:
    """The queue holds exactly these conversations, with these away flags."""
    return lambda queue: away_of(queue) == expected


async def wait_queue(staff: Staff, expected: dict[str, bool], since: int = 0) -> dict[str, Any]:
    queue: dict[str, Any] = await staff.socket.log.wait_for(
        "queue", shows(expected), since=since, timeout=PRESENCE_WAIT
    )
    return queue


async def test_a_relative_who_closes_the_page_turns_away_and_comes_back_to_the_same_place(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(env=AWAY_AFTER)
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        first, middle, last = [await h.start_conversation() for _ in range(3)]
        await h.relative(first.token)
        middle_socket = await h.relative(middle.token)
        await h.relative(last.token)
        ids = [first.conversation_id, middle.conversation_id, last.conversation_id]
        await wait_queue(alice, dict.fromkeys(ids, False))

        mark = alice.socket.log.mark()
        await middle_socket.close()
        away = await wait_queue(
            alice, {**dict.fromkeys(ids, False), middle.conversation_id: True}, since=mark
        )
        mark = alice.socket.log.mark()
        back = await h.relative(middle.token)
        present = await wait_queue(alice, dict.fromkeys(ids, False), since=mark)
        await back.barrier()
    assert queue_ids(away) == ids
    assert queue_ids(present) == ids
    assert back.log.named("status")[0]["queue_position"] == 2


async def test_an_away_conversation_closes_as_abandoned_and_is_listed_so(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(env={**AWAY_AFTER, "KINLINE_CHAT__ABANDON_AFTER": "4s"})
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        staying, leaving = await h.start_conversation(), await h.start_conversation()
        await h.relative(staying.token)
        leaving_socket = await h.relative(leaving.token)
        await wait_queue(alice, {staying.conversation_id: False, leaving.conversation_id: False})

        mark = alice.socket.log.mark()
        await leaving_socket.close()
        await wait_queue(alice, {staying.conversation_id: False, leaving.conversation_id: True}, since=mark)
        await wait_queue(alice, {staying.conversation_id: False}, since=mark)
        closed = await alice.api.request("GET", "/api/staff/conversations?state=closed")
    assert closed.status == 200, closed.body
    assert [(c["conversation_id"], c["outcome"]) for c in closed.body["conversations"]] == [
        (leaving.conversation_id, "abandoned")
    ]
    rows = query_database(
        server, "SELECT state, outcome FROM conversations WHERE id = ?", leaving.conversation_id
    )
    assert rows == [("closed", "abandoned")]


async def test_quick_exit_and_leave_take_the_relative_out_of_the_queue_at_once(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """With the default away_after and abandon_after (a minute, a quarter of an hour) only the
    leaving itself can take them out within the wait."""
    server = server_factory()
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        staying, exiting, leaving = [await h.start_conversation() for _ in range(3)]
        for conversation in (staying, exiting, leaving):
            await h.relative(conversation.token)
        await wait_queue(
            alice,
            {staying.conversation_id: False, exiting.conversation_id: False, leaving.conversation_id: False},
        )
        leaver = h.relative_socket()
        await leaver.connect(auth={"token": leaving.token})

        mark = alice.socket.log.mark()
        beacon = await h.api().request("POST", "/api/conversations/leave", json={"token": exiting.token})
        await wait_queue(alice, {staying.conversation_id: False, leaving.conversation_id: False}, since=mark)
        mark = alice.socket.log.mark()
        assert await leaver.call("leave", {}) == {"ok": True}
        await wait_queue(alice, {staying.conversation_id: False}, since=mark)
    assert beacon.status < 300, beacon.body
    rows = query_database(server, "SELECT id, state, outcome FROM conversations WHERE state = 'closed'", *())
    assert sorted(rows) == sorted(
        [
            (exiting.conversation_id, "closed", "left_by_relative"),
            (leaving.conversation_id, "closed", "left_by_relative"),
        ]
    )


async def test_with_two_processes_away_follows_the_stored_presence(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """A relative on process a, the counsellor on process b: the flag turns there, and turns back
    when the relative returns on b with the resume code, first in line as before.
    A second tab on the other process keeps a relative present when the first one closes: by the
    time a conversation started later has turned away, that one has not."""
    with postgres_server() as database_url, redis_server() as redis_url:
        shared = {
            "KINLINE_DATABASE_URL": database_url,
            "KINLINE_SCALE__REDIS_URL": redis_url,
            "KINLINE_SECURITY__DATA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "KINLINE_CHAT__AWAY_AFTER": "3s",
        }
        server_a = server_factory(env=shared, name="a")
        server_b = server_factory(env=shared, name="b")
        async with Harness(server_a) as a, Harness(server_b) as b:
            (alice,) = await b.counsellors("alice")
            wanderer, two_tabs = await a.start_conversation(), await a.start_conversation()
            wanderer_socket = await a.relative(wanderer.token)
            tab_a, _tab_b = await asyncio.gather(a.relative(two_tabs.token), b.relative(two_tabs.token))
            both = {wanderer.conversation_id: False, two_tabs.conversation_id: False}
            await wait_queue(alice, both)

            mark = alice.socket.log.mark()
            await wanderer_socket.close()
            await wait_queue(alice, {**both, wanderer.conversation_id: True}, since=mark)
            mark = alice.socket.log.mark()
            resumed = await b.api().request(
                "POST", "/api/conversations/resume", json={"resume_code": wanderer.resume_code}
            )
            assert resumed.status == 200, resumed.body
            back = await b.relative(resumed.body["token"])
            await wait_queue(alice, both, since=mark)
            await back.barrier()
            assert back.log.named("status")[0]["queue_position"] == 1

            mark = alice.socket.log.mark()
            await tab_a.close()
            later = await a.start_conversation()
            await wait_queue(alice, {**both, later.conversation_id: True}, since=mark)
            seen = alice.socket.log.named("queue", since=mark)
    assert all(not away_of(queue).get(two_tabs.conversation_id) for queue in seen)
