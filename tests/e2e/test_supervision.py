"""The supervisors' live view over real sockets against a real server: `overview` reaches only
sockets whose role may see it, and follows arrivals, claims and closes; reassigning moves the
conversation between the counsellors' own lists; a colleague who joins receives the relative's
messages as the holder does, and stops when they leave (the relative is told both times)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.clients import Harness
from tests.support.server import ServerProcess

COUNSELLOR, RECEIVER, SUPERVISOR = "cleo", "rune", "sune"


def state_of(conversation_id: str, state: str) -> Callable[[dict[str, Any]], bool]:
    def matches(overview: dict[str, Any]) -> bool:
        return any(
            c["conversation_id"] == conversation_id and c["state"] == state for c in overview["conversations"]
        )

    return matches


def holds(conversation_id: str) -> Callable[[dict[str, Any]], bool]:
    def matches(mine: dict[str, Any]) -> bool:
        return any(c["conversation_id"] == conversation_id for c in mine["conversations"])

    return matches


def gone(conversation_id: str) -> Callable[[dict[str, Any]], bool]:
    def matches(payload: dict[str, Any]) -> bool:
        return all(c["conversation_id"] != conversation_id for c in payload["conversations"])

    return matches


async def test_only_overseers_receive_the_overview_and_it_follows_the_line(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(name="supervision", start=False)
    for name, role in ((COUNSELLOR, "counsellor"), (SUPERVISOR, "supervisor"), ("ada", "admin")):
        server.add_user(name, role)
    server.start()
    async with Harness(server) as h:
        counsellor = await h.sign_in(COUNSELLOR)
        supervisor = await h.sign_in(SUPERVISOR)
        admin = await h.sign_in("ada")
        everyone = await supervisor.socket.log.wait_for(
            "overview", lambda o: o["counts"]["counsellors_online"] == 3
        )
        assert everyone["counts"] == {
            "waiting": 0,
            "active": 0,
            "longest_wait_seconds": 0,
            "counsellors_online": 3,
        }
        started = await h.start_conversation("so", "leaving_myself")
        waiting = await supervisor.socket.log.wait_for(
            "overview", state_of(started.conversation_id, "waiting")
        )
        (item,) = waiting["conversations"]
        assert (item["language"], item["topic"], item["counsellor"]) == ("so", "leaving_myself", None)
        assert "text" not in item and item["flags"] == {
            "danger": False,
            "escalation_draft": False,
            "away": False,
        }
        await admin.socket.log.wait_for("overview", state_of(started.conversation_id, "waiting"))

        assert (await counsellor.socket.claim(started.conversation_id))["ok"]
        active = await supervisor.socket.log.wait_for("overview", state_of(started.conversation_id, "active"))
        assert active["conversations"][0]["counsellor"]["display_name"] == COUNSELLOR
        loads = {c["display_name"]: c["load"] for c in active["counsellors"]}
        assert loads[COUNSELLOR] == 1

        closed = {"conversation_id": started.conversation_id, "outcome": "supported"}
        assert (await counsellor.socket.call("close", closed))["ok"]
        await supervisor.socket.log.wait_for("overview", gone(started.conversation_id))

        refused = await counsellor.socket.call("overview", {})
        assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
        assert counsellor.socket.log.named("overview") == []


async def test_reassign_moves_the_conversation_between_the_counsellors_lists(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(name="supervision-reassign", start=False)
    for name, role in ((COUNSELLOR, "counsellor"), (RECEIVER, "counsellor"), (SUPERVISOR, "supervisor")):
        server.add_user(name, role)
    server.start()
    async with Harness(server) as h:
        counsellor, receiver = await h.sign_in(COUNSELLOR), await h.sign_in(RECEIVER)
        supervisor = await h.sign_in(SUPERVISOR)
        started = await h.start_conversation()
        assert (await counsellor.socket.claim(started.conversation_id))["ok"]
        since = counsellor.socket.log.mark()
        ack = await supervisor.socket.call(
            "reassign", {"conversation_id": started.conversation_id, "to_user_id": receiver.id}
        )
        assert ack["ok"] and ack["conversation"]["counsellor_id"] == receiver.id, ack
        await receiver.socket.log.wait_for("mine", holds(started.conversation_id))
        await counsellor.socket.log.wait_for("mine", gone(started.conversation_id), since=since)
        refused = await counsellor.socket.send(started.conversation_id, "still mine?")
        assert refused["error"]["code"] == "not_holder"


async def test_a_joined_colleague_reads_along_until_they_leave(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(name="supervision-join", start=False)
    for name, role in ((COUNSELLOR, "counsellor"), (SUPERVISOR, "supervisor")):
        server.add_user(name, role)
    server.start()
    async with Harness(server) as h:
        counsellor, supervisor = await h.sign_in(COUNSELLOR), await h.sign_in(SUPERVISOR)
        started = await h.start_conversation("fa")
        relative = await h.relative(started.token)
        assert (await counsellor.socket.claim(started.conversation_id))["ok"]
        ref = {"conversation_id": started.conversation_id}
        joined = await supervisor.socket.call("join_conversation", ref)
        assert joined["ok"] and joined["conversation"]["colleague_id"] == supervisor.id, joined
        notice = await relative.log.wait_for("message", lambda m: m["sender"] == "system")
        await supervisor.socket.log.wait_for("mine", holds(started.conversation_id))

        assert (await relative.send("سلام")).get("ok")
        for staff in (counsellor, supervisor):
            await staff.socket.log.wait_for("message", lambda m: m["text"] == "سلام")
        reply = await supervisor.socket.send(started.conversation_id, "من همکار هستم")
        assert reply["ok"], reply
        await relative.log.wait_for("message", lambda m: m["text"] == "من همکار هستم")

        assert (await supervisor.socket.call("leave_conversation", ref))["ok"]
        await relative.log.wait_for("message", lambda m: m["sender"] == "system" and m["seq"] > notice["seq"])
        since = supervisor.socket.log.mark()
        assert (await relative.send("هنوز اینجا هستید؟")).get("ok")
        await counsellor.socket.log.wait_for("message", lambda m: m["text"] == "هنوز اینجا هستید؟")
        assert [
            m for m in supervisor.socket.log.named("message", since) if m["text"] == "هنوز اینجا هستید؟"
        ] == []
        audited = await supervisor.api.request(
            "GET", f"/api/staff/audit?object_type=conversation&object_id={started.conversation_id}"
        )
        actions = [entry["action"] for entry in audited.body["entries"]]
        assert {"supervision.join", "supervision.leave"} <= set(actions)
