"""HTTP over a bare TCP socket, for requests no well-behaved client would send: control characters
in headers, bad request lines, bodies that stop half-way, oversized Engine.IO payloads."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

ANSWER_TIMEOUT = 15.0


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)


async def read_response(reader: asyncio.StreamReader) -> RawResponse:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length")
    if length is not None:
        body = await reader.readexactly(int(length))
    else:
        body = await reader.read()
    return RawResponse(status, headers, body)


async def exchange(port: int, request: bytes, timeout: float = ANSWER_TIMEOUT) -> RawResponse:
    """Send ``request`` as it is and read one response; a missing answer fails with TimeoutError."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(timeout):
            writer.write(request)
            await writer.drain()
            return await read_response(reader)
    finally:
        writer.close()


def post(path: str, body: bytes, content_type: str = "application/json", extra: str = "") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n"
    )
    return head.encode() + body


def get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n".encode()


async def polling_session(port: int) -> str:
    """A new Engine.IO long-polling session; its sid."""
    response = await exchange(port, get("/socket.io/?EIO=4&transport=polling"))
    assert response.status == 200, response
    return str(json.loads(response.body[1:])["sid"])


def polling_path(sid: str) -> str:
    return f"/socket.io/?EIO=4&transport=polling&sid={sid}"
