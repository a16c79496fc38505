"""Kinline behind a real Caddy (Debian's `caddy`), run with deploy/Caddyfile itself and test values
for its placeholders (TLS from Caddy's internal CA, free ports), and the production security
settings: `security.trusted_proxies` = the proxy, `security.secure_cookies` on.

Through the proxy: the session cookie is Secure (the proxy says https), /metrics is not served,
websockets carry a conversation both ways, and the per-client limits count each client address
the proxy forwards on its own. A client that sends its own X-Forwarded-For, through the proxy or
straight to Kinline, cannot pick the address it is counted under."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from tests.support.clients import EventLog
from tests.support.server import DEFAULT_PASSWORD, ROOT, ServerProcess, free_port

PER_MINUTE = 2
METRICS_TOKEN = secrets.token_hex(16)
COOKIE = "__Host-kinline_session"


@dataclass
class Site:
    url: str  # the public origin, through Caddy
    server: ServerProcess


def connector(address: str = "127.0.0.1") -> aiohttp.TCPConnector:
    """Connections from ``address`` (any 127.x address is this machine), IPv4 only so that
    "localhost" is Caddy's listener, and no certificate check (Caddy's internal CA)."""
    return aiohttp.TCPConnector(ssl=False, family=socket.AF_INET, local_addr=(address, 0), force_close=True)


async def _caddy_answers(url: str) -> bool:
    try:
        async with (
            aiohttp.ClientSession(connector=connector()) as http,
            http.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=2)) as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError, ssl.SSLError):
        return False


@pytest.fixture
async def site(tmp_path: Path, server_factory: Callable[..., ServerProcess]) -> AsyncIterator[Site]:
    binary = shutil.which("caddy")
    assert binary is not None, "caddy is not installed (Debian package caddy; `make system-deps`)"
    https_port = free_port()
    public = f"https://localhost:{https_port}"
    server = server_factory(
        env={
            "KINLINE_PUBLIC_URL": public,
            "KINLINE_SECURITY__TRUSTED_PROXIES": '["127.0.0.1"]',
            "KINLINE_SECURITY__SECURE_COOKIES": "true",
            "KINLINE_LIMITS__NEW_CONVERSATIONS_PER_MINUTE": str(PER_MINUTE),
            "KINLINE_OBSERVABILITY__METRICS_TOKEN": METRICS_TOKEN,
        },
        name="behind-caddy",
    )
    home = tmp_path / "caddy-home"
    home.mkdir()
    caddy_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "KINLINE_CADDY_ADMIN": "off",
        "KINLINE_HTTP_PORT": str(free_port()),
        "KINLINE_HTTPS_PORT": str(https_port),
        "KINLINE_SITE": "localhost",
        "KINLINE_TLS": "internal",
        "KINLINE_UPSTREAMS": f"127.0.0.1:{server.port}",
    }
    log = (tmp_path / "caddy.log").open("wb")
    caddy = subprocess.Popen(
        [binary, "run", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
        env=caddy_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=home,
    )
    try:
        async with asyncio.timeout(30):
            while not await _caddy_answers(public):
                assert caddy.poll() is None, (tmp_path / "caddy.log").read_text()
                await asyncio.sleep(0.1)
        yield Site(public, server)
    finally:
        caddy.terminate()
        caddy.wait(timeout=15)
        log.close()


async def _start(http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None) -> int:
    async with http.post(f"{url}/api/conversations", json={"language": "sv"}, headers=headers) as response:
        return response.status


async def test_the_session_cookie_is_secure_and_metrics_are_not_public(site: Site) -> None:
    site.server.add_user("cecilia", "counsellor")
    async with aiohttp.ClientSession(connector=connector()) as http:
        credentials = {"username": "cecilia", "password": DEFAULT_PASSWORD}
        async with http.post(f"{site.url}/api/auth/login", json=credentials) as response:
            assert response.status == 200, await response.text()
            cookies = response.headers.getall("Set-Cookie")
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        (session_cookie,) = [cookie for cookie in cookies if cookie.startswith(f"{COOKIE}=")]
        assert "; Secure" in session_cookie and "HttpOnly" in session_cookie

        bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        async with http.get(f"{site.url}/metrics", headers=bearer) as response:
            assert response.status == 404
        # On the private side, to the process itself, the scrape works.
        async with http.get(f"{site.server.url}/metrics", headers=bearer) as response:
            assert response.status == 200
            assert "kinline_messages_posted_total" in await response.text()


async def _socket(
    http: aiohttp.ClientSession, url: str, namespace: str, log: EventLog, **options: Any
) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False, http_session=http, ssl_verify=False)
    client.on("*", log.record, namespace=namespace)
    await client.connect(url, namespaces=[namespace], transports=["websocket"], wait_timeout=20, **options)
    return client


async def test_a_conversation_runs_over_websockets_through_the_proxy(site: Site) -> None:
    site.server.add_user("dagny", "counsellor")
    async with (
        aiohttp.ClientSession(connector=connector()) as staff_http,
        aiohttp.ClientSession(connector=connector("127.0.0.2")) as relative_http,
    ):
        credentials = {"username": "dagny", "password": DEFAULT_PASSWORD}
        async with staff_http.post(f"{site.url}/api/auth/login", json=credentials) as response:
            assert response.status == 200
            cookie = response.cookies[COOKIE].value
        async with relative_http.post(f"{site.url}/api/conversations", json={"language": "sv"}) as response:
            assert response.status == 201
            started = await response.json()

        staff_log, relative_log = EventLog(), EventLog()
        console = await _socket(
            staff_http, site.url, "/counsellor", staff_log, headers={"Cookie": f"{COOKIE}={cookie}"}
        )
        page = await _socket(
            relative_http, site.url, "/relative", relative_log, auth={"token": started["token"]}
        )
        try:
            await relative_log.wait_for("status", lambda status: status["state"] == "waiting")
            claim = await console.call(
                "claim", {"conversation_id": started["conversation_id"]}, namespace="/counsellor"
            )
            assert claim["ok"], claim
            await relative_log.wait_for("status", lambda status: status["state"] == "active")
            reply = await console.call(
                "send_message",
                {
                    "conversation_id": started["conversation_id"],
                    "client_id": str(uuid.uuid4()),
                    "text": "hej",
                },
                namespace="/counsellor",
            )
            assert reply["ok"], reply
            got = await relative_log.wait_for("message", lambda m: m["seq"] == reply["message"]["seq"])
            assert got["text"] == "hej"
            sent = await page.call(
                "send_message", {"client_id": str(uuid.uuid4()), "text": "tack"}, namespace="/relative"
            )
            assert sent["ok"], sent
            got = await staff_log.wait_for("message", lambda m: m["seq"] == sent["message"]["seq"])
            assert got["text"] == "tack"
        finally:
            await page.disconnect()
            await console.disconnect()


async def test_each_forwarded_client_has_its_own_allowance_and_cannot_choose_it(site: Site) -> None:
    async def statuses(address: str, url: str, spoof: bool = False) -> list[int]:
        async with aiohttp.ClientSession(connector=connector(address)) as http:
            found = []
            for _ in range(PER_MINUTE + 1):
                headers = {"X-Forwarded-For": f"198.51.100.{secrets.randbelow(250) + 1}"} if spoof else None
                found.append(await _start(http, url, headers))
            return found

    expected = [201] * PER_MINUTE + [429]
    # Two clients behind the proxy: each gets the whole allowance.
    assert await statuses("127.0.0.2", site.url) == expected
    assert await statuses("127.0.0.3", site.url) == expected
    # A client that writes its own X-Forwarded-For: the proxy replaces it with the real address.
    assert await statuses("127.0.0.4", site.url, spoof=True) == expected
    # Straight to Kinline, not from the trusted proxy: the header is ignored.
    assert await statuses("127.0.0.5", site.server.url, spoof=True) == expected
