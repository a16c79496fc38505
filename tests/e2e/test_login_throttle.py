"""Issue 9, finding 3: the sign-in slowdown holds when attempts come in parallel. Against a real
server process: a burst of wrong passwords is answered 429 with Retry-After instead of being
verified, a burst of TOTP guesses locks the second factor in the database (across a restart,
until `kinline user unlock`), the per-address limit on logins, and the user under attack signs in
once the attack stops."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pyotp

from tests.e2e.test_chat_http import assert_error
from tests.e2e.test_totp_http import STEP, code_at, enroll
from tests.support.clients import Api, Harness, HttpResult, query_database
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

BURST = 40
LOCKOUT_AFTER = 10


def login_body(username: str, password: str = DEFAULT_PASSWORD, **second_factor: str) -> dict[str, str]:
    return {"username": username, "password": password, **second_factor}


async def burst(api: Api, bodies: list[dict[str, str]]) -> list[HttpResult]:
    return list(await asyncio.gather(*(api.request("POST", "/api/auth/login", json=b) for b in bodies)))


def assert_rate_limited(result: HttpResult) -> int:
    """A 429 in the usual error shape with a Retry-After of whole seconds; returns the seconds."""
    assert result.status == 429, (result.status, result.body)
    assert_error(result.body, "rate_limited")
    retry_after = result.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= 3600
    return int(retry_after)


def wrong_codes(secret: str, count: int) -> list[str]:
    """Six-digit codes that are not accepted now (none is the code of the current step or its
    neighbours)."""
    now = datetime.now(UTC)
    totp = pyotp.TOTP(secret)
    valid = {totp.at(now + offset * STEP) for offset in range(-2, 3)}
    return [code for code in (f"{n:06d}" for n in range(100_000, 200_000, 997)) if code not in valid][:count]


async def test_parallel_wrong_passwords_are_answered_429_not_verified(server_factory: Any) -> None:
    # Each failure after the free ones blocks the username for the whole cap (8 s), so one
    # burst sees the cap at once.
    server: ServerProcess = server_factory({"KINLINE_AUTH__LOGIN_DELAY_BASE": "8s"})
    async with Harness(server) as h:
        await h.add_staff("alice")
        results = await burst(h.api(), [login_body("alice", "wrong-password-123")] * BURST)

    statuses = [r.status for r in results]
    assert set(statuses) <= {401, 429}, statuses
    verified = statuses.count(401)
    # At most the free failures (limits.login_failures_before_delay, 3) were verified.
    assert 1 <= verified <= 3, statuses
    for result in results:
        if result.status == 429:
            assert_rate_limited(result)
        else:
            assert_error(result.body, "invalid_credentials")


async def test_parallel_totp_guesses_lock_the_second_factor_until_an_admin_unlocks(
    server_factory: Any,
) -> None:
    # No password slowdown here: only the one-in-flight cap and the TOTP lockout stand in the way.
    server: ServerProcess = server_factory({"KINLINE_LIMITS__LOGIN_FAILURES_BEFORE_DELAY": "100000"})
    async with Harness(server) as h:
        await h.add_staff("alice")
        alice = await h.sign_in("alice", connect=False)
        secret, _codes = await enroll(alice.api)
        attacker = h.api()
        for _round in range(2 * LOCKOUT_AFTER):
            guesses = [login_body("alice", totp=code) for code in wrong_codes(secret, BURST)]
            results = await burst(attacker, guesses)
            statuses = [r.status for r in results]
            assert statuses.count(429) > statuses.count(401), f"the in-flight cap refused too few: {statuses}"
            for result in results:
                if result.status == 429:
                    assert_rate_limited(result)
                else:
                    assert (result.status, result.body["error"]["code"]) == (401, "invalid_credentials")
            if query_database(server, "SELECT 1 FROM audit_log WHERE action = 'staff.totp_locked'"):
                break

        # Guessing on after the lockout checks nothing more.
        more = await burst(attacker, [login_body("alice", totp=code) for code in wrong_codes(secret, BURST)])
        assert {r.status for r in more} <= {401, 429}
        # Exactly LOCKOUT_AFTER codes were ever checked, then the second factor is locked.
        assert query_database(
            server,
            "SELECT totp_failures, totp_locked_until IS NOT NULL FROM staff_users WHERE id = ?",
            alice.id,
        ) == [(LOCKOUT_AFTER, 1)]
        assert query_database(
            server,
            "SELECT actor_id, object_type, object_id FROM audit_log WHERE action = 'staff.totp_locked'",
        ) == [(None, "staff_user", str(alice.id))]

        # The right code is refused with the same answer as a wrong password, even after a restart.
        wrong_password = await h.api().request(
            "POST", "/api/auth/login", json=login_body("alice", "nope-nope-1")
        )
        refused = await h.api().request(
            "POST", "/api/auth/login", json=login_body("alice", totp=code_at(secret, 1))
        )
        assert (refused.status, refused.body) == (401, wrong_password.body)
        server.restart()
        refused = await h.api().request(
            "POST", "/api/auth/login", json=login_body("alice", totp=code_at(secret, 1))
        )
        assert (refused.status, refused.body) == (401, wrong_password.body)

        unlocked = server.cli("user", "unlock", "alice")
        assert unlocked.returncode == 0, unlocked.stderr
        assert "alice" in unlocked.stdout
        signed_in = await h.api().request(
            "POST", "/api/auth/login", json=login_body("alice", totp=code_at(secret, 1))
        )
        assert signed_in.status == 200, signed_in.body
    assert query_database(
        server, "SELECT actor_id, object_id FROM audit_log WHERE action = 'staff.totp_unlock'"
    ) == [(None, str(alice.id))]
    assert query_database(
        server, "SELECT totp_failures, totp_locked_until FROM staff_users WHERE id = ?", alice.id
    ) == [(0, None)]


async def test_a_totp_reset_clears_the_lockout(server_factory: Any) -> None:
    server: ServerProcess = server_factory(
        {"KINLINE_LIMITS__LOGIN_FAILURES_BEFORE_DELAY": "100000", "KINLINE_AUTH__TOTP_LOCKOUT_AFTER": "2"}
    )
    async with Harness(server) as h:
        await h.add_staff("alice")
        alice = await h.sign_in("alice", connect=False)
        secret, _codes = await enroll(alice.api)
        for code in wrong_codes(secret, 3):
            result = await h.api().request("POST", "/api/auth/login", json=login_body("alice", totp=code))
            assert result.status == 401
        locked = await h.api().request(
            "POST", "/api/auth/login", json=login_body("alice", totp=code_at(secret, 1))
        )
        assert locked.status == 401
        assert server.cli("user", "totp-reset", "alice").returncode == 0
        assert (await h.api().request("POST", "/api/auth/login", json=login_body("alice"))).status == 200
    assert query_database(
        server, "SELECT totp_failures, totp_locked_until FROM staff_users WHERE id = ?", alice.id
    ) == [(0, None)]


async def test_the_per_address_login_limit_answers_429_on_the_fourth_attempt(server_factory: Any) -> None:
    server: ServerProcess = server_factory({"KINLINE_LIMITS__LOGINS_PER_MINUTE": "3"})
    async with Harness(server) as h:
        await h.add_staff("alice")
        api = h.api()
        # Different usernames, so only the per-address limit can refuse.
        for name in ("nobody-1", "nobody-2", "nobody-3"):
            result = await api.request("POST", "/api/auth/login", json=login_body(name, "wrong-password-1"))
            assert result.status == 401, result.body
        fourth = await h.api().request("POST", "/api/auth/login", json=login_body("alice"))
        retry_after = assert_rate_limited(fourth)
        assert retry_after <= 60


async def test_after_an_attack_stops_the_right_password_signs_in_from_a_new_session(
    server_factory: Any,
) -> None:
    server: ServerProcess = server_factory(
        {
            "KINLINE_LIMITS__LOGIN_FAILURES_BEFORE_DELAY": "1",
            "KINLINE_AUTH__LOGIN_DELAY_BASE": "1s",
            "KINLINE_AUTH__LOGIN_DELAY_MAX": "2s",
        }
    )
    async with Harness(server) as h:
        await h.add_staff("alice")
        attacker = h.api()
        refused = 0
        for _round in range(3):
            results = await burst(attacker, [login_body("alice", "wrong-password-123")] * BURST)
            assert {r.status for r in results} <= {401, 429}
            refused += sum(1 for r in results if r.status == 429 and assert_rate_limited(r) <= 2)
        assert refused >= 3 * BURST - 10

        # The attack has stopped: a new session waits out the server's Retry-After, then signs in.
        user = h.api()
        for _attempt in range(10):
            result = await user.request("POST", "/api/auth/login", json=login_body("alice"))
            if result.status != 429:
                break
            await asyncio.sleep(assert_rate_limited(result))
        assert result.status == 200, result.body
        assert (await user.request("GET", "/api/me")).status == 200
