"""Language routing with real socket.io clients against a real server: a Somali relative, a
counsellor who speaks Somali and one who speaks only Swedish (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from tests.support.clients import Harness, Staff, queue_ids
from tests.support.server import ServerProcess


async def speaker(h: Harness, name: str, languages: list[str], connect: bool = True) -> Staff:
    await h.add_staff(name)
    staff = await h.sign_in(name, connect=False)
    body = {"languages": languages, "weekly": [], "exceptions": []}
    assert (await staff.api.request("PUT", "/api/me/availability", json=body)).status == 200
    if connect:
        await staff.socket.connect(headers=staff.cookie_header)
    return staff


def item(queue: dict[str, Any], conversation_id: str) -> dict[str, Any]:
    return next((c for c in queue["conversations"] if c["conversation_id"] == conversation_id), {})


async def test_the_somali_notice_follows_the_somali_counsellor_coming_and_going(
    server: ServerProcess,
) -> None:
    async with Harness(server) as h:
        await speaker(h, "sven", ["sv"])
        somali = await h.start_conversation("so")
        relative = await h.relative(somali.token)
        first = await relative.log.wait_for("status")
        assert first["state"] == "waiting"
        assert first["language_online"] is False and first["language_choice"] is None

        mark = relative.log.mark()
        sofia = await speaker(h, "sofia", ["so", "sv"])
        online = await relative.log.wait_for("status", lambda s: s["language_online"] is True, since=mark)
        assert online["queue_position"] == 1

        mark = relative.log.mark()
        await sofia.socket.close()
        await relative.log.wait_for("status", lambda s: s["language_online"] is False, since=mark)


async def test_each_counsellor_sees_their_languages_first(server: ServerProcess) -> None:
    async with Harness(server) as h:
        somali = await h.start_conversation("so")
        swedish = await h.start_conversation("sv")
        sven = await speaker(h, "sven", ["sv"])
        sofia = await speaker(h, "sofia", ["so"])
        both = [somali.conversation_id, swedish.conversation_id]
        sven_queue = await sven.socket.log.wait_for("queue", lambda q: set(queue_ids(q)) == set(both))
        sofia_queue = await sofia.socket.log.wait_for("queue", lambda q: set(queue_ids(q)) == set(both))
        assert queue_ids(sven_queue) == [swedish.conversation_id, somali.conversation_id]
        assert queue_ids(sofia_queue) == [somali.conversation_id, swedish.conversation_id]
        assert item(sven_queue, somali.conversation_id)["language"] == "so"

        # A new conversation is pushed to each in their own order.
        mark = sven.socket.log.mark()
        later = await h.start_conversation("so")
        pushed = await sven.socket.log.wait_for(
            "queue", lambda q: later.conversation_id in queue_ids(q), since=mark
        )
        assert queue_ids(pushed) == [swedish.conversation_id, somali.conversation_id, later.conversation_id]


async def test_waiting_for_somali_is_honoured(server: ServerProcess) -> None:
    async with Harness(server) as h:
        sven = await speaker(h, "sven", ["sv"])
        somali = await h.start_conversation("so")
        swedish = await h.start_conversation("sv")
        relative = await h.relative(somali.token)
        await relative.log.wait_for("status")

        ack = await relative.call("choose_language", {"choice": "wait"})
        assert ack["ok"] is True
        assert ack["status"]["language_choice"] == "wait"
        assert ack["status"]["language_online"] is False
        assert ack["status"]["queue_position"] == 1  # first for a Somali speaker, when one comes

        marked = await sven.socket.log.wait_for(
            "queue", lambda q: item(q, somali.conversation_id).get("needs_language") is True
        )
        assert queue_ids(marked) == [swedish.conversation_id, somali.conversation_id]
        assert item(marked, somali.conversation_id)["language_choice"] == "wait"

        sofia = await speaker(h, "sofia", ["so"])
        hers = await sofia.socket.log.wait_for("queue")
        assert queue_ids(hers)[0] == somali.conversation_id
        assert item(hers, somali.conversation_id)["needs_language"] is False

        mark = sven.socket.log.mark()
        taken = await relative.call("choose_language", {"choice": "any"})
        assert taken["ok"] is True and taken["status"]["language_choice"] == "any"
        unmarked = await sven.socket.log.wait_for(
            "queue", lambda q: item(q, somali.conversation_id).get("needs_language") is False, since=mark
        )
        assert item(unmarked, somali.conversation_id)["language_choice"] == "any"
        assert queue_ids(unmarked) == [swedish.conversation_id, somali.conversation_id]


async def test_a_bad_choice_is_refused_and_a_claimed_conversation_cannot_choose(
    server: ServerProcess,
) -> None:
    async with Harness(server) as h:
        sofia = await speaker(h, "sofia", ["so"])
        somali = await h.start_conversation("so")
        relative = await h.relative(somali.token)
        refused = await relative.call("choose_language", {"choice": "later"})
        assert refused["ok"] is False and refused["error"]["code"] == "invalid_request"
        assert (await sofia.socket.claim(somali.conversation_id))["ok"] is True
        late = await relative.call("choose_language", {"choice": "wait"})
        assert late["ok"] is False and late["error"]["code"] == "not_waiting"
