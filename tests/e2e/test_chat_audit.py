"""GET /api/staff/audit against a real server: supervisors and admins see who read or changed which
conversation, by display name, newest first and never with content; other roles are refused; the
reading is audited too (docs/protocol.md, docs/privacy.md)."""

from __future__ import annotations

import json

from tests.support.clients import Harness, Staff
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

AUDIT = "/api/staff/audit"
ENTRY_KEYS = {"id", "at", "actor_id", "actor", "action", "detail", "conversation_id"}
MESSAGE_CANARY = "canary-audit Blåsippa 4471"
NOTE_CANARY = "canary-audit-note Styvmorsviol 8812"


async def signed_in(harness: Harness, name: str, role: str, display_name: str) -> Staff:
    extra = ("--display-name", display_name) + (
        ("--route", "spanga-tensta") if role == "social_services" else ()
    )
    harness.server.add_user(name, role, DEFAULT_PASSWORD, *extra)
    return await harness.sign_in(name, connect=role != "social_services")


async def test_supervisors_and_admins_read_the_chat_audit_log_and_the_reading_is_audited(
    server: ServerProcess,
) -> None:
    async with Harness(server) as h:
        counsellor = await signed_in(h, "cora", "counsellor", "Cora Counsellor")
        supervisor = await signed_in(h, "sam", "supervisor", "Sam Supervisor")
        admin = await signed_in(h, "ada", "admin", "Ada Admin")
        started = await h.start_conversation("sv")
        other = await h.start_conversation("sv")
        relative = await h.relative(started.token)
        await relative.send(MESSAGE_CANARY)
        conversation_id = started.conversation_id
        assert (await counsellor.socket.claim(conversation_id))["ok"]
        note = await counsellor.socket.call(
            "add_note", {"conversation_id": conversation_id, "text": NOTE_CANARY}
        )
        assert note["ok"], note
        assert (await counsellor.socket.claim(other.conversation_id))["ok"]
        read = await supervisor.api.request("GET", f"/api/staff/conversations/{conversation_id}")
        assert read.status == 200

        one = await supervisor.api.request(
            "GET", f"{AUDIT}?object_type=conversation&object_id={conversation_id}"
        )
        assert one.status == 200, one.body
        entries = one.body["entries"]
        assert all(set(entry) == ENTRY_KEYS for entry in entries)
        assert [(e["actor"], e["action"], e["conversation_id"]) for e in entries] == [
            ("Sam Supervisor", "conversation.read", conversation_id),
            ("Cora Counsellor", "note.add", conversation_id),
            ("Cora Counsellor", "conversation.claim", conversation_id),
        ]
        assert [e["actor_id"] for e in entries] == [supervisor.id, counsellor.id, counsellor.id]
        ids = [e["id"] for e in entries]
        assert ids == sorted(ids, reverse=True)

        everything = await admin.api.request("GET", f"{AUDIT}?limit=2")
        assert everything.status == 200, everything.body
        assert [(e["actor"], e["action"]) for e in everything.body["entries"]] == [
            ("Sam Supervisor", "audit.read"),
            ("Sam Supervisor", "conversation.read"),
        ]

        again = await supervisor.api.request("GET", f"{AUDIT}?object_id={conversation_id}&limit=1")
        assert [(e["actor"], e["action"]) for e in again.body["entries"]] == [
            ("Sam Supervisor", "audit.read")
        ]
        whole = await supervisor.api.request("GET", f"{AUDIT}?limit=1")
        assert [(e["actor"], e["action"], e["conversation_id"]) for e in whole.body["entries"]] == [
            ("Sam Supervisor", "audit.read", conversation_id)
        ]
        latest = await supervisor.api.request("GET", f"{AUDIT}?limit=1")
        assert [(e["actor"], e["conversation_id"]) for e in latest.body["entries"]] == [
            ("Sam Supervisor", "*")
        ]

        for answer in (one, everything, again, whole, latest):
            text = json.dumps(answer.body, ensure_ascii=False)
            assert MESSAGE_CANARY not in text and NOTE_CANARY not in text


async def test_other_roles_are_refused_and_leave_no_audit_row(server: ServerProcess) -> None:
    async with Harness(server) as h:
        counsellor = await signed_in(h, "cora", "counsellor", "Cora")
        liaison = await signed_in(h, "liv", "social_services", "Liv")
        supervisor = await signed_in(h, "sam", "supervisor", "Sam")
        for member in (counsellor, liaison):
            refused = await member.api.request("GET", AUDIT)
            assert (refused.status, refused.body["error"]["code"]) == (403, "forbidden")
        anonymous = await h.api().request("GET", AUDIT)
        assert (anonymous.status, anonymous.body["error"]["code"]) == (401, "not_authenticated")
        first = await supervisor.api.request("GET", AUDIT)
        assert first.body["entries"] == []


async def test_nonsense_answers_422(server: ServerProcess) -> None:
    async with Harness(server) as h:
        supervisor = await signed_in(h, "sam", "supervisor", "Sam")
        for query in (
            "object_type=escalation",
            "limit=0",
            "limit=501",
            "limit=many",
            f"object_id={'x' * 65}",
        ):
            answer = await supervisor.api.request("GET", f"{AUDIT}?{query}")
            assert (answer.status, answer.body["error"]["code"]) == (422, "invalid_request"), query
