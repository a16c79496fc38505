"""Privacy scan: after a full conversation with distinctive canary texts and a series of malformed
requests, the server's log holds no message text, client address, user agent or secret, and its
database holds no address, no user agent, no plaintext message or note and no secret in the clear.
The logs of every other server the test session started are scanned at the end of the session by
the ``privacy_scan_of_every_server_log`` fixture in tests/conftest.py, whatever order the tests ran in."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.clients import (
    Api,
    CounsellorSocket,
    Harness,
    RelativeSocket,
    Staff,
    new_client_id,
    queue_ids,
)
from tests.support.privacy import (
    CANARY_DANGER,
    CANARY_MESSAGE,
    CANARY_NOTE,
    CANARY_REPLY,
    CANARY_RESUME_CODE,
    CANARY_TEXTS,
    CANARY_UNKNOWN_USER,
    CANARY_WRONG_PASSWORD,
    FORWARDED_ADDRESS,
    KNOWN_SECRETS,
    NEVER_LOGGED,
    USER_AGENT,
    findings,
)
from tests.support.raw_http import exchange, polling_path, polling_session
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

CLIENT_HEADERS = {"User-Agent": USER_AGENT, "X-Forwarded-For": FORWARDED_ADDRESS}

COUNSELLOR = "privacy-counsellor"


def every_stored_value(db_path: Path) -> list[tuple[str, str, Any]]:
    """(table, column, value) for every non-null cell of every table."""
    cells: list[tuple[str, str, Any]] = []
    with sqlite3.connect(db_path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [description[0] for description in cursor.description]
            for row in cursor:
                cells.extend((table, column, value) for column, value in zip(columns, row, strict=True))
    return [cell for cell in cells if cell[2] is not None]


def as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


async def wait_for_message(socket: RelativeSocket | CounsellorSocket, text: str) -> dict[str, Any]:
    return dict(await socket.log.wait_for("message", lambda m: m.get("text") == text))


async def bad_login(api: Api, username: str, password: str) -> None:
    credentials = {"username": username, "password": password}
    result = await api.request("POST", "/api/auth/login", json=credentials, headers=CLIENT_HEADERS)
    assert result.status == 401, result.body
    assert result.body["error"]["code"] == "invalid_credentials"


async def sign_in(harness: Harness) -> Staff:
    api = harness.api()
    credentials = {"username": COUNSELLOR, "password": DEFAULT_PASSWORD}
    result = await api.request("POST", "/api/auth/login", json=credentials, headers=CLIENT_HEADERS)
    assert result.status == 200, result.body
    staff = Staff(api, result.body["user"], harness.counsellor_socket())
    await staff.socket.connect(headers={**staff.cookie_header, **CLIENT_HEADERS})
    return staff


async def start_conversation(harness: Harness) -> dict[str, str]:
    payload = {"language": "sv", "topic": "worried_about_someone"}
    result = await harness.api().request("POST", "/api/conversations", json=payload, headers=CLIENT_HEADERS)
    assert result.status == 201, result.body
    return dict(result.body)


async def relative_socket(harness: Harness, token: str) -> RelativeSocket:
    socket = harness.relative_socket()
    await socket.connect(auth={"token": token, "after_seq": 0}, headers=CLIENT_HEADERS)
    return socket


async def run_full_conversation(server: ServerProcess) -> list[str]:
    """Every step a relative and a counsellor take in one conversation; returns the secrets it saw."""
    secrets: list[str] = list(KNOWN_SECRETS)
    async with Harness(server) as harness:
        await harness.add_staff(COUNSELLOR)
        gatekeeper = harness.api()
        await bad_login(gatekeeper, COUNSELLOR, CANARY_WRONG_PASSWORD)
        await bad_login(gatekeeper, CANARY_UNKNOWN_USER, CANARY_WRONG_PASSWORD)
        staff = await sign_in(harness)
        secrets.append(staff.api.session_cookie())

        started = await start_conversation(harness)
        conversation_id = started["conversation_id"]
        secrets += [started["token"], started["resume_code"]]
        await staff.socket.log.wait_for("queue", lambda q: conversation_id in queue_ids(q))
        relative = await relative_socket(harness, started["token"])

        danger_ack = await relative.send(CANARY_DANGER)
        assert danger_ack["ok"], danger_ack
        await relative.log.wait_for("message", lambda m: m["sender"] == "bot" and "112" in m["text"])
        await staff.socket.log.wait_for(
            "queue",
            lambda q: any(
                item["conversation_id"] == conversation_id and item["priority_reason"] == "danger_words"
                for item in q["conversations"]
            ),
        )

        claimed = await staff.socket.claim(conversation_id)
        assert claimed["ok"], claimed
        await relative.log.wait_for("status", lambda s: s["state"] == "active")

        sent = await relative.send(CANARY_MESSAGE)
        assert sent["ok"], sent
        await wait_for_message(staff.socket, CANARY_MESSAGE)
        reply = await staff.socket.send(conversation_id, CANARY_REPLY, new_client_id())
        assert reply["ok"], reply
        await wait_for_message(relative, CANARY_REPLY)

        assert (await relative.call("typing", {}))["ok"]
        await staff.socket.log.wait_for("typing", lambda t: t["conversation_id"] == conversation_id)
        assert (await staff.socket.call("typing", {"conversation_id": conversation_id}))["ok"]
        await relative.log.wait_for("typing")
        read = await staff.socket.call(
            "read", {"conversation_id": conversation_id, "seq": reply["message"]["seq"]}
        )
        assert read["ok"], read
        await relative.log.wait_for("read")

        note = await staff.socket.call("add_note", {"conversation_id": conversation_id, "text": CANARY_NOTE})
        assert note["ok"], note
        await relative.barrier()
        assert relative.log.named("note") == [], "the relative was sent a private note"
        assert CANARY_NOTE not in [m.get("text") for m in relative.messages()]

        wrong = await harness.api().request(
            "POST",
            "/api/conversations/resume",
            json={"resume_code": CANARY_RESUME_CODE},
            headers=CLIENT_HEADERS,
        )
        assert wrong.status == 404, wrong.body
        resumed = await harness.api().request(
            "POST",
            "/api/conversations/resume",
            json={"resume_code": started["resume_code"]},
            headers=CLIENT_HEADERS,
        )
        assert resumed.status == 200, resumed.body
        secrets.append(resumed.body["token"])
        other_device = await relative_socket(harness, resumed.body["token"])
        await wait_for_message(other_device, CANARY_REPLY)

        closed = await staff.socket.call(
            "close", {"conversation_id": conversation_id, "outcome": "supported"}
        )
        assert closed["ok"], closed
        await relative.log.wait_for("status", lambda s: s["state"] == "closed")

        detail = await staff.api.request(
            "GET", f"/api/staff/conversations/{conversation_id}", headers=CLIENT_HEADERS
        )
        assert detail.status == 200, detail.body
        assert {CANARY_MESSAGE, CANARY_REPLY, CANARY_DANGER} <= {m["text"] for m in detail.body["messages"]}
        assert CANARY_NOTE in [n["text"] for n in detail.body["notes"]]

        logout = await staff.api.request("POST", "/api/auth/logout", headers=CLIENT_HEADERS)
        assert logout.status == 204
    return secrets


def malformed_requests() -> list[bytes]:
    """Requests aiohttp refuses before any handler runs; each carries the canary agent."""
    agent = f"User-Agent: {USER_AGENT}\r\nX-Forwarded-For: {FORWARDED_ADDRESS}\r\n"
    return [
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {USER_AGENT}\x01\r\n\r\n".encode(),
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n{agent}Bad\x7fName: KinlineCanaryAgent\r\n\r\n".encode(),
        f"KinlineCanaryAgent\x00 / HTTP/1.1\r\nHost: 127.0.0.1\r\n{agent}\r\n".encode(),
        f"GET /KinlineCanaryAgent HTTP/9.9\r\nHost: 127.0.0.1\r\n{agent}\r\n".encode(),
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n{agent}Transfer-Encoding: chunked\r\n\r\nzz\r\n".encode(),
    ]


async def send_malformed_requests(server: ServerProcess) -> None:
    """Malformed requests, a body cut short, and Engine.IO and Socket.IO packets that do not decode."""
    agent = f"User-Agent: {USER_AGENT}\r\nX-Forwarded-For: {FORWARDED_ADDRESS}\r\n"
    for request in malformed_requests():
        assert (await exchange(server.port, request)).status == 400, request
    _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        f"POST /api/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n{agent}Content-Type: application/json\r\n"
        'Content-Length: 1000\r\n\r\n{"language": "KinlineCanaryAgent'.encode()
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    sid = await polling_session(server.port)
    for packet in (b"40/relative,", b"4KinlineCanaryAgent{{", b"ZKinlineCanaryAgent\x1e"):
        head = (
            f"POST {polling_path(sid)} HTTP/1.1\r\nHost: 127.0.0.1\r\n{agent}Content-Type: text/plain\r\n"
            f"Content-Length: {len(packet)}\r\nConnection: close\r\n\r\n"
        )
        assert (await exchange(server.port, head.encode() + packet)).status < 500


def assert_database_private(db_path: Path, secrets: list[str]) -> None:
    cells = every_stored_value(db_path)
    assert cells, "the database is empty: nothing was scanned"
    forbidden = [*NEVER_LOGGED, *secrets]
    leaks = findings(((f"{table}.{column}", as_text(value)) for table, column, value in cells), forbidden)
    assert leaks == [], f"the database holds what it must not: {leaks}"

    bodies = [value for table, column, value in cells if table in ("messages", "notes") and column == "body"]
    assert len(bodies) >= len(CANARY_TEXTS), "the messages and notes were not stored"
    for body in bodies:
        assert isinstance(body, bytes), "a body is stored as text, not as ciphertext"
    plaintexts = [text.encode() for text in CANARY_TEXTS]
    assert not [body for body in bodies if any(p in body for p in plaintexts)], (
        "a body is stored in plaintext"
    )

    raw_files = [path for path in db_path.parent.glob(f"{db_path.name}*") if path.is_file()]
    raw = findings(((path.name, path.read_bytes().decode("latin-1")) for path in raw_files), forbidden)
    assert raw == [], f"the database files hold, even in free pages: {raw}"


async def test_log_and_database_hold_no_personal_data(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory()
    secrets = await run_full_conversation(server)
    await send_malformed_requests(server)
    server.stop()

    own_log = server.log_for_privacy_scan()
    assert own_log.strip(), "this test's server wrote no log to scan"
    leaks = findings([("this test's server", own_log)], [*NEVER_LOGGED, *secrets])
    assert leaks == [], f"the server log holds what it must not: {leaks}"

    assert_database_private(server.db_path, secrets)
