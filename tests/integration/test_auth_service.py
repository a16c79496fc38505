"""Staff sign-in on a real SQLite file: argon2id, sessions with idle and absolute timeouts,
logout, and the slowdown after repeated failures."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest

from server.domain.errors import Conflict, InvalidInput, NotAuthenticated, RateLimited
from server.domain.staff import Role, StaffUser
from server.domain.tokens import secret_hash
from server.services.accounts import AccountService
from server.services.auth import GENERIC_LOGIN_ERROR, AuthService
from server.services.events import SessionEnded, StaffDisabled, StaffSessionsEnded
from tests.integration.wiring import (
    ABSOLUTE_TIMEOUT,
    FAILURES_BEFORE_DELAY,
    IDLE_TIMEOUT,
    PASSWORD,
    ManualClock,
    RecordingBus,
    add_staff,
)
from tests.support.assertions import raises_code

WRONG = "not-the-right-password"


@pytest.fixture
async def alice(auth: AuthService) -> StaffUser:
    return await add_staff(auth, "alice")


async def login_error(auth: AuthService, username: str, password: str) -> NotAuthenticated:
    with pytest.raises(NotAuthenticated) as caught:
        await auth.login(username, password)
    return caught.value


class TestPasswords:
    async def test_passwords_are_stored_as_argon2id_hashes(
        self, alice: StaffUser, raw: sqlite3.Connection
    ) -> None:
        (stored,) = raw.execute("SELECT password_hash FROM staff_users WHERE id = ?", (alice.id,)).fetchone()
        assert stored.startswith("$argon2id$")
        assert PASSWORD not in stored

    async def test_a_short_password_is_refused(self, auth: AuthService) -> None:
        with raises_code(InvalidInput, "weak_password"):
            await auth.add_user("bob", "short", Role.COUNSELLOR)

    async def test_a_username_is_taken_once(self, auth: AuthService, alice: StaffUser) -> None:
        with raises_code(Conflict, "user_exists"):
            await auth.add_user("alice", PASSWORD, alice.role)


class TestLogin:
    async def test_the_right_password_opens_a_session(self, auth: AuthService, alice: StaffUser) -> None:
        user, token = await auth.login("alice", PASSWORD)
        assert user.id == alice.id
        assert (await auth.session(token)).user.id == alice.id

    async def test_the_session_token_is_stored_only_as_a_hash(
        self, auth: AuthService, alice: StaffUser, raw: sqlite3.Connection
    ) -> None:
        _user, token = await auth.login("alice", PASSWORD)
        assert token not in "\n".join(raw.iterdump())
        assert raw.execute(
            "SELECT count(*) FROM staff_sessions WHERE user_id = ?", (alice.id,)
        ).fetchone() == (1,)

    async def test_unknown_user_and_wrong_password_fail_the_same_way(
        self, auth: AuthService, alice: StaffUser
    ) -> None:
        wrong_password = await login_error(auth, "alice", WRONG)
        unknown_user = await login_error(auth, "mallory", PASSWORD)
        assert (wrong_password.code, wrong_password.message) == (unknown_user.code, unknown_user.message)
        assert wrong_password.code == "invalid_credentials"
        assert wrong_password.message == GENERIC_LOGIN_ERROR

    async def test_a_disabled_account_cannot_sign_in_and_loses_its_sessions(
        self, accounts: AccountService, auth: AuthService, alice: StaffUser, events: RecordingBus
    ) -> None:
        _user, token = await auth.login("alice", PASSWORD)
        await accounts.change_account(None, "alice", active=False)
        assert [e.user_id for e in events.of(StaffDisabled)] == [alice.id]
        with pytest.raises(NotAuthenticated):
            await auth.session(token)
        error = await login_error(auth, "alice", PASSWORD)
        assert (error.code, error.message) == ("invalid_credentials", GENERIC_LOGIN_ERROR)


class TestSessions:
    async def test_activity_keeps_a_session_alive_past_the_idle_timeout(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        _user, token = await auth.login("alice", PASSWORD)
        for _ in range(3):
            clock.advance(IDLE_TIMEOUT - timedelta(minutes=1))
            assert (await auth.session(token)).user.id == alice.id

    async def test_a_session_idle_longer_than_the_idle_timeout_ends(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock, raw: sqlite3.Connection
    ) -> None:
        _user, token = await auth.login("alice", PASSWORD)
        clock.advance(IDLE_TIMEOUT + timedelta(seconds=1))
        with raises_code(NotAuthenticated, "session_expired"):
            await auth.session(token)
        assert raw.execute("SELECT count(*) FROM staff_sessions").fetchone() == (0,)
        with raises_code(NotAuthenticated, "not_authenticated"):
            await auth.session(token)

    async def test_a_session_ends_at_the_absolute_timeout_however_active(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        _user, token = await auth.login("alice", PASSWORD)
        step = IDLE_TIMEOUT / 2
        elapsed = timedelta(0)
        while elapsed + step < ABSOLUTE_TIMEOUT:
            clock.advance(step)
            elapsed += step
            assert (await auth.session(token)).user.id == alice.id
        clock.advance(ABSOLUTE_TIMEOUT - elapsed + timedelta(seconds=1))
        with raises_code(NotAuthenticated, "session_expired"):
            await auth.session(token)

    async def test_logout_ends_the_session_on_the_server(
        self, auth: AuthService, alice: StaffUser, events: RecordingBus
    ) -> None:
        _user, token = await auth.login("alice", PASSWORD)
        _user, other_token = await auth.login("alice", PASSWORD)
        await auth.logout(token)
        with raises_code(NotAuthenticated, "not_authenticated"):
            await auth.session(token)
        assert (await auth.session(other_token)).user.id == alice.id
        assert len(events.of(SessionEnded)) == 1


async def slowed_for(auth: AuthService, username: str, password: str = WRONG) -> int:
    """The Retry-After seconds of an attempt refused before anything is checked."""
    with pytest.raises(RateLimited) as caught:
        await auth.login(username, password)
    assert caught.value.code == "rate_limited" and caught.value.retry_after is not None
    return caught.value.retry_after


class TestThrottle:
    async def test_repeated_failures_for_one_username_are_slowed_more_and_more(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        for _ in range(FAILURES_BEFORE_DELAY):
            await login_error(auth, "alice", WRONG)
        waits = []
        for _ in range(6):
            wait = await slowed_for(auth, "alice")
            waits.append(wait)
            clock.advance(timedelta(seconds=wait))
            await login_error(auth, "alice", WRONG)
        assert waits == [1, 2, 4, 8, 8, 8]

    async def test_the_right_password_waits_too_and_then_signs_in(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        for _ in range(FAILURES_BEFORE_DELAY):
            await login_error(auth, "alice", WRONG)
        wait = await slowed_for(auth, "alice", PASSWORD)
        clock.advance(timedelta(seconds=wait))
        user, _token = await auth.login("alice", PASSWORD)
        assert user.id == alice.id

    async def test_other_usernames_are_not_slowed(self, auth: AuthService, alice: StaffUser) -> None:
        await add_staff(auth, "bob")
        for _ in range(FAILURES_BEFORE_DELAY):
            await login_error(auth, "alice", WRONG)
        await slowed_for(auth, "alice")
        user, _token = await auth.login("bob", PASSWORD)
        assert user.username == "bob"

    async def test_unknown_usernames_are_slowed_like_known_ones(self, auth: AuthService) -> None:
        for _ in range(FAILURES_BEFORE_DELAY):
            await login_error(auth, "mallory", WRONG)
        assert await slowed_for(auth, "mallory") == 1

    async def test_a_successful_login_clears_the_slowdown(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        for _ in range(FAILURES_BEFORE_DELAY):
            await login_error(auth, "alice", WRONG)
        clock.advance(timedelta(seconds=await slowed_for(auth, "alice")))
        await auth.login("alice", PASSWORD)
        for _ in range(FAILURES_BEFORE_DELAY):
            await login_error(auth, "alice", WRONG)

    async def test_parallel_attempts_for_one_username_are_refused_while_one_is_checked(
        self, auth: AuthService, alice: StaffUser
    ) -> None:
        outcomes = await asyncio.gather(
            *(auth.login("alice", PASSWORD) for _ in range(5)), return_exceptions=True
        )
        assert sum(1 for outcome in outcomes if isinstance(outcome, tuple)) == 1
        assert all(isinstance(o, RateLimited) for o in outcomes if not isinstance(o, tuple))


class TestLiveSessions:
    """The session watch's one query for all the sessions behind a process's staff sockets."""

    async def test_only_live_sessions_are_returned_and_expired_ones_are_deleted(
        self,
        accounts: AccountService,
        auth: AuthService,
        alice: StaffUser,
        clock: ManualClock,
        raw: sqlite3.Connection,
    ) -> None:
        await add_staff(auth, "bob")
        await add_staff(auth, "carl")
        tokens = {name: (await auth.login(name, PASSWORD))[1] for name in ("alice", "bob", "carl")}
        hashes = {name: secret_hash(token) for name, token in tokens.items()}
        await auth.logout(tokens["bob"])
        await accounts.change_account(None, "carl", active=False)
        live = await auth.live_sessions([*hashes.values(), secret_hash("never-issued")])
        assert {h: user.id for h, user in live.items()} == {hashes["alice"]: alice.id}

        clock.advance(IDLE_TIMEOUT + timedelta(seconds=1))
        assert await auth.live_sessions(hashes.values()) == {}
        assert raw.execute("SELECT count(*) FROM staff_sessions").fetchone() == (0,)

    async def test_sessions_used_on_a_socket_stay_alive_and_unused_ones_expire(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        used, unused = [secret_hash((await auth.login("alice", PASSWORD))[1]) for _ in range(2)]
        for _ in range(3):
            clock.advance(IDLE_TIMEOUT - timedelta(minutes=1))
            live = await auth.live_sessions({used, unused}, used={used})
            assert used in live
        assert unused not in live

    async def test_a_totp_reset_ends_every_session_of_the_account(
        self, accounts: AccountService, auth: AuthService, alice: StaffUser, events: RecordingBus
    ) -> None:
        tokens = [(await auth.login("alice", PASSWORD))[1] for _ in range(2)]
        await accounts.reset_totp(None, "alice")
        for token in tokens:
            with pytest.raises(NotAuthenticated):
                await auth.session(token)
        assert events.of(StaffSessionsEnded) == [StaffSessionsEnded(alice.id)]
        assert events.of(StaffDisabled) == []
