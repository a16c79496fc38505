"""The /relative namespace of docs/protocol.md against a real server process."""

from __future__ import annotations

from typing import Any

import pytest
import socketio

from tests.support.clients import Harness, RelativeSocket, connect_error_code, new_client_id, query_database
from tests.support.server import ServerProcess

MESSAGE_KEYS = {"id", "conversation_id", "seq", "sender", "text", "sent_at", "client_id"}
STATUS_KEYS = {
    "state",
    "queue_position",
    "estimated_wait_seconds",
    "language",
    "language_online",
    "language_choice",
    "line",
    "round",
    "closed_reason",
}


def failed_code(ack: Any) -> str:
    """The code of a failed ack, after checking its one shape."""
    assert isinstance(ack, dict) and ack.get("ok") is False, ack
    assert set(ack) == {"ok", "error"}, ack
    assert set(ack["error"]) == {"code", "message"}, ack
    return str(ack["error"]["code"])


async def last_seq(relative: RelativeSocket) -> int:
    ack = await relative.call("history", {"after_seq": 0})
    return max((m["seq"] for m in ack["messages"]), default=0)


class TestConnect:
    async def test_a_forged_or_missing_token_is_refused(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            await h.start_conversation("sv")
            for auth in ({"token": "forged-token-" + "x" * 30}, {}, None, {"token": 42}):
                socket = h.relative_socket()
                with pytest.raises(socketio.exceptions.ConnectionError):
                    await socket.connect(auth=auth)
                assert not socket.connected
                assert socket.log.entries == []
                assert [connect_error_code(data) for data in socket.connect_errors] == ["invalid_token"], auth

    async def test_status_comes_first_then_every_message_in_order_once(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            writer = await h.relative(started.token)
            for text in ("ett", "två", "tre"):
                assert (await writer.send(text))["ok"] is True
            everything = (await writer.call("history", {"after_seq": 0}))["messages"]

            fresh = await h.relative(started.token)
            await fresh.barrier()
        names = [name for name, _ in fresh.log.entries]
        assert names[0] == "status"
        assert set(fresh.log.entries[0][1]) == STATUS_KEYS
        assert fresh.log.entries[0][1]["state"] == "waiting"
        assert fresh.messages() == everything
        assert [m["text"] for m in everything[-3:]] == ["ett", "två", "tre"]

    async def test_after_seq_replays_only_later_messages(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            writer = await h.relative(started.token)
            for text in ("ett", "två", "tre", "fyra"):
                await writer.send(text)
            everything = (await writer.call("history", {"after_seq": 0}))["messages"]
            cut = everything[-3]["seq"]

            resumed = await h.relative(started.token, after_seq=cut)
            await resumed.barrier()
        assert resumed.log.entries[0][0] == "status"
        assert resumed.messages() == [m for m in everything if m["seq"] > cut]
        assert [m["text"] for m in resumed.messages()] == ["tre", "fyra"]

    async def test_a_foreign_origin_is_refused_and_our_own_accepted(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            foreign = h.relative_socket()
            with pytest.raises(socketio.exceptions.ConnectionError):
                await foreign.connect(
                    auth={"token": started.token}, headers={"Origin": "https://evil.example"}
                )
            assert not foreign.connected

            own = h.relative_socket()
            await own.connect(auth={"token": started.token}, headers={"Origin": server.url})
            assert (await own.log.wait_for("status"))["state"] == "waiting"

    async def test_resume_after_reconnect_delivers_exactly_what_was_missed(
        self, server: ServerProcess
    ) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            (alice,) = await h.counsellors("alice")
            assert (await alice.socket.claim(started.conversation_id))["ok"] is True
            relative = await h.relative(started.token)
            await relative.send("hej")
            seen = await last_seq(relative)
            await relative.close()

            missed = []
            for text in ("Hej, jag heter Alice.", "Berätta mer.", "Jag finns här."):
                ack = await alice.socket.send(started.conversation_id, text)
                assert ack["ok"] is True
                missed.append(ack["message"])

            back = await h.relative(started.token, after_seq=seen)
            await back.barrier()
        assert back.log.entries[0][0] == "status"
        assert back.messages() == missed
        assert [m["seq"] for m in missed] == [seen + 1, seen + 2, seen + 3]


class TestSendMessage:
    async def test_the_ack_carries_m_and_comes_after_the_commit(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            relative = await h.relative(started.token)
            client_id = new_client_id()
            ack = await relative.send("Jag är orolig för min bror", client_id)
            assert ack["ok"] is True
            message = ack["message"]
            assert set(message) == MESSAGE_KEYS
            assert message["conversation_id"] == started.conversation_id
            assert message["sender"] == "relative"
            assert message["client_id"] == client_id
            assert message["text"] == "Jag är orolig för min bror"
            stored = query_database(
                server,
                "SELECT id, seq FROM messages WHERE conversation_id = ? AND client_id = ?",
                started.conversation_id,
                client_id,
            )
        assert stored == [(message["id"], message["seq"])]

    async def test_the_same_client_id_returns_the_same_m_and_stores_one_row(
        self, server: ServerProcess
    ) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            relative = await h.relative(started.token)
            client_id = new_client_id()
            first = await relative.send("skickas en gång", client_id)
            again = await relative.send("skickas en gång", client_id)
            await relative.barrier()
            rows = query_database(server, "SELECT count(*) FROM messages WHERE client_id = ?", client_id)
        assert first["ok"] is True
        assert again == first
        assert rows == [(1,)]
        # A repeat announces the stored M again (a process may have died before announcing it):
        # the same message each time, never a second one (docs/protocol.md, Messages).
        echoes = [m for m in relative.messages() if m["client_id"] == client_id]
        assert echoes == [first["message"]] * 2

    async def test_history_returns_later_messages_in_seq_order(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            relative = await h.relative(started.token)
            sent = [(await relative.send(text))["message"] for text in ("a", "b", "c")]
            full = await relative.call("history", {"after_seq": 0})
            later = await relative.call("history", {"after_seq": sent[0]["seq"]})
        assert full["ok"] is True
        seqs = [m["seq"] for m in full["messages"]]
        assert seqs == list(range(1, len(seqs) + 1))
        assert full["messages"][-3:] == sent
        assert later == {"ok": True, "messages": sent[1:]}

    async def test_4000_characters_pass_and_4001_are_too_long(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            relative = await h.relative(started.token)
            longest = await relative.send("ö" * 4000)
            too_long = await relative.send("ö" * 4001)
            empty = await relative.send("   ")
        assert longest["ok"] is True and len(longest["message"]["text"]) == 4000
        assert failed_code(too_long) == "text_too_long"
        assert failed_code(empty) == "empty_text"

    async def test_unknown_events_and_non_object_payloads_get_error_acks(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            relative = await h.relative(started.token)
            unknown = await relative.call("delete_everything", {})
            as_string = await relative.call("send_message", "hello")
            as_list = await relative.call("send_message", ["hello"])
            as_number = await relative.call("history", 3)
            wrong_field = await relative.call("send_message", {"client_id": new_client_id(), "text": 12})
            after = await relative.send("still works")
        assert failed_code(unknown) == "unknown_event"
        assert failed_code(as_string) == "invalid_request"
        assert failed_code(as_list) == "invalid_request"
        assert failed_code(as_number) == "invalid_request"
        assert failed_code(wrong_field) == "invalid_request"
        assert "text" in wrong_field["error"]["message"]
        assert after["ok"] is True


class TestTypingAndLeave:
    async def test_typing_reaches_the_holder_only(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            alice, bob = await h.counsellors("alice", "bob")
            await alice.socket.claim(started.conversation_id)
            relative = await h.relative(started.token)

            assert await relative.call("typing", {}) == {"ok": True}
            typing = await alice.socket.log.wait_for("typing")
            await bob.socket.barrier()

            assert await alice.socket.call("typing", {"conversation_id": started.conversation_id}) == {
                "ok": True
            }
            to_relative = await relative.log.wait_for("typing")
        assert typing == {"conversation_id": started.conversation_id}
        assert bob.socket.log.named("typing") == []
        assert to_relative == {"sender": "counsellor"}

    async def test_leave_closes_the_conversation(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            (alice,) = await h.counsellors("alice")
            await alice.socket.claim(started.conversation_id)
            await alice.socket.log.wait_for("mine", lambda p: len(p["conversations"]) == 1)
            relative = await h.relative(started.token)
            mark, console_mark = relative.log.mark(), alice.socket.log.mark()

            assert await relative.call("leave", {}) == {"ok": True}
            status = await relative.log.wait_for("status", since=mark)
            await alice.socket.log.wait_for("mine", lambda p: p["conversations"] == [], since=console_mark)
            await relative.wait_disconnected()  # leaving ends the relative's access (test_relative_access.py)
            detail = await alice.api.request("GET", f"/api/staff/conversations/{started.conversation_id}")
        assert status == {
            "state": "closed",
            "queue_position": None,
            "estimated_wait_seconds": None,
            "language": None,
            "language_online": None,
            "language_choice": None,
            "line": None,
            "round": None,
            "closed_reason": None,
        }
        assert detail.body["conversation"]["state"] == "closed"
        assert detail.body["conversation"]["outcome"] == "left_by_relative"


async def test_danger_words_bring_112_and_move_the_conversation_first(server: ServerProcess) -> None:
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        calm = await h.start_conversation("sv")
        urgent = await h.start_conversation("sv")
        relative = await h.relative(urgent.token)
        mark = relative.log.mark()

        ack = await relative.send("Jag är rädd att min son planerar självmord i kväll")
        assert ack["ok"] is True
        bot = await relative.log.wait_for("message", lambda m: m["sender"] == "bot", since=mark)
        queue = await alice.socket.log.wait_for(
            "queue",
            lambda q: any(item["priority"] > 0 for item in q["conversations"]),
        )
    assert "112" in bot["text"]
    assert bot["seq"] > ack["message"]["seq"]
    first, second = queue["conversations"]
    assert first["conversation_id"] == urgent.conversation_id
    assert first["priority"] > 0
    assert first["priority_reason"] == "danger_words"
    assert second["conversation_id"] == calm.conversation_id
    assert second["priority"] == 0
    assert second["priority_reason"] is None
