"""A staff socket lives no longer than its session (issue 9, finding 1): whatever ends the session
- the CLI disabling the account or resetting its second factor, logout, the idle or absolute
timeout, a change made through another server process - closes the member's sockets on every staff
namespace within 5 s, and no event on them is answered after that point."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import socketio

from tests.e2e.escalation_helpers import ESCALATIONS, Team, draft_body, execute
from tests.support.clients import Harness, SocketClient
from tests.support.server import ServerProcess

CLOSE_WITHIN = 5.0
IDLE_TIMEOUT = 3.0
ABSOLUTE_TIMEOUT = 10.0


ENDED = {"refused", "no answer"}
PACE = 0.2


async def answer(socket: SocketClient, event: str, payload: Any = None) -> str:
    """What a staff socket gets for an event: the real answer, "refused" (the not_authenticated
    error ack of an ended session), or "no answer" (the server closed the socket first)."""
    call = asyncio.ensure_future(socket.call(event, payload))
    closed = asyncio.ensure_future(socket.disconnected.wait())
    try:
        await asyncio.wait({call, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closed.cancel()
    if not call.done():
        call.cancel()
        return "no answer"
    if call.exception() is not None:
        assert isinstance(call.exception(), socketio.exceptions.SocketIOError), call.exception()
        return "no answer"
    ack = call.result()
    if isinstance(ack, dict) and ack.get("ok") is False and ack["error"]["code"] == "not_authenticated":
        return "refused"
    return f"answered {ack!r}"


async def answers_until_closed(
    socket: SocketClient, event: str, payload: Any = None, within: float = CLOSE_WITHIN
) -> list[str]:
    """Sends ``event`` again and again from now until the server closes the socket, which must
    happen ``within`` seconds; then checks that once an event went unanswered, none was answered
    again (an event that raced the end in another process may still have been answered before)."""
    answers: list[str] = []
    async with asyncio.timeout(within):
        while not socket.disconnected.is_set():
            answers.append(await answer(socket, event, payload))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PACE):
                    await socket.disconnected.wait()
    served = next((i for i, a in enumerate(answers) if a in ENDED), len(answers))
    assert set(answers[served:]) <= ENDED, answers
    return answers


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
        await answers_until_closed(alice.socket, "history", {"conversation_id": started.conversation_id})
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
            await answers_until_closed(disabled, "barrier_round_trip")
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
        await asyncio.gather(
            answers_until_closed(alice.socket, "staff"), answers_until_closed(alerts, "barrier_round_trip")
        )


async def test_logout_closes_the_sockets_of_both_namespaces(server: ServerProcess) -> None:
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        alerts = await escalations_socket(h, alice.cookie_header)
        assert (await alice.api.request("POST", "/api/auth/logout")).status in {200, 204}
        await asyncio.gather(
            alice.socket.wait_disconnected(CLOSE_WITHIN), alerts.wait_disconnected(CLOSE_WITHIN)
        )


async def test_a_role_change_closes_the_sockets_opened_with_the_old_role(server: ServerProcess) -> None:
    """A change written behind the API's back is caught by the session watch; the admins' own role
    change (PATCH /api/staff/accounts/NAME) is tested in test_accounts.py."""
    async with Harness(server) as h:
        (alice,) = await h.counsellors("alice")
        alerts = await escalations_socket(h, alice.cookie_header)
        execute(server, "UPDATE staff_users SET role = 'supervisor' WHERE username = 'alice'")
        await asyncio.gather(
            answers_until_closed(alice.socket, "staff"), answers_until_closed(alerts, "barrier_round_trip")
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
            while not busy.socket.disconnected.is_set():
                answers.append((loop.time(), await answer(busy.socket, "staff")))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await busy.socket.disconnected.wait()
            return answers

        busy_task = asyncio.create_task(keep_busy())
        await asyncio.gather(
            idle.socket.wait_disconnected(IDLE_TIMEOUT + CLOSE_WITHIN),
            idle_alerts.wait_disconnected(IDLE_TIMEOUT + CLOSE_WITHIN),
        )
        assert (await idle.api.request("GET", "/api/me")).status == 401
        await busy.socket.wait_disconnected(signed_in + ABSOLUTE_TIMEOUT + CLOSE_WITHIN - loop.time())
        answers = await busy_task
    ended = next((i for i, (_, a) in enumerate(answers) if a in ENDED), len(answers))
    served, after_end = answers[:ended], answers[ended:]
    assert served and all("'ok': True" in a for _, a in served), answers
    assert {a for _, a in after_end} <= ENDED, answers
    assert served[-1][0] - signed_in > 2 * IDLE_TIMEOUT, "events kept the session alive past the idle timeout"


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
        await asyncio.gather(
            answers_until_closed(alice_chat, "staff"),
            answers_until_closed(alice_alerts, "barrier_round_trip"),
        )

        reset = await root.api.request("DELETE", "/api/staff/accounts/bob/totp")
        assert reset.status == 200, reset.body
        await answers_until_closed(bob_chat, "staff")
