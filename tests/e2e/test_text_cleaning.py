"""Issue 9, finding 9 against a real server: bidi controls and NUL never reach stored text, the
joiners do, and a client_id is a UUID on both namespaces."""

from __future__ import annotations

from tests.support.clients import Harness
from tests.support.server import ServerProcess

SPOOF = "abc\u202egpj.exe"
PERSIAN = "می\u200cخواهم"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"


async def test_bidi_controls_and_nul_are_removed_and_joiners_kept(server: ServerProcess) -> None:
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        conversation = await h.start_conversation()
        relative = await h.relative(conversation.token)
        sent = await relative.send(f"{SPOOF} \x00{PERSIAN} {FAMILY}")
        assert (await alice.socket.claim(conversation.conversation_id))["ok"]
        answer = await alice.socket.send(conversation.conversation_id, "svar \u2066isolerat\u2069 \u202dslut")
        note = await alice.socket.call(
            "add_note", {"conversation_id": conversation.conversation_id, "text": "not\u202bering\x00"}
        )
        detail = await alice.api.request("GET", f"/api/staff/conversations/{conversation.conversation_id}")
    assert sent["ok"] and answer["ok"] and note["ok"], (sent, answer, note)
    expected_relative = f"abcgpj.exe {PERSIAN} {FAMILY}"
    assert sent["message"]["text"] == expected_relative
    stored = {m["client_id"]: m["text"] for m in detail.body["messages"]}
    assert stored[sent["message"]["client_id"]] == expected_relative
    assert stored[answer["message"]["client_id"]] == "svar isolerat slut"
    assert [n["text"] for n in detail.body["notes"]] == ["notering"]


async def test_a_client_id_that_is_not_a_uuid_is_refused(server: ServerProcess) -> None:
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        conversation = await h.start_conversation()
        relative = await h.relative(conversation.token)
        by_relative = await relative.send("hej", client_id="m1")
        assert (await alice.socket.claim(conversation.conversation_id))["ok"]
        by_counsellor = await alice.socket.send(conversation.conversation_id, "hej", client_id="x" * 36)
        history = await relative.call("history", {"after_seq": 0})
    for ack in (by_relative, by_counsellor):
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_client_id", ack
    assert "hej" not in [m["text"] for m in history["messages"]]
