"""Two `kinline serve` processes on one PostgreSQL and one Redis count rate limits and sign-in
failures together: a client alternating between them gets the allowance of one process, not of
two. The processes share the data key, from which the counters' HMAC key is derived."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator

import aiohttp
import pytest

from tests.support.privacy import CANARY_WRONG_PASSWORD
from tests.support.server import DEFAULT_PASSWORD, ServerProcess
from tests.support.services import postgres_server, redis_server

PER_MINUTE = 4
FREE_FAILURES = 3


@pytest.fixture(scope="module")
def shared_env() -> Iterator[dict[str, str]]:
    with postgres_server() as database_url, redis_server() as redis_url:
        yield {
            "KINLINE_DATABASE_URL": database_url,
            "KINLINE_SCALE__REDIS_URL": redis_url,
            "KINLINE_SECURITY__DATA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "KINLINE_LIMITS__NEW_CONVERSATIONS_PER_MINUTE": str(PER_MINUTE),
            "KINLINE_LIMITS__LOGIN_FAILURES_BEFORE_DELAY": str(FREE_FAILURES),
            # Long enough that no test waits it out: the block is seen, not timed.
            "KINLINE_AUTH__LOGIN_DELAY_BASE": "10m",
            "KINLINE_AUTH__LOGIN_DELAY_MAX": "20m",
        }


@pytest.fixture
def two_servers(
    server_factory: Callable[..., ServerProcess], shared_env: dict[str, str]
) -> tuple[ServerProcess, ServerProcess]:
    return server_factory(shared_env, name="a"), server_factory(shared_env, name="b")


async def _post(url: str, json: dict[str, str]) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.post(url, json=json) as response:
        return response.status, dict(response.headers)


async def test_new_conversations_are_limited_once_across_both_processes(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    statuses = []
    for attempt in range(2 * PER_MINUTE):
        server = two_servers[attempt % 2]
        status, headers = await _post(f"{server.url}/api/conversations", {"language": "sv"})
        statuses.append(status)
        if status == 429:
            assert int(headers["Retry-After"]) >= 1
    assert statuses == [201] * PER_MINUTE + [429] * PER_MINUTE


async def test_sign_in_failures_slow_the_username_down_on_both_processes(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    server_a, server_b = two_servers
    server_a.add_user("greta", "counsellor")
    wrong = {"username": "greta", "password": CANARY_WRONG_PASSWORD}
    statuses = [
        (await _post(f"{two_servers[attempt % 2].url}/api/auth/login", wrong))[0]
        for attempt in range(FREE_FAILURES)
    ]
    assert statuses == [401] * FREE_FAILURES
    # The next attempt waits, on whichever process it reaches, even with the right password.
    right = {"username": "greta", "password": DEFAULT_PASSWORD}
    for server in (server_b, server_a):
        status, headers = await _post(f"{server.url}/api/auth/login", right)
        assert status == 429
        assert int(headers["Retry-After"]) > 60
    # Another username is not slowed down.
    server_b.add_user("hugo", "counsellor")
    assert (
        await _post(f"{server_b.url}/api/auth/login", {"username": "hugo", "password": DEFAULT_PASSWORD})
    )[0] == 200
