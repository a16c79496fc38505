"""What every response and every request body gets, whichever route (or none) handles it: the
security headers on every response (aiohttp's own error pages, static files and Socket.IO's
answers included), and a size and a time limit on every body, Socket.IO's included."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web, web_response
from aiohttp.typedefs import Middleware

from server.transports.http.middlewares import Handler, json_error

SOCKET_IO_PREFIX = "/socket.io/"
SERVER_NAME = "Kinline"
HSTS = "max-age=31536000; includeSubDomains"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Server": SERVER_NAME,
}

ResponseHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def security_headers(https: bool) -> ResponseHook:
    """An ``on_response_prepare`` hook; HSTS only when the service is served over HTTPS
    (``security.secure_cookies``)."""
    headers = {**SECURITY_HEADERS, **({"Strict-Transport-Security": HSTS} if https else {})}

    async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(headers)
        response.headers.setdefault("Cache-Control", "no-store")

    return add_security_headers


def hide_server_version() -> None:
    """aiohttp names itself and the Python version in ``Server`` on the few answers no hook sees:
    the 400s for requests it cannot parse. Those get the neutral name as well."""
    web_response.SERVER_SOFTWARE = SERVER_NAME  # type: ignore[attr-defined]


def body_limits(max_body_bytes: int, max_socket_payload_bytes: int, read_timeout: float) -> Middleware:
    """A middleware: a body larger than its limit gets 413 before anything reads it, and a body
    that has not arrived whole ``read_timeout`` seconds after the headers gets 408.

    Socket.IO's long-polling POSTs have their own, smaller limit, checked here because
    python-engineio answers an oversized one by hanging. Engine.IO reads the body itself, so
    here it is only waited for, not consumed."""

    @web.middleware
    async def body_limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.body_exists:
            return await handler(request)
        socket_io = request.path.startswith(SOCKET_IO_PREFIX)
        limit = max_socket_payload_bytes if socket_io else max_body_bytes
        length = request.content_length
        if length is not None and length > limit:
            return _too_large()
        try:
            async with asyncio.timeout(read_timeout):
                if not socket_io:
                    await request.read()
                elif length is None:
                    return await _refuse_chunked_socket_io(request, limit)
                elif length <= request.content.get_read_buffer_limits()[1]:
                    await request.content.wait_eof()
        except TimeoutError:
            return json_error(408, "request_timeout", "the request body did not arrive in time")
        return await handler(request)

    return body_limits_middleware


async def _refuse_chunked_socket_io(request: web.Request, limit: int) -> web.Response:
    """Engine.IO reads exactly Content-Length bytes, so a chunked body would be dropped unread;
    it is read up to the limit only to tell which answer fits."""
    received = 0
    while chunk := await request.content.readany():
        received += len(chunk)
        if received > limit:
            return _too_large()
    return json_error(411, "length_required", "a Socket.IO body needs a Content-Length")


def _too_large() -> web.Response:
    return json_error(413, "payload_too_large", "the request body is too large")
