"""AuthService on the in-memory fakes: accounts, sign-in, sessions, the slowdown, the second factor
(tests/integration/test_auth_service.py and test_totp_service.py run the same rules on SQLite)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pyotp
import pytest

from server.domain.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound, RateLimited
from server.domain.staff import Role, StaffUser
from server.domain.tokens import secret_hash
from server.services.accounts import AccountService
from server.services.auth import GENERIC_LOGIN_ERROR, AuthService
from server.services.events import SessionEnded, StaffDisabled, StaffSessionsEnded
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.integration.wiring import (
    ABSOLUTE_TIMEOUT,
    FAILURES_BEFORE_DELAY,
    IDLE_TIMEOUT,
    PASSWORD,
    add_staff,
)
from tests.support.assertions import raises_code
from tests.support.clock import ManualClock
from tests.support.event_bus import RecordingBus

WRONG = "not-the-password-at-all"


@pytest.fixture
async def carol(auth: AuthService) -> StaffUser:
    """An account with a real password, made the way an admin makes one."""
    return await add_staff(auth, "carol")


async def login_error(auth: AuthService, username: str, password: str, **second: str) -> NotAuthenticated:
    with pytest.raises(NotAuthenticated) as caught:
        await auth.login(username, password, **second)
    return caught.value


async def slowed_for(auth: AuthService, username: str, password: str = WRONG) -> int:
    with pytest.raises(RateLimited) as caught:
        await auth.login(username, password)
    assert caught.value.retry_after is not None
    return caught.value.retry_after


async def enroll(auth: AuthService, user: StaffUser, clock: ManualClock) -> tuple[str, list[str]]:
    enrollment = await auth.start_totp_enrollment(user)
    codes = await auth.confirm_totp_enrollment(user, pyotp.TOTP(enrollment.secret).at(clock()))
    return enrollment.secret, codes


class TestAccounts:
    async def test_the_password_is_kept_as_an_argon2id_hash(
        self, carol: StaffUser, uow: FakeUnitOfWork
    ) -> None:
        stored = uow.tables.staff[carol.id].password_hash
        assert stored.startswith("$argon2id$") and PASSWORD not in stored

    async def test_a_short_password_or_a_taken_username_is_refused(
        self, auth: AuthService, carol: StaffUser, uow: FakeUnitOfWork
    ) -> None:
        with raises_code(InvalidInput, "weak_password"):
            await auth.add_user("dave", "short", Role.COUNSELLOR)
        with raises_code(Conflict, "user_exists"):
            await auth.add_user("carol", PASSWORD, Role.ADMIN)
        assert [row.user.username for row in uow.tables.staff.values()] == ["carol"]

    async def test_a_display_name_loses_its_bidi_controls(
        self, auth: AuthService, uow: FakeUnitOfWork
    ) -> None:
        user_id = await auth.add_user("erik", PASSWORD, Role.COUNSELLOR, "Erik\u202e nosnavS")
        assert uow.tables.staff[user_id].user.display_name == "Erik nosnavS"

    async def test_disabling_an_account_ends_its_sessions_and_its_sign_in(
        self, accounts: AccountService, auth: AuthService, carol: StaffUser, events: RecordingBus
    ) -> None:
        _user, token = await auth.login("carol", PASSWORD)
        disabled = await accounts.change_account(None, "carol", active=False)
        assert not disabled.active
        assert events.of(StaffDisabled) == [StaffDisabled(carol.id)]
        with pytest.raises(NotAuthenticated):
            await auth.session(token)
        assert (await login_error(auth, "carol", PASSWORD)).code == "invalid_credentials"
        await accounts.change_account(None, "carol", active=True)
        assert (await auth.login("carol", PASSWORD))[0].id == carol.id

    async def test_an_unknown_account_cannot_be_disabled(
        self, accounts: AccountService, auth: AuthService
    ) -> None:
        with raises_code(NotFound, "not_found"):
            await accounts.change_account(None, "nobody", active=False)


class TestLogin:
    async def test_the_right_password_opens_a_session_kept_only_as_a_hash(
        self, auth: AuthService, carol: StaffUser, uow: FakeUnitOfWork
    ) -> None:
        user, token = await auth.login("carol", PASSWORD)
        assert user.id == carol.id
        assert list(uow.tables.sessions) == [secret_hash(token)]
        assert (await auth.session(token)).user.id == carol.id

    async def test_unknown_user_and_wrong_password_fail_the_same_way(
        self, auth: AuthService, carol: StaffUser
    ) -> None:
        wrong_password = await login_error(auth, "carol", WRONG)
        unknown_user = await login_error(auth, "mallory", PASSWORD)
        assert (wrong_password.code, wrong_password.message) == (unknown_user.code, unknown_user.message)
        assert (wrong_password.code, wrong_password.message) == ("invalid_credentials", GENERIC_LOGIN_ERROR)

    async def test_repeated_failures_are_slowed_more_and_more_and_success_clears_it(
        self, auth: AuthService, carol: StaffUser, clock: ManualClock
    ) -> None:
        for _ in range(FAILURES_BEFORE_DELAY):
            await login_error(auth, "carol", WRONG)
        waits = []
        for _ in range(3):
            waits.append(await slowed_for(auth, "carol"))
            clock.advance(timedelta(seconds=waits[-1]))
            await login_error(auth, "carol", WRONG)
        assert waits == [1, 2, 4]
        clock.advance(timedelta(seconds=await slowed_for(auth, "carol", PASSWORD)))
        await auth.login("carol", PASSWORD)
        for _ in range(FAILURES_BEFORE_DELAY):
            await login_error(auth, "carol", WRONG)

    async def test_parallel_attempts_for_one_username_are_refused_while_one_is_checked(
        self, auth: AuthService, carol: StaffUser
    ) -> None:
        outcomes = await asyncio.gather(
            *(auth.login("carol", PASSWORD) for _ in range(3)), return_exceptions=True
        )
        assert sum(1 for outcome in outcomes if isinstance(outcome, tuple)) == 1
        assert all(isinstance(o, RateLimited) for o in outcomes if not isinstance(o, tuple))


class TestSessions:
    async def test_activity_keeps_a_session_alive_past_the_idle_timeout(
        self, auth: AuthService, carol: StaffUser, clock: ManualClock
    ) -> None:
        _user, token = await auth.login("carol", PASSWORD)
        for _ in range(3):
            clock.advance(IDLE_TIMEOUT - timedelta(minutes=1))
            assert (await auth.session(token)).user.id == carol.id

    async def test_a_session_idle_longer_than_the_idle_timeout_ends_and_is_deleted(
        self, auth: AuthService, carol: StaffUser, clock: ManualClock, uow: FakeUnitOfWork
    ) -> None:
        _user, token = await auth.login("carol", PASSWORD)
        clock.advance(IDLE_TIMEOUT + timedelta(seconds=1))
        with raises_code(NotAuthenticated, "session_expired"):
            await auth.session(token)
        assert uow.tables.sessions == {}
        with raises_code(NotAuthenticated, "not_authenticated"):
            await auth.session(token)

    async def test_a_session_ends_at_the_absolute_timeout_however_active(
        self, auth: AuthService, carol: StaffUser, clock: ManualClock
    ) -> None:
        _user, token = await auth.login("carol", PASSWORD)
        step = IDLE_TIMEOUT / 2
        elapsed = timedelta(0)
        while elapsed + step < ABSOLUTE_TIMEOUT:
            clock.advance(step)
            elapsed += step
            await auth.session(token)
        clock.advance(ABSOLUTE_TIMEOUT - elapsed + timedelta(seconds=1))
        with raises_code(NotAuthenticated, "session_expired"):
            await auth.session(token)

    async def test_logout_ends_that_session_only(
        self, auth: AuthService, carol: StaffUser, events: RecordingBus
    ) -> None:
        _user, token = await auth.login("carol", PASSWORD)
        _user, other = await auth.login("carol", PASSWORD)
        await auth.logout(token)
        with raises_code(NotAuthenticated, "not_authenticated"):
            await auth.session(token)
        assert (await auth.session(other)).user.id == carol.id
        assert events.of(SessionEnded) == [SessionEnded(secret_hash(token))]


class TestLiveSessions:
    async def test_only_live_sessions_are_returned_and_expired_ones_are_deleted(
        self, accounts: AccountService, auth: AuthService, uow: FakeUnitOfWork, clock: ManualClock
    ) -> None:
        users = {name: await uow.seed_staff(name) for name in ("alice", "bob", "carl")}
        hashes = {name: secret_hash(f"token-{name}") for name in users}
        async with uow.write() as repos:
            for name, user in users.items():
                await repos.staff.create_session(hashes[name], user.id, clock())
        await auth.logout("token-bob")
        await accounts.change_account(None, "carl", active=False)
        live = await auth.live_sessions([*hashes.values(), secret_hash("never-issued")])
        assert {h: user.id for h, user in live.items()} == {hashes["alice"]: users["alice"].id}
        clock.advance(IDLE_TIMEOUT + timedelta(seconds=1))
        assert await auth.live_sessions(hashes.values()) == {}
        assert uow.tables.sessions == {}

    async def test_sessions_used_on_a_socket_stay_alive_and_unused_ones_expire(
        self, auth: AuthService, uow: FakeUnitOfWork, clock: ManualClock
    ) -> None:
        alice = await uow.seed_staff("alice")
        used, unused = secret_hash("used"), secret_hash("unused")
        async with uow.write() as repos:
            await repos.staff.create_session(used, alice.id, clock())
            await repos.staff.create_session(unused, alice.id, clock())
        for _ in range(3):
            clock.advance(IDLE_TIMEOUT - timedelta(minutes=1))
            live = await auth.live_sessions({used, unused}, used={used})
            assert used in live
        assert unused not in live


class TestSecondFactor:
    async def test_a_started_enrollment_is_not_in_force_until_a_code_confirms_it(
        self, auth: AuthService, carol: StaffUser, clock: ManualClock
    ) -> None:
        enrollment = await auth.start_totp_enrollment(carol)
        assert not (await auth.totp_status(carol)).enabled
        await auth.login("carol", PASSWORD)
        with raises_code(InvalidInput, "totp_invalid_code"):
            await auth.confirm_totp_enrollment(carol, "000000")
        await auth.confirm_totp_enrollment(carol, pyotp.TOTP(enrollment.secret).at(clock()))
        status = await auth.totp_status(carol)
        assert (status.enabled, status.recovery_codes_left) == (True, 10)
        with raises_code(Conflict, "totp_already_enabled"):
            await auth.start_totp_enrollment(carol)

    async def test_confirming_without_starting_is_a_conflict(
        self, auth: AuthService, carol: StaffUser
    ) -> None:
        with raises_code(Conflict, "totp_not_started"):
            await auth.confirm_totp_enrollment(carol, "123456")

    async def test_a_code_signs_in_once_and_the_password_alone_no_more(
        self, auth: AuthService, carol: StaffUser, clock: ManualClock
    ) -> None:
        secret, _codes = await enroll(auth, carol, clock)
        assert (await login_error(auth, "carol", PASSWORD)).message == GENERIC_LOGIN_ERROR
        clock.advance(timedelta(seconds=30))
        code = pyotp.TOTP(secret).at(clock())
        await auth.login("carol", PASSWORD, totp=code)
        await login_error(auth, "carol", PASSWORD, totp=code)

    async def test_each_recovery_code_signs_in_once_and_is_audited(
        self, auth: AuthService, carol: StaffUser, clock: ManualClock, uow: FakeUnitOfWork
    ) -> None:
        _secret, codes = await enroll(auth, carol, clock)
        await auth.login("carol", PASSWORD, recovery_code=codes[0])
        await login_error(auth, "carol", PASSWORD, recovery_code=codes[0])
        assert (await auth.totp_status(carol)).recovery_codes_left == 9
        assert [row.action for row in uow.tables.audit].count("staff.recovery_code_used") == 1

    async def test_after_the_set_number_of_wrong_codes_even_the_right_one_is_refused_until_it_runs_out(
        self, auth: AuthService, carol: StaffUser, clock: ManualClock, uow: FakeUnitOfWork
    ) -> None:
        secret, _codes = await enroll(auth, carol, clock)
        for _ in range(auth.policy.totp_lockout_after):
            await login_error(auth, "carol", PASSWORD, totp="000000")
            clock.advance(auth.policy.login_delay_max)
        clock.advance(timedelta(seconds=30))
        await login_error(auth, "carol", PASSWORD, totp=pyotp.TOTP(secret).at(clock()))
        assert [row.action for row in uow.tables.audit].count("staff.totp_locked") == 1
        clock.advance(auth.policy.totp_lockout_for)
        await auth.login("carol", PASSWORD, totp=pyotp.TOTP(secret).at(clock()))

    async def test_an_admin_resets_someone_else_which_ends_their_sessions(
        self,
        accounts: AccountService,
        auth: AuthService,
        carol: StaffUser,
        clock: ManualClock,
        uow: FakeUnitOfWork,
        events: RecordingBus,
    ) -> None:
        admin = await uow.seed_staff("root", Role.ADMIN)
        secret, _codes = await enroll(auth, carol, clock)
        clock.advance(timedelta(seconds=30))
        _user, token = await auth.login("carol", PASSWORD, totp=pyotp.TOTP(secret).at(clock()))
        await accounts.reset_totp(admin, "carol")
        assert not (await auth.totp_status(carol)).enabled
        with pytest.raises(NotAuthenticated):
            await auth.session(token)
        assert events.of(StaffSessionsEnded) == [StaffSessionsEnded(carol.id)]
        assert (uow.tables.audit[-1].actor_id, uow.tables.audit[-1].action) == (admin.id, "staff.totp_reset")
        await auth.login("carol", PASSWORD)

    async def test_a_counsellor_may_not_reset_and_an_unknown_user_is_not_found(
        self, accounts: AccountService, auth: AuthService, carol: StaffUser, uow: FakeUnitOfWork
    ) -> None:
        with pytest.raises(Forbidden):
            await accounts.reset_totp(await uow.seed_staff("dave"), "carol")
        with raises_code(NotFound, "not_found"):
            await accounts.reset_totp(None, "nobody")
