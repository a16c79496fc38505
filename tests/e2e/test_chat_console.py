"""The /counsellor namespace of docs/protocol.md against a real server process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import socketio

from tests.support.clients import SESSION_COOKIE, Harness, connect_error_code, queue_ids
from tests.support.server import ServerProcess

QUEUE_ITEM_KEYS = {
    "conversation_id",
    "language",
    "topic",
    "waiting_since",
    "priority",
    "priority_reason",
    "away",
}
NOTE_KEYS = {"id", "conversation_id", "author", "text", "created_at"}


def failed_code(ack: Any) -> str:
    assert isinstance(ack, dict) and ack.get("ok") is False, ack
    assert set(ack["error"]) == {"code", "message"}, ack
    return str(ack["error"]["code"])


def mine_ids(payload: dict[str, Any]) -> list[str]:
    return [c["conversation_id"] for c in payload["conversations"]]


class TestConnect:
    async def test_without_a_valid_session_cookie_the_console_is_refused(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            for headers in ({}, {"Cookie": f"{SESSION_COOKIE}=forged-session"}):
                socket = h.counsellor_socket()
                with pytest.raises(socketio.exceptions.ConnectionError):
                    await socket.connect(headers=headers)
                assert not socket.connected
                assert socket.log.entries == []
                assert [connect_error_code(data) for data in socket.connect_errors] == ["not_authenticated"]

    async def test_the_queue_is_pushed_on_connect_and_on_every_change(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            earlier = await h.start_conversation("sv")
            alice, bob = await h.counsellors("alice", "bob")
            on_connect = await alice.socket.log.wait_for("queue")
            assert queue_ids(on_connect) == [earlier.conversation_id]
            assert set(on_connect["conversations"][0]) >= QUEUE_ITEM_KEYS

            mark = alice.socket.log.mark()
            later = await h.start_conversation("ar", "leaving_myself")
            grown = await alice.socket.log.wait_for(
                "queue", lambda q: later.conversation_id in queue_ids(q), since=mark
            )
            assert queue_ids(grown) == [earlier.conversation_id, later.conversation_id]
            item = grown["conversations"][1]
            assert (item["language"], item["topic"], item["priority"]) == ("ar", "leaving_myself", 0)

            mark = alice.socket.log.mark()
            assert (await bob.socket.claim(earlier.conversation_id))["ok"] is True
            shrunk = await alice.socket.log.wait_for(
                "queue", lambda q: earlier.conversation_id not in queue_ids(q), since=mark
            )
        assert queue_ids(shrunk) == [later.conversation_id]

    async def test_a_long_queue_lists_its_head_and_counts_the_rest(
        self, server_factory: Callable[..., ServerProcess]
    ) -> None:
        """Each claim must not send every console the whole queue: the head (console_queue_shown)
        and the total, and the next one moves up into the list as the head is claimed."""
        server = server_factory(env={"KINLINE_CHAT__CONSOLE_QUEUE_SHOWN": "3"})
        async with Harness(server) as h:
            started = [(await h.start_conversation("sv")).conversation_id for _ in range(5)]
            alice, bob = await h.counsellors("alice", "bob")
            on_connect = await alice.socket.log.wait_for("queue")
            assert (queue_ids(on_connect), on_connect["total"]) == (started[:3], 5)

            mark = alice.socket.log.mark()
            assert (await bob.socket.claim(started[0]))["ok"] is True
            moved = await alice.socket.log.wait_for("queue", lambda q: q["total"] == 4, since=mark)
            assert queue_ids(moved) == started[1:4]

            mark = alice.socket.log.mark()
            for conversation_id in started[1:3]:
                assert (await bob.socket.claim(conversation_id))["ok"] is True
            short = await alice.socket.log.wait_for("queue", lambda q: q["total"] == 2, since=mark)
        assert queue_ids(short) == started[3:]


class TestClaim:
    async def test_ten_concurrent_claims_have_exactly_one_winner(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            staff = await h.counsellors(*(f"counsellor{index}" for index in range(10)))
            acks = await asyncio.gather(*(member.socket.claim(started.conversation_id) for member in staff))
            winners = [(member, ack) for member, ack in zip(staff, acks, strict=True) if ack["ok"]]
            losers = [ack for ack in acks if not ack["ok"]]
            assert len(winners) == 1, acks
            winner, won = winners[0]
            assert won["conversation"]["conversation_id"] == started.conversation_id
            assert won["conversation"]["state"] == "active"
            assert won["conversation"]["counsellor_id"] == winner.id
            assert [failed_code(ack) for ack in losers] == ["already_claimed"] * 9
            mine = await winner.socket.log.wait_for("mine", lambda p: started.conversation_id in mine_ids(p))
        assert mine["conversations"][0]["state"] == "active"

    async def test_a_counsellor_at_capacity_cannot_claim_more(
        self, server_factory: Callable[..., ServerProcess]
    ) -> None:
        server = server_factory(env={"KINLINE_CHAT__COUNSELLOR_CAPACITY": "1"})
        async with Harness(server) as h:
            first = await h.start_conversation("sv")
            second = await h.start_conversation("sv")
            alice, bob = await h.counsellors("alice", "bob")
            assert (await alice.socket.claim(first.conversation_id))["ok"] is True
            refused = await alice.socket.claim(second.conversation_id)
            taken_by_bob = await bob.socket.claim(second.conversation_id)
        assert failed_code(refused) == "capacity_reached"
        assert taken_by_bob["ok"] is True

    async def test_an_unknown_conversation_is_not_found(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            (alice,) = await h.counsellors("alice")
            ack = await alice.socket.claim("00000000-0000-0000-0000-000000000000")
        assert failed_code(ack) == "not_found"


class TestWhoSeesWhat:
    async def test_counsellors_only_receive_messages_of_conversations_they_hold(
        self, server: ServerProcess
    ) -> None:
        async with Harness(server) as h:
            alices_case = await h.start_conversation("sv")
            bobs_case = await h.start_conversation("en")
            alice, bob = await h.counsellors("alice", "bob")
            await alice.socket.claim(alices_case.conversation_id)
            await bob.socket.claim(bobs_case.conversation_id)
            to_alice = await h.relative(alices_case.token)
            to_bob = await h.relative(bobs_case.token)

            await to_alice.send("för Alice")
            await to_bob.send("for Bob")
            await alice.socket.send(alices_case.conversation_id, "svar från Alice")
            await bob.socket.send(bobs_case.conversation_id, "reply from Bob")
            await alice.socket.log.wait_for("message", lambda m: m["text"] == "för Alice")
            await bob.socket.log.wait_for("message", lambda m: m["text"] == "for Bob")
            await asyncio.gather(
                alice.socket.barrier(), bob.socket.barrier(), to_alice.barrier(), to_bob.barrier()
            )

        assert bob.socket.messages_of(alices_case.conversation_id) == []
        assert alice.socket.messages_of(bobs_case.conversation_id) == []
        assert {m["conversation_id"] for m in to_alice.messages()} == {alices_case.conversation_id}
        assert "svar från Alice" in [m["text"] for m in to_alice.messages()]
        assert "reply from Bob" not in [m["text"] for m in to_alice.messages()]

    async def test_a_counsellor_who_does_not_hold_it_cannot_write_into_it(
        self, server: ServerProcess
    ) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            alice, bob = await h.counsellors("alice", "bob")
            await alice.socket.claim(started.conversation_id)
            ack = await bob.socket.send(started.conversation_id, "intruding")
        assert failed_code(ack) == "not_holder"

    async def test_notes_never_reach_the_relative(self, server: ServerProcess) -> None:
        note_text = "Privat: pappan verkar orolig för skolan"
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            (alice,) = await h.counsellors("alice")
            await alice.socket.claim(started.conversation_id)
            relative = await h.relative(started.token)

            added = await alice.socket.call(
                "add_note", {"conversation_id": started.conversation_id, "text": note_text}
            )
            pushed = await alice.socket.log.wait_for("note")
            listed = await alice.socket.call("notes", {"conversation_id": started.conversation_id})
            await relative.barrier()
            history = await relative.call("history", {"after_seq": 0})
        assert added["ok"] is True
        assert set(added["note"]) == NOTE_KEYS
        assert added["note"]["text"] == note_text
        assert pushed == added["note"]
        assert listed == {"ok": True, "notes": [added["note"]]}
        assert relative.log.named("note") == []
        assert all(note_text not in repr(data) for _name, data in relative.log.entries)
        assert all(m["text"] != note_text for m in history["messages"])


class TestTransferAndClose:
    async def test_transfer_hands_the_conversation_and_its_messages_to_the_colleague(
        self, server: ServerProcess
    ) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            alice, bob = await h.counsellors("alice", "bob")
            await alice.socket.claim(started.conversation_id)
            relative = await h.relative(started.token)
            alice_mark, bob_mark = alice.socket.log.mark(), bob.socket.log.mark()

            ack = await alice.socket.call(
                "transfer", {"conversation_id": started.conversation_id, "to_user_id": bob.id}
            )
            assert ack["ok"] is True
            bobs = await bob.socket.log.wait_for(
                "mine", lambda p: started.conversation_id in mine_ids(p), since=bob_mark
            )
            await alice.socket.log.wait_for("mine", lambda p: mine_ids(p) == [], since=alice_mark)

            await relative.send("hallå?")
            await bob.socket.log.wait_for("message", lambda m: m["text"] == "hallå?")
            await alice.socket.barrier()
            from_alice = await alice.socket.send(started.conversation_id, "jag igen")
            from_bob = await bob.socket.send(started.conversation_id, "Hej, jag tar över")
        assert bobs["conversations"][0]["counsellor_id"] == bob.id
        assert alice.socket.messages_of(started.conversation_id, since=alice_mark) == []
        assert failed_code(from_alice) == "not_holder"
        assert from_bob["ok"] is True

    async def test_close_needs_a_known_outcome(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            (alice,) = await h.counsellors("alice")
            await alice.socket.claim(started.conversation_id)
            relative = await h.relative(started.token)

            unknown = await alice.socket.call(
                "close", {"conversation_id": started.conversation_id, "outcome": "vanished"}
            )
            still_open = await alice.socket.send(started.conversation_id, "fortfarande öppet")
            mark = relative.log.mark()
            closed = await alice.socket.call(
                "close", {"conversation_id": started.conversation_id, "outcome": "supported"}
            )
            status = await relative.log.wait_for("status", lambda s: s["state"] == "closed", since=mark)
            too_late = await relative.send("hej?")
        assert failed_code(unknown) == "unknown_outcome"
        assert still_open["ok"] is True
        assert closed == {"ok": True}
        assert status["queue_position"] is None
        assert failed_code(too_late) == "conversation_closed"

    async def test_closed_history_stays_readable_over_http(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            alice, bob = await h.counsellors("alice", "bob")
            await alice.socket.claim(started.conversation_id)
            relative = await h.relative(started.token)
            await relative.send("Min dotter har fått nya vänner")
            await alice.socket.send(started.conversation_id, "Berätta mer om vännerna")
            await alice.socket.call(
                "add_note", {"conversation_id": started.conversation_id, "text": "uppföljning"}
            )
            everything = (await relative.call("history", {"after_seq": 0}))["messages"]
            await alice.socket.call(
                "close", {"conversation_id": started.conversation_id, "outcome": "referred"}
            )

            path = f"/api/staff/conversations/{started.conversation_id}"
            by_holder = await alice.api.request("GET", path)
            by_colleague = await bob.api.request("GET", path)
            listed = await bob.api.request("GET", "/api/staff/conversations?state=closed&limit=50")
            anonymous = await h.api().request("GET", path)
        for result in (by_holder, by_colleague):
            assert result.status == 200
            assert result.body["conversation"]["state"] == "closed"
            assert result.body["conversation"]["outcome"] == "referred"
            assert result.body["messages"] == everything
            assert [n["text"] for n in result.body["notes"]] == ["uppföljning"]
        assert [c["conversation_id"] for c in listed.body["conversations"]] == [started.conversation_id]
        assert anonymous.status == 401
