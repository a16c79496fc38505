"""The HTTP half of docs/protocol.md against a real server process."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import socketio

from tests.support.clients import SESSION_COOKIE, Harness
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

TOPICS = ["worried_about_someone", "leaving_myself", "affected", "professional"]
USER_KEYS = {"id", "username", "display_name", "role"}


def assert_error(body: Any, code: str) -> dict[str, str]:
    """The one error shape: {"error": {"code", "message"}}."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error


async def test_healthz(server: ServerProcess) -> None:
    async with Harness(server) as h:
        result = await h.api().request("GET", "/healthz")
    assert result.status == 200
    assert result.body == {"status": "ok"}


class TestStartConversation:
    async def test_201_with_id_token_and_resume_code(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            api = h.api()
            first = await api.request("POST", "/api/conversations", json={"language": "sv"})
            second = await api.request("POST", "/api/conversations", json={"language": "sv"})
        assert first.status == second.status == 201
        assert set(first.body) == {"conversation_id", "token", "resume_code"}
        uuid.UUID(first.body["conversation_id"])
        assert len(first.body["token"]) >= 22, "a token carries at least 128 random bits"
        assert first.body["resume_code"]
        for key in ("conversation_id", "token", "resume_code"):
            assert first.body[key] != second.body[key]

    async def test_the_topic_defaults_and_each_of_the_four_shows_in_the_queue(
        self, server: ServerProcess
    ) -> None:
        async with Harness(server) as h:
            without_topic = await h.start_conversation("sv")
            with_topic = {topic: await h.start_conversation("en", topic) for topic in TOPICS}
            await h.add_staff("alice")
            alice = await h.sign_in("alice")
            queue = await alice.socket.log.wait_for("queue")
        topics = {item["conversation_id"]: item["topic"] for item in queue["conversations"]}
        assert topics[without_topic.conversation_id] == "worried_about_someone"
        for topic, started in with_topic.items():
            assert topics[started.conversation_id] == topic

    async def test_each_kind_of_bad_body_gets_its_documented_error(self, server: ServerProcess) -> None:
        cases: list[tuple[str, bytes, int, str, str | None]] = [
            ("unknown language", b'{"language": "xx"}', 422, "invalid_request", "language"),
            ("unknown topic", b'{"language": "sv", "topic": "gossip"}', 422, "invalid_request", "topic"),
            ("language a number", b'{"language": 5}', 422, "invalid_request", "language"),
            ("language a list", b'{"language": ["sv"]}', 422, "invalid_request", "language"),
            ("topic a number", b'{"language": "sv", "topic": 7}', 422, "invalid_request", "topic"),
            ("language missing", b"{}", 422, "invalid_request", "language"),
            ("not an object", b'["sv"]', 422, "invalid_request", None),
            ("cut off JSON", b'{"language": "sv"', 400, "invalid_json", None),
            ("a form body", b"language=sv", 400, "invalid_json", None),
            ("not UTF-8", b"\xff\xfe", 400, "invalid_json", None),
        ]
        wrong = []
        async with Harness(server) as h:
            api = h.api()
            for name, body, status, code, field in cases:
                result = await api.request("POST", "/api/conversations", data=body)
                if result.status != status:
                    wrong.append(f"{name}: status {result.status}, expected {status}")
                    continue
                error = assert_error(result.body, code)
                if field is not None and field not in error["message"]:
                    wrong.append(f"{name}: {error['message']!r} does not name {field!r}")
            assert (await api.request("GET", "/healthz")).status == 200
        assert not wrong, wrong

    async def test_an_oversized_body_is_413(self, server: ServerProcess) -> None:
        oversized = json.dumps({"language": "sv", "padding": "x" * (128 * 1024)})
        async with Harness(server) as h:
            result = await h.api().request("POST", "/api/conversations", data=oversized)
            assert result.status == 413
            assert_error(result.body, "payload_too_large")
            assert (await h.api().request("GET", "/healthz")).status == 200


class TestResume:
    async def test_the_resume_code_gives_a_new_token_for_the_same_conversation(
        self, server: ServerProcess
    ) -> None:
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            result = await h.api().request(
                "POST", "/api/conversations/resume", json={"resume_code": started.resume_code}
            )
            assert result.status == 200
            assert set(result.body) == {"conversation_id", "token"}
            assert result.body["conversation_id"] == started.conversation_id
            assert result.body["token"] != started.token
            relative = await h.relative(result.body["token"])
            status = await relative.log.wait_for("status")
        assert status["state"] == "waiting"

    async def test_a_wrong_code_is_404(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            await h.start_conversation("sv")
            result = await h.api().request(
                "POST", "/api/conversations/resume", json={"resume_code": "AAAA-BBBB-CCCC-DDDD"}
            )
        assert result.status == 404
        assert_error(result.body, "not_found")

    async def test_a_wrong_type_is_422(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            result = await h.api().request("POST", "/api/conversations/resume", json={"resume_code": 1234})
        assert result.status == 422
        assert "resume_code" in assert_error(result.body, "invalid_request")["message"]


class TestStaffSignIn:
    async def test_login_answers_the_user_and_sets_an_http_only_strict_cookie(
        self, server: ServerProcess
    ) -> None:
        async with Harness(server) as h:
            await h.add_staff("alice")
            api = h.api()
            result = await api.request(
                "POST", "/api/auth/login", json={"username": "alice", "password": DEFAULT_PASSWORD}
            )
            assert result.status == 200
            assert set(result.body) == {"user"}
            assert set(result.body["user"]) == USER_KEYS
            assert result.body["user"]["username"] == "alice"
            assert result.body["user"]["role"] == "counsellor"
            cookie = next(
                c for c in result.headers.getall("Set-Cookie") if c.startswith(f"{SESSION_COOKIE}=")
            )
            attributes = [part.strip().lower() for part in cookie.split(";")]
            assert "httponly" in attributes
            assert "samesite=strict" in attributes
            me = await api.request("GET", "/api/me")
        assert me.status == 200
        assert me.body == {"user": result.body["user"]}

    async def test_wrong_password_and_unknown_user_get_one_generic_401(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            await h.add_staff("alice")
            api = h.api()
            wrong_password = await api.request(
                "POST", "/api/auth/login", json={"username": "alice", "password": "not-the-password-at-all"}
            )
            unknown_user = await api.request(
                "POST", "/api/auth/login", json={"username": "nobody", "password": DEFAULT_PASSWORD}
            )
            me = await api.request("GET", "/api/me")
        assert wrong_password.status == unknown_user.status == 401
        assert_error(wrong_password.body, "invalid_credentials")
        assert wrong_password.body == unknown_user.body
        assert "Set-Cookie" not in wrong_password.headers
        assert me.status == 401

    async def test_me_without_a_session_is_401(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            result = await h.api().request("GET", "/api/me")
        assert result.status == 401
        assert_error(result.body, "not_authenticated")

    async def test_logout_ends_the_session_and_disconnects_the_console(self, server: ServerProcess) -> None:
        async with Harness(server) as h:
            await h.add_staff("alice")
            alice = await h.sign_in("alice")
            stolen_cookie = alice.cookie_header
            assert alice.socket.connected

            result = await alice.api.request("POST", "/api/auth/logout")
            assert result.status == 204
            await alice.socket.wait_disconnected()

            replay = await h.api().request("GET", "/api/me", headers=stolen_cookie)
            assert replay.status == 401
            assert_error(replay.body, "not_authenticated")
            socket = h.counsellor_socket()
            with pytest.raises(socketio.exceptions.ConnectionError):
                await socket.connect(headers=stolen_cookie)


async def test_conversation_creation_is_rate_limited(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory(env={"KINLINE_LIMITS__NEW_CONVERSATIONS_PER_MINUTE": "2"})
    async with Harness(server) as h:
        api = h.api()
        results = [await api.request("POST", "/api/conversations", json={"language": "sv"}) for _ in range(3)]
        assert [r.status for r in results] == [201, 201, 429]
        assert_error(results[2].body, "rate_limited")
        assert (await api.request("GET", "/healthz")).status == 200


async def test_the_server_stays_up_after_bad_input(server: ServerProcess) -> None:
    async with Harness(server) as h:
        api = h.api()
        started = await h.start_conversation("sv")
        bad_requests = [
            ("POST", "/api/conversations", b"{"),
            ("POST", "/api/conversations", b"null"),
            ("POST", "/api/conversations", b'{"language": {"nested": [1, 2, {"deep": null}]}}'),
            ("POST", "/api/conversations", json.dumps({"language": "sv" * 40_000}).encode()),
            ("POST", "/api/conversations/resume", b'{"resume_code": ""}'),
            ("POST", "/api/auth/login", b'{"username": null, "password": 1}'),
            ("GET", "/api/staff/conversations/../../etc/passwd", None),
        ]
        statuses = []
        for method, path, body in bad_requests:
            statuses.append((await api.request(method, path, data=body)).status)
        assert all(400 <= status < 500 for status in statuses), statuses

        relative = await h.relative(started.token)
        for event, payload in [
            ("send_message", "just a string"),
            ("send_message", [1, 2, 3]),
            ("send_message", {"client_id": 5, "text": None}),
            ("history", {"after_seq": "many"}),
            ("no_such_event", {}),
        ]:
            ack = await relative.call(event, payload)
            assert ack["ok"] is False
        assert (await api.request("GET", "/healthz")).body == {"status": "ok"}
        assert (await relative.send("still here"))["ok"] is True
        await h.start_conversation("en")
