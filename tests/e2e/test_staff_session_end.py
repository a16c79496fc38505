"""A staff socket lives no longer than its session (issue 9, finding 1): whatever ends the session
- the CLI disabling the account or resetting its second factor, logout, the idle or absolute
timeout, a change made through another server process - closes the member's sockets on every staff
namespace within 5 s, and no event on them is answered after that point."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import socketio

from tests.e2e.escalation_helpers import ESCALATIONS, Team, draft_body
from tests.support.clients import Harness, SocketClient
from tests.support.server import ServerProcess

CLOSE_WITHIN = 5.0
IDLE_TIMEOUT = 3.0
ABSOLUTE_TIMEOUT = 10.0


async def answer_after_end(socket: SocketClient, event: str, payload: Any = None) -> str:
    """What a staff socket gets for an event sent after its session ended: "refused" (the
    not_authenticated error ack), "no answer" (the socket went away first), or the real answer."""
    try:
        ack = await socket.call(event, payload, timeout=CLOSE_WITHIN)
    except socketio.exceptions.SocketIOError:
        return "no answer"
    if isinstance(ack, dict) and ack.get("ok") is False and ack["error"]["code"] == "not_authenticated":
        return "refused"
    return f"answered {ack!r}"


async def closed_and_silent(socket: SocketClient, event: str, payload: Any = None) -> str:
    """Sends one event at once and waits for the server to close the socket, both within 5 s."""
    answer, _ = await asyncio.gather(
        answer_after_end(socket, event, payload), socket.wait_disconnected(CLOSE_WITHIN)
    )
    return answer


async def run_cli(server: ServerProcess, *args: str) -> None:
    result = await asyncio.to_thread(server.cli, *args)
    assert result.returncode == 0, result.stderr


async def escalations_socket(h: Harness, cookie: dict[str, str]) -> SocketClient:
    socket = SocketClient(h.url, ESCALATIONS)
    h._sockets.append(socket)
    await socket.connect(headers=dict(cookie))
    await socket.log.wait_for("ready")
    return socket


async def test_cli_disable_closes_the_counsellor_socket(server: ServerProcess) -> None:
    async with Harness(server) as h:
        started = await h.start_conversation("sv")
        (alice,) = await h.counsellors("alice")
        assert (await alice.socket.claim(started.conversation_id))["ok"]
        relative = await h.relative(started.token)
        await relative.send("before the disable")
        await alice.socket.log.wait_for("message", lambda m: m["text"] == "before the disable")

        await run_cli(server, "user", "disable", "alice")
        answer = await closed_and_silent(
            alice.socket, "history", {"conversation_id": started.conversation_id}
        )
        assert answer in {"refused", "no answer"}
        assert (await relative.send("after the disable"))["ok"]
        await relative.barrier()
        assert (await alice.api.request("GET", "/api/me")).status == 401
    assert "after the disable" not in [m["text"] for m in alice.socket.log.named("message")]


async def test_cli_disable_closes_a_supervisors_escalation_socket(server: ServerProcess) -> None:
    async with Harness(server) as h:
        team = Team(h)
        try:
            await team.add(
                [
                    ("counsellor", "counsellor", None),
                    ("sup", "supervisor", None),
                    ("sup2", "supervisor", None),
                ]
            )
            disabled, colleague = await team.escalations_socket("sup"), await team.escalations_socket("sup2")

            await run_cli(server, "user", "disable", "sup")
            assert await closed_and_silent(disabled, "barrier_round_trip") in {"refused", "no answer"}
            mark = disabled.log.mark()
            conversation_id = (await team.held_conversation("counsellor"))[0]
            created = await team["counsellor"].post("/api/escalations", draft_body(conversation_id))
            assert created.status == 201, created.body
            escalation_id = created.body["escalation_id"]
            await colleague.log.wait_for("changed", lambda c: c == {"escalation_id": escalation_id})
        finally:
            await team.close()
    assert disabled.log.named("changed", since=mark) == []


async def test_cli_totp_reset_ends_the_sessions_and_closes_every_staff_socket(server: ServerProcess) -> None:
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        alerts = await escalations_socket(h, alice.cookie_header)

        await run_cli(server, "user", "totp-reset", "alice")
        assert (await alice.api.request("GET", "/api/me")).status == 401
        answers = await asyncio.gather(
            closed_and_silent(alice.socket, "staff"), closed_and_silent(alerts, "barrier_round_trip")
        )
    assert set(answers) <= {"refused", "no answer"}


async def test_logout_closes_the_sockets_of_both_namespaces(server: ServerProcess) -> None:
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        alerts = await escalations_socket(h, alice.cookie_header)
        assert (await alice.api.request("POST", "/api/auth/logout")).status in {200, 204}
        await asyncio.gather(
            alice.socket.wait_disconnected(CLOSE_WITHIN), alerts.wait_disconnected(CLOSE_WITHIN)
        )


async def test_an_idle_console_is_closed_and_an_active_one_lives_until_the_absolute_timeout(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """Pushes received are not activity; events sent are, like HTTP requests."""
    server = server_factory(
        env={
            "KINLINE_SECURITY__SESSION_IDLE_TIMEOUT": f"{IDLE_TIMEOUT:g}s",
            "KINLINE_SECURITY__SESSION_ABSOLUTE_TIMEOUT": f"{ABSOLUTE_TIMEOUT:g}s",
        }
    )
    async with Harness(server) as h:
        idle, busy = await h.counsellors("idle", "busy")
        idle_alerts = await escalations_socket(h, idle.cookie_header)
        loop = asyncio.get_running_loop()
        signed_in = loop.time()

        async def keep_busy() -> list[tuple[float, str]]:
            answers = []
            while busy.socket.connected:
                answers.append((loop.time(), await answer_after_end(busy.socket, "staff")))
                await asyncio.sleep(0.5)
            return answers

        busy_task = asyncio.create_task(keep_busy())
        await asyncio.gather(
            idle.socket.wait_disconnected(IDLE_TIMEOUT + CLOSE_WITHIN),
            idle_alerts.wait_disconnected(IDLE_TIMEOUT + CLOSE_WITHIN),
        )
        assert (await idle.api.request("GET", "/api/me")).status == 401
        await busy.socket.wait_disconnected(signed_in + ABSOLUTE_TIMEOUT + CLOSE_WITHIN - loop.time())
        answers = await busy_task
    ended = next(
        (i for i, (_, answer) in enumerate(answers) if not answer.startswith("answered")), len(answers)
    )
    served, after_end = answers[:ended], answers[ended:]
    assert all("'ok': True" in answer for _, answer in served), served
    assert {answer for _, answer in after_end} <= {"refused", "no answer"}, after_end
    assert served and served[-1][0] - signed_in > 2 * IDLE_TIMEOUT, "events kept the session alive"


async def test_an_end_through_one_process_closes_sockets_held_on_another(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """Two processes on one SQLite file, each with its own in-memory socket manager."""
    first = server_factory(name="a")
    second = server_factory(
        env={
            "KINLINE_DATABASE_URL": first.env["KINLINE_DATABASE_URL"],
            "KINLINE_SECURITY__DATA_KEY_FILE": first.env["KINLINE_SECURITY__DATA_KEY_FILE"],
        },
        name="b",
    )
    async with Harness(first) as on_a, Harness(second) as on_b:
        await on_a.add_staff("alice", "bob")
        await on_a.add_staff("root", role="admin")
        alice, bob, root = [await on_a.sign_in(name, connect=False) for name in ("alice", "bob", "root")]
        alice_chat, bob_chat = on_b.counsellor_socket(), on_b.counsellor_socket()
        await alice_chat.connect(headers=alice.cookie_header)
        await bob_chat.connect(headers=bob.cookie_header)
        alice_alerts = await escalations_socket(on_b, alice.cookie_header)

        assert (await alice.api.request("POST", "/api/auth/logout")).status in {200, 204}
        answers = await asyncio.gather(
            closed_and_silent(alice_chat, "staff"), closed_and_silent(alice_alerts, "barrier_round_trip")
        )
        assert set(answers) <= {"refused", "no answer"}

        reset = await root.api.request("DELETE", "/api/staff/users/bob/totp")
        assert reset.status == 200, reset.body
        assert await closed_and_silent(bob_chat, "staff") in {"refused", "no answer"}
