"""Retention with no gaps through the real server (issue 14): a conversation with no message for
``chat.auto_close_after`` closes as inactive; the counsellor holding it sees it leave their list,
the relative's page is told why (now, and when they come back), and the admin's retention report
counts it."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.clients import Harness, query_database
from tests.support.server import ServerProcess

AUTO_CLOSE = {"KINLINE_CHAT__AUTO_CLOSE_AFTER": "2s"}


async def test_an_idle_conversation_closes_as_inactive_and_everyone_is_told(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(env=AUTO_CLOSE)
    server.add_user("root", "admin")
    async with Harness(server) as h:
        (cora,) = await h.counsellors("cora")
        idle = await h.start_conversation("so")
        relative = await h.relative(idle.token)
        mark = relative.log.mark()
        assert (await cora.socket.claim(idle.conversation_id))["ok"]
        await cora.socket.log.wait_for("mine", lambda p: len(p["conversations"]) == 1)
        console_mark = cora.socket.log.mark()

        closed = await relative.log.wait_for("status", lambda s: s["state"] == "closed", since=mark)
        await cora.socket.log.wait_for("mine", lambda p: p["conversations"] == [], since=console_mark)

        back = await h.relative(idle.token)
        status_on_return = await back.log.wait_for("status")
        admin = await h.sign_in("root", connect=False)
        report = await admin.api.request("GET", "/api/staff/retention")
        counsellor_view = await cora.api.request("GET", "/api/staff/retention")

    assert closed["closed_reason"] == "inactive"
    assert (status_on_return["state"], status_on_return["closed_reason"]) == ("closed", "inactive")
    assert query_database(
        server, "SELECT state, outcome FROM conversations WHERE id = ?", idle.conversation_id
    ) == [("closed", "inactive")]
    assert query_database(server, "SELECT outcome FROM contact_records") == [("inactive",)]
    assert report.status == 200, report.body
    assert report.body["totals"]["closed_inactive"] == 1
    assert report.body["auto_close_after_seconds"] == 2
    assert counsellor_view.status == 403
    assert "retention sweep: closed 1 inactive conversations" in server.log()
