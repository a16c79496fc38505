"""Two-factor sign-in on a real SQLite file: enrolling, signing in with a code or a recovery code,
replay, what is stored, the admin's and the operator's reset, and auth.require_totp."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

import pyotp
import pytest

from server.adapters.crypto import FieldCipher
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound, RateLimited
from server.domain.staff import Role, StaffUser
from server.services.accounts import AccountService
from server.services.auth import GENERIC_LOGIN_ERROR, AuthService, SessionPolicy
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

STEP = timedelta(seconds=30)


@pytest.fixture
async def alice(auth: AuthService) -> StaffUser:
    return await add_staff(auth, "alice")


async def enroll(auth: AuthService, user: StaffUser, clock: ManualClock) -> tuple[str, list[str]]:
    """Enrolls ``user`` at the clock's time; returns the secret and the recovery codes."""
    enrollment = await auth.start_totp_enrollment(user)
    codes = await auth.confirm_totp_enrollment(user, pyotp.TOTP(enrollment.secret).at(clock()))
    return enrollment.secret, codes


async def refused(auth: AuthService, **second_factor: str) -> NotAuthenticated:
    with pytest.raises(NotAuthenticated) as caught:
        await auth.login("alice", PASSWORD, **second_factor)
    return caught.value


class TestEnrolling:
    async def test_a_started_enrollment_is_not_in_force_until_a_code_confirms_it(
        self, auth: AuthService, alice: StaffUser
    ) -> None:
        await auth.start_totp_enrollment(alice)
        assert not (await auth.totp_status(alice)).enabled
        user, _token = await auth.login("alice", PASSWORD)
        assert user.id == alice.id

    async def test_a_wrong_code_does_not_turn_it_on(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        enrollment = await auth.start_totp_enrollment(alice)
        stale = pyotp.TOTP(enrollment.secret).at(clock() - 3 * STEP)
        with raises_code(InvalidInput, "totp_invalid_code"):
            await auth.confirm_totp_enrollment(alice, stale)
        assert not (await auth.totp_status(alice)).enabled

    async def test_confirming_turns_it_on_gives_ten_codes_and_leaves_an_audit_row(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock, raw: sqlite3.Connection
    ) -> None:
        _secret, codes = await enroll(auth, alice, clock)
        status = await auth.totp_status(alice)
        assert (status.enabled, status.required, status.recovery_codes_left) == (True, False, 10)
        assert len(set(codes)) == 10
        assert raw.execute(
            "SELECT actor_id, object_type, object_id FROM audit_log WHERE action = 'staff.totp_enable'"
        ).fetchall() == [(alice.id, "staff_user", str(alice.id))]

    async def test_confirming_without_starting_is_a_conflict(
        self, auth: AuthService, alice: StaffUser
    ) -> None:
        with raises_code(Conflict, "totp_not_started"):
            await auth.confirm_totp_enrollment(alice, "123456")

    async def test_once_on_it_cannot_be_replaced_by_enrolling_again(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        await enroll(auth, alice, clock)
        with raises_code(Conflict, "totp_already_enabled"):
            await auth.start_totp_enrollment(alice)

    async def test_the_secret_is_stored_encrypted_and_recovery_codes_only_as_hashes(
        self,
        auth: AuthService,
        alice: StaffUser,
        clock: ManualClock,
        raw: sqlite3.Connection,
        data_key: bytes,
    ) -> None:
        secret, codes = await enroll(auth, alice, clock)
        dump = "\n".join(raw.iterdump())
        for plain in (secret, secret.lower(), *codes, *(c.replace("-", "") for c in codes)):
            assert plain not in dump
        (stored,) = raw.execute("SELECT totp_secret FROM staff_users WHERE id = ?", (alice.id,)).fetchone()
        assert secret.encode() not in stored
        assert FieldCipher(data_key).decrypt(stored) == secret


class TestSigningIn:
    async def test_without_totp_the_password_alone_signs_in(
        self, auth: AuthService, alice: StaffUser
    ) -> None:
        user, _token = await auth.login("alice", PASSWORD)
        assert user.id == alice.id

    async def test_with_totp_a_missing_or_wrong_code_fails_like_a_wrong_password(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        secret, _codes = await enroll(auth, alice, clock)
        clock.advance(STEP)
        wrong_password = await refused_with_password(
            auth, "not-the-right-password", pyotp.TOTP(secret).at(clock())
        )
        attempts: list[Callable[[], dict[str, str]]] = [
            lambda: {},
            lambda: {"totp": ""},
            lambda: {"totp": not_a_current_code(secret, clock)},
            lambda: {"totp": pyotp.TOTP(secret).at(clock() + 2 * STEP)},
            lambda: {"recovery_code": "AAAA-AAAA-AAAA-AAAA"},
        ]
        failures = []
        for attempt in attempts:
            clock.advance(auth.policy.login_delay_max)  # past the slowdown of the failure before
            failures.append(await refused(auth, **attempt()))
        for failure in failures:
            assert (failure.code, failure.message) == (wrong_password.code, wrong_password.message)
            assert failure.message == GENERIC_LOGIN_ERROR

    async def test_the_current_code_signs_in_once_and_never_again(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        secret, _codes = await enroll(auth, alice, clock)
        clock.advance(STEP)
        current = pyotp.TOTP(secret).at(clock())
        user, token = await auth.login("alice", PASSWORD, totp=current)
        assert (await auth.session(token)).user.id == user.id == alice.id
        await refused(auth, totp=current)
        clock.advance(STEP / 2)
        await refused(auth, totp=current)

    async def test_the_code_used_to_confirm_enrollment_does_not_sign_in(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        enrollment = await auth.start_totp_enrollment(alice)
        confirming = pyotp.TOTP(enrollment.secret).at(clock())
        await auth.confirm_totp_enrollment(alice, confirming)
        await refused(auth, totp=confirming)

    async def test_a_phone_one_step_behind_or_ahead_still_signs_in(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        secret, _codes = await enroll(auth, alice, clock)
        clock.advance(10 * STEP)
        await auth.login("alice", PASSWORD, totp=pyotp.TOTP(secret).at(clock() - STEP))
        clock.advance(10 * STEP)
        await auth.login("alice", PASSWORD, totp=pyotp.TOTP(secret).at(clock() + STEP))
        # That used the step ahead; the code of the step now is older and no longer counts.
        await refused(auth, totp=pyotp.TOTP(secret).at(clock()))

    async def test_each_recovery_code_signs_in_once(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock, raw: sqlite3.Connection
    ) -> None:
        _secret, codes = await enroll(auth, alice, clock)
        first, second, *_rest = codes
        await auth.login("alice", PASSWORD, recovery_code=first)
        await refused(auth, recovery_code=first)
        await auth.login("alice", PASSWORD, recovery_code=second.lower().replace("-", ""))
        assert (await auth.totp_status(alice)).recovery_codes_left == 8
        assert raw.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'staff.recovery_code_used' AND actor_id = ?",
            (alice.id,),
        ).fetchone() == (2,)

    async def test_a_recovery_code_of_another_account_does_not_sign_in(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        await enroll(auth, alice, clock)
        bob = await add_staff(auth, "bob")
        _secret, bobs_codes = await enroll(auth, bob, clock)
        await refused(auth, recovery_code=bobs_codes[0])

    async def test_a_right_password_with_a_wrong_code_counts_as_a_failure(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock
    ) -> None:
        secret, _codes = await enroll(auth, alice, clock)
        for _ in range(FAILURES_BEFORE_DELAY):
            await refused(auth, totp="abcdef")
        with raises_code(RateLimited, "rate_limited"):
            await auth.login("alice", PASSWORD, totp=pyotp.TOTP(secret).at(clock() + STEP))


async def guess_after_the_slowdown(
    auth: AuthService, clock: ManualClock, **second_factor: str
) -> NotAuthenticated:
    clock.advance(auth.policy.login_delay_max)
    return await refused(auth, **second_factor)


class TestLockout:
    async def test_after_the_set_number_of_wrong_codes_even_the_right_one_is_refused_until_it_runs_out(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock, raw: sqlite3.Connection
    ) -> None:
        secret, codes = await enroll(auth, alice, clock)
        lockout_after = auth.policy.totp_lockout_after
        for _ in range(lockout_after):
            await guess_after_the_slowdown(auth, clock, totp=not_a_current_code(secret, clock))
        assert raw.execute(
            "SELECT actor_id, object_type, object_id FROM audit_log WHERE action = 'staff.totp_locked'"
        ).fetchall() == [(None, "staff_user", str(alice.id))]
        right = await guess_after_the_slowdown(auth, clock, totp=pyotp.TOTP(secret).at(clock()))
        assert (right.code, right.message) == ("invalid_credentials", GENERIC_LOGIN_ERROR)
        await guess_after_the_slowdown(auth, clock, recovery_code=codes[0])
        assert raw.execute("SELECT totp_failures FROM staff_users WHERE id = ?", (alice.id,)).fetchone() == (
            lockout_after,
        )

        clock.advance(auth.policy.totp_lockout_for)
        user, _token = await auth.login("alice", PASSWORD, totp=pyotp.TOTP(secret).at(clock()))
        assert user.id == alice.id
        assert raw.execute(
            "SELECT totp_failures, totp_locked_until FROM staff_users WHERE id = ?", (alice.id,)
        ).fetchone() == (0, None)
        assert raw.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'staff.totp_locked'"
        ).fetchone() == (1,)

    async def test_a_right_code_resets_the_count(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock, raw: sqlite3.Connection
    ) -> None:
        secret, _codes = await enroll(auth, alice, clock)
        for _ in range(auth.policy.totp_lockout_after - 1):
            await guess_after_the_slowdown(auth, clock, totp=not_a_current_code(secret, clock))
        clock.advance(auth.policy.login_delay_max)
        await auth.login("alice", PASSWORD, totp=pyotp.TOTP(secret).at(clock()))
        await guess_after_the_slowdown(auth, clock, totp=not_a_current_code(secret, clock))
        assert raw.execute("SELECT totp_failures FROM staff_users WHERE id = ?", (alice.id,)).fetchone() == (
            1,
        )

    async def test_a_missing_code_is_not_a_guess(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock, raw: sqlite3.Connection
    ) -> None:
        await enroll(auth, alice, clock)
        for _ in range(auth.policy.totp_lockout_after + 1):
            await guess_after_the_slowdown(auth, clock)
        assert raw.execute(
            "SELECT totp_failures, totp_locked_until FROM staff_users WHERE id = ?", (alice.id,)
        ).fetchone() == (0, None)

    async def test_the_operator_unlocks_with_an_audit_row(
        self, auth: AuthService, alice: StaffUser, clock: ManualClock, raw: sqlite3.Connection
    ) -> None:
        secret, _codes = await enroll(auth, alice, clock)
        for _ in range(auth.policy.totp_lockout_after):
            await guess_after_the_slowdown(auth, clock, totp=not_a_current_code(secret, clock))
        assert await auth.unlock_second_factor("alice") == clock() + auth.policy.totp_lockout_for
        assert await auth.unlock_second_factor("alice") is None
        clock.advance(auth.policy.login_delay_max)
        user, _token = await auth.login("alice", PASSWORD, totp=pyotp.TOTP(secret).at(clock()))
        assert user.id == alice.id
        assert (
            raw.execute(
                "SELECT actor_id, object_id FROM audit_log WHERE action = 'staff.totp_unlock'"
            ).fetchall()
            == [(None, str(alice.id))] * 2
        )
        with raises_code(NotFound, "not_found"):
            await auth.unlock_second_factor("nobody")


def not_a_current_code(secret: str, clock: ManualClock) -> str:
    window = {pyotp.TOTP(secret).at(clock() + k * STEP) for k in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in window)


async def refused_with_password(auth: AuthService, password: str, totp: str) -> NotAuthenticated:
    with pytest.raises(NotAuthenticated) as caught:
        await auth.login("alice", password, totp=totp)
    return caught.value


class TestReset:
    async def test_an_admin_resets_someone_else_and_it_is_audited(
        self,
        accounts: AccountService,
        auth: AuthService,
        alice: StaffUser,
        clock: ManualClock,
        raw: sqlite3.Connection,
    ) -> None:
        await enroll(auth, alice, clock)
        admin = await add_staff(auth, "root", Role.ADMIN)
        await accounts.reset_totp(admin, "alice")
        assert (await auth.totp_status(alice)).enabled is False
        assert raw.execute("SELECT count(*) FROM staff_recovery_codes").fetchone() == (0,)
        assert raw.execute(
            "SELECT totp_secret, totp_enabled_at, totp_last_step FROM staff_users WHERE id = ?", (alice.id,)
        ).fetchone() == (None, None, None)
        assert raw.execute(
            "SELECT actor_id, object_type, object_id FROM audit_log WHERE action = 'staff.totp_reset'"
        ).fetchall() == [(admin.id, "staff_user", str(alice.id))]
        user, _token = await auth.login("alice", PASSWORD)
        assert user.id == alice.id

    @pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.SUPERVISOR, Role.SOCIAL_SERVICES])
    async def test_other_roles_may_not_reset(
        self, accounts: AccountService, auth: AuthService, alice: StaffUser, clock: ManualClock, role: Role
    ) -> None:
        await enroll(auth, alice, clock)
        actor = await add_staff(auth, "someone", role)
        with raises_code(Forbidden, "forbidden"):
            await accounts.reset_totp(actor, "alice")
        with raises_code(Forbidden, "forbidden"):
            await accounts.reset_totp(actor, "nobody-by-that-name")
        assert (await auth.totp_status(alice)).enabled

    async def test_an_admin_does_not_remove_their_own_second_factor(
        self, accounts: AccountService, auth: AuthService, clock: ManualClock
    ) -> None:
        admin = await add_staff(auth, "root", Role.ADMIN)
        await enroll(auth, admin, clock)
        with raises_code(Forbidden, "forbidden"):
            await accounts.reset_totp(admin, "root")
        assert (await auth.totp_status(admin)).enabled

    async def test_the_operator_resets_without_an_actor_and_it_is_audited(
        self,
        accounts: AccountService,
        auth: AuthService,
        alice: StaffUser,
        clock: ManualClock,
        raw: sqlite3.Connection,
    ) -> None:
        await enroll(auth, alice, clock)
        await accounts.reset_totp(None, "alice")
        assert not (await auth.totp_status(alice)).enabled
        assert raw.execute(
            "SELECT actor_id, object_id FROM audit_log WHERE action = 'staff.totp_reset'"
        ).fetchall() == [(None, str(alice.id))]

    async def test_an_unknown_user_is_not_found(self, accounts: AccountService, auth: AuthService) -> None:
        with raises_code(NotFound, "not_found"):
            await accounts.reset_totp(None, "nobody")


class TestRequired:
    @pytest.fixture
    def strict(
        self, uow: SqlUnitOfWork, events: RecordingBus, clock: ManualClock, data_key: bytes
    ) -> AuthService:
        policy = SessionPolicy(IDLE_TIMEOUT, ABSOLUTE_TIMEOUT, FAILURES_BEFORE_DELAY, require_totp=True)
        return AuthService(uow, events, clock, policy, uow.ciphers.totp)

    async def test_without_totp_the_session_is_limited_to_enrolling_until_enrolled(
        self, strict: AuthService, clock: ManualClock
    ) -> None:
        alice = await add_staff(strict, "alice")
        _user, before = await strict.login("alice", PASSWORD)
        assert (await strict.session(before)).enrollment_required
        assert (await strict.totp_status(alice)).required
        await enroll(strict, alice, clock)
        assert not (await strict.session(before)).enrollment_required

    async def test_a_reset_ends_the_sessions_and_the_next_one_may_only_enroll(
        self, strict: AuthService, accounts: AccountService, clock: ManualClock
    ) -> None:
        alice = await add_staff(strict, "alice")
        secret, _codes = await enroll(strict, alice, clock)
        clock.advance(STEP)
        _user, token = await strict.login("alice", PASSWORD, totp=pyotp.TOTP(secret).at(clock()))
        assert not (await strict.session(token)).enrollment_required
        await accounts.reset_totp(None, "alice")
        with pytest.raises(NotAuthenticated):
            await strict.session(token)
        _user, token = await strict.login("alice", PASSWORD)
        assert (await strict.session(token)).enrollment_required
