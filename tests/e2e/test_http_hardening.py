"""Issue 9 findings 5, 6, 8 and parts of 10 against a real server process: oversized and stalled
bodies, bounded shutdown, hostile input that must never reach a 500 or a traceback, the headers of
every response, the database file's mode, the OpenAPI document and error messages that do not echo."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
import socketio
from openapi_spec_validator import validate

from server.domain.staff import Role
from tests.e2e.escalation_helpers import draft_body
from tests.support.booking import FAST_BOOKING_ENV, BookingClient
from tests.support.clients import Harness, connect_error_code
from tests.support.fake_twilio import FakeTwilio
from tests.support.raw_http import (
    RawResponse,
    exchange,
    get,
    polling_path,
    polling_session,
    post,
)
from tests.support.server import ServerProcess

SHUTDOWN_LIMIT_SECONDS = 10.0
TOO_BIG_FOR_SQLITE = 2**63
DB_INT_MAX = 2**63 - 1


def terminate_within(server: ServerProcess, seconds: float) -> None:
    """SIGTERM, then fail (after a kill, so nothing is left behind) unless the process exits in time."""
    process = server.process
    assert process is not None and process.poll() is None, "the server is not running"
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"the server took more than {seconds} s to stop after SIGTERM")
    server.process = None


def log_since(server: ServerProcess, mark: int) -> str:
    return server.log()[mark:]


LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (\w+) ([\w.]+): ", re.MULTILINE)
# A scheduled job that is running when SIGTERM comes is cancelled, and APScheduler logs that as an
# error; it has nothing to do with what these tests send.
UNRELATED_LOGGERS = ("apscheduler.",)


def assert_quiet(log: str) -> None:
    """No record at ERROR or above and no traceback, apart from UNRELATED_LOGGERS."""
    starts = [match.start() for match in LOG_RECORD.finditer(log)]
    assert log[: starts[0] if starts else len(log)].strip() == "", log
    ends = [*starts[1:], len(log)][: len(starts)]
    records = [log[start:end] for start, end in zip(starts, ends, strict=True)]
    for record in records:
        match = LOG_RECORD.match(record)
        assert match is not None
        level, logger = match.groups()
        if logger.startswith(UNRELATED_LOGGERS):
            continue
        assert level not in ("ERROR", "CRITICAL") and "Traceback" not in record, record


def error_code(response: RawResponse) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return str(body["error"]["code"])


# ---- finding 5: oversized Socket.IO polling bodies, and a shutdown bounded in every case ----


class TestSocketIoBodyLimit:
    async def test_oversized_polling_post_is_refused_at_once_and_shutdown_stays_prompt(
        self, server: ServerProcess
    ) -> None:
        sid = await polling_session(server.port)
        payload = b'42/relative,["typing","' + b"a" * 200_000 + b'"]'
        response = await exchange(
            server.port, post(polling_path(sid), payload, "text/plain;charset=UTF-8"), timeout=15
        )
        assert response.status == 413
        assert error_code(response) == "payload_too_large"
        terminate_within(server, SHUTDOWN_LIMIT_SECONDS)

    async def test_oversized_chunked_polling_post_is_refused(self, server: ServerProcess) -> None:
        sid = await polling_session(server.port)
        chunk = b"a" * 50_000
        head = (
            f"POST {polling_path(sid)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ).encode()
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(4)) + b"0\r\n\r\n"
        response = await exchange(server.port, head + body, timeout=15)
        assert response.status == 413
        assert error_code(response) == "payload_too_large"

    async def test_a_polling_post_within_the_limit_still_works(self, server: ServerProcess) -> None:
        sid = await polling_session(server.port)
        response = await exchange(server.port, post(polling_path(sid), b"40/relative,", "text/plain"))
        assert response.status == 200
        assert response.body == b"OK"

    async def test_sigterm_with_a_stalled_body_exits_within_the_limit(self, server: ServerProcess) -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /api/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"language": "s'
        )
        await writer.drain()
        # A complete request on another connection is answered after the stalled one was read.
        assert (await exchange(server.port, get("/healthz"))).status == 200
        terminate_within(server, SHUTDOWN_LIMIT_SECONDS)
        writer.close()

    async def test_sigterm_with_an_open_polling_session_exits_within_the_limit(
        self, server: ServerProcess
    ) -> None:
        sid = await polling_session(server.port)
        connected = await exchange(server.port, post(polling_path(sid), b"40/relative,", "text/plain"))
        assert connected.status == 200
        terminate_within(server, SHUTDOWN_LIMIT_SECONDS)


async def test_sigterm_with_a_text_in_flight_exits_within_the_limit(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """Shutdown waits for texts being sent; a provider that does not answer must not hold it."""
    with FakeTwilio() as fake:
        env = fake.server_env(**{**FAST_BOOKING_ENV, "KINLINE_SMS__SEND_TIMEOUT": "60s"})
        server = server_factory(env, start=False)
        server.add_user("shutdown-counsellor")
        server.start()
        async with Harness(server) as h:
            staff = h.api()
            await staff.login("shutdown-counsellor")
            booking = BookingClient(staff, h.api())
            await booking.open_all_week(("sv",))
            fake.hang_next(1, seconds=120)
            await booking.book(await booking.next_start(900))
            await asyncio.to_thread(fake.wait_for, lambda: fake.creates(), 20.0, "the text to reach Twilio")
            terminate_within(server, SHUTDOWN_LIMIT_SECONDS)


# ---- finding 10: a body-read timeout ----


async def test_a_stalled_body_is_answered_408(server: ServerProcess) -> None:
    """With the default limits.body_read_timeout of 10 s."""
    mark = len(server.log())
    request = (
        b"POST /api/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"language": "s'
    )
    response = await exchange(server.port, request, timeout=20)
    assert response.status == 408
    assert error_code(response) == "request_timeout"
    terminate_within(server, SHUTDOWN_LIMIT_SECONDS)
    assert_quiet(log_since(server, mark))


# ---- finding 6: hostile input gets a 4xx with a code, never a 500 or a traceback ----


class TestHostileInput:
    async def test_deep_json_and_huge_integers_are_invalid_json(self, server: ServerProcess) -> None:
        mark = len(server.log())
        bodies = [
            b"[" * 30_000 + b"]" * 30_000,
            b'{"language": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
            b'{"language": ' + b"9" * 5_000 + b"}",
        ]
        for path in ("/api/conversations", "/api/conversations/resume", "/api/auth/login"):
            for body in bodies:
                response = await exchange(server.port, post(path, body))
                assert response.status == 400, (path, response)
                assert error_code(response) == "invalid_json"
        terminate_within(server, SHUTDOWN_LIMIT_SECONDS)
        assert_quiet(log_since(server, mark))

    async def test_integers_beyond_the_database_range_are_invalid_requests(
        self, server: ServerProcess
    ) -> None:
        mark = len(server.log())
        async with Harness(server) as h:
            started = await h.start_conversation("sv")
            relative = await h.relative(started.token)
            for value in (TOO_BIG_FOR_SQLITE, 10**30):
                ack = await relative.call("history", {"after_seq": value})
                assert ack["ok"] is False and ack["error"]["code"] == "invalid_request", ack
            assert (await relative.call("history", {"after_seq": DB_INT_MAX}))["ok"] is True

            refused = h.relative_socket()
            with pytest.raises(socketio.exceptions.ConnectionError):
                await refused.connect(auth={"token": started.token, "after_seq": TOO_BIG_FOR_SQLITE})
            assert [connect_error_code(data) for data in refused.connect_errors] == ["invalid_request"]

            (staff,) = await h.counsellors("bounds-counsellor")
            assert (await staff.socket.claim(started.conversation_id))["ok"]
            calls: list[tuple[str, dict[str, Any]]] = [
                ("history", {"conversation_id": started.conversation_id, "after_seq": TOO_BIG_FOR_SQLITE}),
                ("read", {"conversation_id": started.conversation_id, "seq": TOO_BIG_FOR_SQLITE}),
                ("transfer", {"conversation_id": started.conversation_id, "to_user_id": TOO_BIG_FOR_SQLITE}),
                (
                    "transfer",
                    {"conversation_id": started.conversation_id, "to_user_id": -TOO_BIG_FOR_SQLITE - 1},
                ),
            ]
            for name, payload in calls:
                ack = await staff.socket.call(name, payload)
                assert ack["ok"] is False and ack["error"]["code"] == "invalid_request", (name, ack)
            listed = await staff.api.request("GET", f"/api/staff/conversations?limit={TOO_BIG_FOR_SQLITE}")
            assert listed.status == 422, listed.body
            assert listed.body["error"]["code"] == "invalid_request"
        terminate_within(server, SHUTDOWN_LIMIT_SECONDS)
        assert_quiet(log_since(server, mark))

    async def test_malformed_packets_and_hang_ups_log_no_traceback(self, server: ServerProcess) -> None:
        mark = len(server.log())
        sid = await polling_session(server.port)
        path = polling_path(sid)
        assert (await exchange(server.port, post(path, b"40/relative,", "text/plain"))).status == 200
        for packet in (b"4garbage{{{", b'42/relative,["typing",' + b"[" * 5_000 + b"]" * 5_000 + b"]"):
            response = await exchange(server.port, post(path, packet, "text/plain"))
            assert response.status < 500, response
        other = await polling_session(server.port)
        # python-engineio answers a payload it cannot decode with "OK" and drops it.
        response = await exchange(server.port, post(polling_path(other), b"Z\x1ejunk", "text/plain"))
        assert response.status < 500, response

        for target in ("/api/conversations", path):
            _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                'Content-Length: 1000\r\n\r\n{"lang'.encode()
            )
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        assert (await exchange(server.port, get("/healthz"))).status == 200
        terminate_within(server, SHUTDOWN_LIMIT_SECONDS)
        assert_quiet(log_since(server, mark))


# ---- finding 8: the same headers on every response ----

HEADER_CASES = [
    ("GET /nope", get("/nope"), 404),
    ("GET /api/nope", get("/api/nope"), 404),
    ("GET /widget/ (a directory)", get("/widget/"), 403),
    ("GET /console", get("/console"), 302),
    ("POST /", post("/", b"{}"), 405),
    (
        "DELETE /api/public",
        b"DELETE /api/public HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        405,
    ),
    ("GET /widget/chat.js", get("/widget/chat.js"), 200),
    ("GET /healthz", get("/healthz"), 200),
    ("GET /socket.io/ polling", get("/socket.io/?EIO=4&transport=polling"), 200),
]


def assert_security_headers(what: str, response: RawResponse) -> None:
    csp = response.header("Content-Security-Policy") or ""
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, (what, response.headers)
    assert response.header("X-Content-Type-Options") == "nosniff", (what, response.headers)
    assert response.header("Referrer-Policy") == "no-referrer", (what, response.headers)
    server_header = response.header("Server") or ""
    assert "aiohttp" not in server_header.lower() and "python" not in server_header.lower(), (
        what,
        server_header,
    )


# Requests aiohttp cannot parse are answered before any application code runs: a plain-text 400.
UNPARSABLE = [get("/", "User-Agent: bad\x01agent\r\n"), b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n"]


class TestHeaders:
    async def test_every_status_carries_the_security_headers(self, server: ServerProcess) -> None:
        for what, request, status in HEADER_CASES:
            response = await exchange(server.port, request)
            assert response.status == status, (what, response)
            assert_security_headers(what, response)
            assert response.header("Strict-Transport-Security") is None, what

    async def test_unparsable_requests_do_not_name_the_server_version(self, server: ServerProcess) -> None:
        for request in UNPARSABLE:
            response = await exchange(server.port, request)
            assert response.status == 400, response
            assert response.header("Server") == "Kinline", response.headers

    async def test_api_405_is_a_json_error_with_allow(self, server: ServerProcess) -> None:
        response = await exchange(
            server.port, b"DELETE /api/public HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        assert response.status == 405
        assert error_code(response) == "method_not_allowed"
        assert "GET" in (response.header("Allow") or ""), response.headers

    async def test_hsts_when_cookies_are_secure(self, server_factory: Callable[..., ServerProcess]) -> None:
        server = server_factory({"KINLINE_SECURITY__SECURE_COOKIES": "true"})
        for what, request, status in HEADER_CASES:
            response = await exchange(server.port, request)
            assert response.status == status, (what, response)
            assert_security_headers(what, response)
            hsts = response.header("Strict-Transport-Security") or ""
            assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 31_536_000, (
                what,
                hsts,
            )


# ---- finding 10: file modes, OpenAPI, no echo ----


def test_the_database_files_are_private(server: ServerProcess) -> None:
    files = [path for path in server.db_path.parent.glob(f"{server.db_path.name}*") if path.is_file()]
    assert server.db_path in files
    for path in files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, (path.name, oct(os.stat(path).st_mode))


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolvable $ref {ref}"
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


async def test_openapi_refs_resolve_and_invalid_json_is_documented(server: ServerProcess) -> None:
    async with Harness(server) as h:
        result = await h.api().request("GET", "/api/openapi.json")
    assert result.status == 200
    document = result.body
    refs = _refs(document)
    assert "#/components/schemas/Kind" in refs and "#/components/schemas/WeeklyEntry" in refs
    for ref in refs:
        _resolve(document, ref)
    validate(document)

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation and "json" in json.dumps(operation["requestBody"]["content"]):
                assert "400" in operation["responses"], (method, path)
                assert "invalid_json" in operation["responses"]["400"]["description"], (method, path)
    user_role = document["components"]["schemas"]["User"]["properties"]["role"]
    assert set(user_role["enum"]) == {role.value for role in Role}


CANARY = "EchoCanaryKlöverblad4471"


async def test_errors_do_not_echo_input(server: ServerProcess) -> None:
    async with Harness(server) as h:
        started = await h.start_conversation("sv")
        relative = await h.relative(started.token)
        ack = await relative.call(f"{CANARY}_event", {})
        assert ack["ok"] is False and ack["error"]["code"] == "unknown_event"
        assert CANARY not in json.dumps(ack, ensure_ascii=False)

        admin_name = "echo-admin"
        server.add_user(admin_name, "admin")
        admin = h.api()
        await admin.login(admin_name)
        reset = await admin.request(
            "DELETE", f"/api/staff/accounts/{CANARY}/totp", headers={"Origin": server.url}
        )
        assert reset.status == 404, reset.body
        assert CANARY not in json.dumps(reset.body, ensure_ascii=False)

        (staff,) = await h.counsellors("echo-counsellor")
        counsellor = staff.api
        assert (await staff.socket.claim(started.conversation_id))["ok"]
        for changes in ({"route": CANARY}, {"indicators": [CANARY]}):
            drafted = await counsellor.request(
                "POST",
                "/api/escalations",
                json=draft_body(started.conversation_id, **changes),
                headers={"Origin": server.url},
            )
            assert drafted.status == 422, drafted.body
            assert CANARY not in json.dumps(drafted.body, ensure_ascii=False), drafted.body
        availability = await counsellor.request(
            "PUT",
            "/api/me/availability",
            json={"languages": [CANARY], "weekly": [], "exceptions": []},
            headers={"Origin": server.url},
        )
        assert availability.status == 422, availability.body
        assert CANARY not in json.dumps(availability.body, ensure_ascii=False)
