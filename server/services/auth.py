"""Staff sign-in: argon2id passwords, a TOTP second factor with one-time recovery codes,
server-side sessions with idle and absolute timeouts, a slowdown that grows with repeated
failures for the same username (server/domain/login_throttle.py), and a lockout of the second
factor after too many wrong codes, kept in the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.domain.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from server.domain.login_throttle import LoginThrottle
from server.domain.staff import Role, StaffUser, check_password_strength
from server.domain.tokens import new_token, secret_hash
from server.domain.totp import (
    Enrollment,
    accepted_step,
    new_enrollment,
    new_recovery_codes,
    recovery_code_hash,
)
from server.services.accounts import STAFF_OBJECT, insert_account
from server.services.events import EventBus, SessionEnded, StaffOtherSessionsEnded
from server.services.login_attempts import LocalLoginAttempts
from server.services.ports.clock import Clock
from server.services.ports.counters import LoginAttempts
from server.services.ports.staff import SecretBox
from server.services.ports.unit_of_work import Repositories, UnitOfWork

GENERIC_LOGIN_ERROR = "wrong username or password"
ENROLLMENT_REQUIRED = "totp_enrollment_required"
ENROLLMENT_REQUIRED_MESSAGE = "set up two-factor sign-in first"
SESSION_TOUCH_INTERVAL = timedelta(seconds=30)


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout: timedelta
    absolute_timeout: timedelta
    failures_before_delay: int
    require_totp: bool = False
    totp_issuer: str = "Kinline"
    login_delay_base: timedelta = timedelta(seconds=1)
    login_delay_max: timedelta = timedelta(seconds=8)
    totp_lockout_after: int = 10
    totp_lockout_for: timedelta = timedelta(hours=1)


def login_throttle(policy: SessionPolicy, keyed: Callable[[str], str] | None = None) -> LoginThrottle:
    """The sign-in slowdown rules of ``policy``; ``keyed`` hashes usernames (default: a key that
    lives in this process's memory)."""
    return LoginThrottle(policy.failures_before_delay, policy.login_delay_base, policy.login_delay_max, keyed)


@dataclass(frozen=True)
class StaffSession:
    """``enrollment_required``: TOTP is required and this user has none yet, so the session may
    only be used to enroll."""

    user: StaffUser
    session_hash: str
    enrollment_required: bool = False


@dataclass(frozen=True)
class TotpStatus:
    enabled: bool
    required: bool
    recovery_codes_left: int


class AuthService:
    def __init__(
        self,
        uow: UnitOfWork,
        events: EventBus,
        clock: Clock,
        policy: SessionPolicy,
        secrets: SecretBox,
        hasher: PasswordHasher | None = None,
        attempts: LoginAttempts | None = None,
    ) -> None:
        """``hasher``: argon2id with the library's defaults unless given (tests pass a cheap one).
        ``attempts``: the sign-in slowdown, shared by the processes when given (Redis); by default
        kept in this process's memory."""
        self.uow = uow
        self.events = events
        self.clock = clock
        self.policy = policy
        self.secrets = secrets
        self.hasher = hasher or PasswordHasher()
        self.attempts = attempts or LocalLoginAttempts(login_throttle(policy))
        self._dummy_hash = self.hasher.hash("kinline-timing-equaliser")

    async def add_user(
        self,
        username: str,
        password: str,
        role: Role,
        display_name: str | None = None,
        route: str | None = None,
    ) -> int:
        """An account with a password, for the operator at the command line (the first admin);
        admins add accounts in the console with a setup link instead (services/accounts.py)."""
        try:
            check_password_strength(password)
        except ValueError as error:
            raise InvalidInput(str(error), code="weak_password") from None
        password_hash = await asyncio.to_thread(self.hasher.hash, password)
        async with self.uow.write() as repos:
            return await insert_account(
                repos, username, display_name, password_hash, role, route, self.clock()
            )

    async def login(
        self, username: str, password: str, totp: str | None = None, recovery_code: str | None = None
    ) -> tuple[StaffUser, str]:
        """Returns the user and a new session token. An account with TOTP also needs a current
        code or an unused recovery code. Every failure looks the same, whichever factor failed,
        and a locked second factor fails the same way. RateLimited (before anything is checked)
        while the username is slowed down or has another attempt in flight."""
        key = await self.attempts.begin(username, self.clock())
        succeeded = False
        try:
            user, token = await self._login(username, password, totp, recovery_code)
            succeeded = True
        finally:
            await self.attempts.finish(key, succeeded)
        return user, token

    async def _login(
        self, username: str, password: str, totp: str | None, recovery_code: str | None
    ) -> tuple[StaffUser, str]:
        async with self.uow.read() as repos:
            found = await repos.staff.credentials(username)
        stored_hash = found[1] if found else self._dummy_hash
        if not await asyncio.to_thread(self._verify, stored_hash, password) or found is None:
            raise NotAuthenticated(GENERIC_LOGIN_ERROR, code="invalid_credentials")
        user = found[0]
        if not user.active:
            raise NotAuthenticated(GENERIC_LOGIN_ERROR, code="invalid_credentials")
        now = self.clock()
        if totp or recovery_code:
            async with self.uow.write() as repos:
                may_check = await repos.staff.begin_totp_attempt(user.id, now, self.policy.totp_lockout_after)
            if not may_check:
                raise NotAuthenticated(GENERIC_LOGIN_ERROR, code="invalid_credentials")
        token = new_token()
        async with self.uow.write() as repos:
            passed = await self._second_factor_passes(repos, user.id, totp, recovery_code, now)
            if passed:
                if totp or recovery_code:
                    await repos.staff.unlock_totp(user.id)
                await repos.staff.create_session(secret_hash(token), user.id, now)
                await repos.staff.record_login(user.id, now)
                if self.hasher.check_needs_rehash(stored_hash):
                    await repos.staff.set_password_hash(user.id, self.hasher.hash(password))
        if not passed:
            if totp or recovery_code:
                await self._second_factor_failed(user.id, now)
            raise NotAuthenticated(GENERIC_LOGIN_ERROR, code="invalid_credentials")
        return user, token

    async def _second_factor_failed(self, user_id: int, now: datetime) -> None:
        """Locks the second factor once its guesses are used up, with an audit row."""
        until = now + self.policy.totp_lockout_for
        async with self.uow.write() as repos:
            if await repos.staff.lock_totp_if_spent(user_id, self.policy.totp_lockout_after, until):
                await repos.staff.audit(None, "staff.totp_locked", STAFF_OBJECT, str(user_id), now)

    async def unlock_second_factor(self, username: str) -> datetime | None:
        """Ends a second-factor lockout and forgets the failed guesses, for the operator at the
        command line; audited. Returns when the lockout would have ended (None: it was not
        locked)."""
        now = self.clock()
        async with self.uow.write() as repos:
            found = await repos.staff.credentials(username)
            if found is None:
                raise NotFound(f"no user {username}")
            target = found[0]
            locked_until = await repos.staff.totp_locked_until(target.id)
            await repos.staff.unlock_totp(target.id)
            await repos.staff.audit(None, "staff.totp_unlock", STAFF_OBJECT, str(target.id), now)
        return locked_until if locked_until is not None and locked_until > now else None

    async def _second_factor_passes(
        self, repos: Repositories, user_id: int, totp: str | None, recovery_code: str | None, now: datetime
    ) -> bool:
        """True without TOTP enrolled. A code is spent here: its time step, or the recovery code."""
        stored = await repos.staff.totp(user_id)
        if not stored.enabled or stored.encrypted_secret is None:
            return True
        if totp:
            secret = self.secrets.decrypt(stored.encrypted_secret)
            step = accepted_step(secret, totp, now, stored.last_step)
            return step is not None and await repos.staff.advance_totp_step(user_id, step)
        if recovery_code:
            used = await repos.staff.use_recovery_code(user_id, recovery_code_hash(recovery_code), now)
            if used:
                await repos.staff.audit(user_id, "staff.recovery_code_used", STAFF_OBJECT, str(user_id), now)
            return used
        return False

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def session(self, token: str) -> StaffSession:
        """The live session for a cookie value, or NotAuthenticated. Expired sessions are deleted."""
        return await self.session_by_hash(secret_hash(token))

    async def session_by_hash(self, session_hash: str) -> StaffSession:
        now = self.clock()
        async with self.uow.read() as repos:
            found = await repos.staff.session(session_hash)
        if found is None:
            raise NotAuthenticated()
        user, created_at, last_seen_at, totp_enabled = found
        if self._expired(user, created_at, last_seen_at, now):
            async with self.uow.write() as repos:
                await repos.staff.delete_session(session_hash)
            raise NotAuthenticated("the session has expired", code="session_expired")
        if now - last_seen_at > self.touch_interval:
            async with self.uow.write() as repos:
                await repos.staff.touch_session(session_hash, now)
        return StaffSession(user, session_hash, self.policy.require_totp and not totp_enabled)

    def _expired(self, user: StaffUser, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        return (
            now - last_seen_at > self.policy.idle_timeout
            or now - created_at > self.policy.absolute_timeout
            or not user.active
        )

    @property
    def touch_interval(self) -> timedelta:
        """How often a session's last use is written at most; shorter than a (test's) short idle
        timeout, so use still keeps such a session alive."""
        return min(SESSION_TOUCH_INTERVAL, self.policy.idle_timeout / 4)

    async def live_sessions(
        self, session_hashes: Collection[str], used: Collection[str] = ()
    ) -> dict[str, StaffUser]:
        """The user of each of these sessions that is still live, read in one query, for the
        session watch of the sockets. Sessions in ``used`` were used since the last call (socket
        events, which count as activity like HTTP requests) and have their last use moved on, at
        most every ``touch_interval``. Expired ones are deleted, as ``session_by_hash`` does."""
        now = self.clock()
        async with self.uow.read() as repos:
            found = await repos.staff.sessions(session_hashes)
        live: dict[str, StaffUser] = {}
        expired: list[str] = []
        touched: list[str] = []
        for session_hash, (user, created_at, last_seen_at) in found.items():
            if self._expired(user, created_at, last_seen_at, now):
                expired.append(session_hash)
                continue
            live[session_hash] = user
            if session_hash in used and now - last_seen_at > self.touch_interval:
                touched.append(session_hash)
        if expired or touched:
            async with self.uow.write() as repos:
                if expired:
                    await repos.staff.delete_sessions(expired)
                if touched:
                    await repos.staff.touch_sessions(touched, now)
        return live

    async def logout(self, token: str) -> None:
        session_hash = secret_hash(token)
        async with self.uow.write() as repos:
            await repos.staff.delete_session(session_hash)
        await self.events.publish(SessionEnded(session_hash))

    async def totp_status(self, user: StaffUser) -> TotpStatus:
        async with self.uow.read() as repos:
            stored = await repos.staff.totp(user.id)
            left = await repos.staff.recovery_codes_left(user.id) if stored.enabled else 0
        return TotpStatus(stored.enabled, self.policy.require_totp, left)

    async def start_totp_enrollment(self, user: StaffUser) -> Enrollment:
        """A new secret for the authenticator app; not in force until confirmed with a code.
        Starting again replaces a secret that was never confirmed."""
        enrollment = new_enrollment(user.username, self.policy.totp_issuer)
        async with self.uow.write() as repos:
            if (await repos.staff.totp(user.id)).enabled:
                raise Conflict(
                    "two-factor sign-in is already on; an admin can reset it", code="totp_already_enabled"
                )
            await repos.staff.start_totp(user.id, self.secrets.encrypt(enrollment.secret))
        return enrollment

    async def confirm_totp_enrollment(self, user: StaffUser, code: str) -> list[str]:
        """Turns TOTP on when ``code`` is current for the new secret. Returns the recovery codes,
        which are shown this once and kept only as hashes."""
        now = self.clock()
        recovery_codes = new_recovery_codes()
        async with self.uow.write() as repos:
            stored = await repos.staff.totp(user.id)
            if stored.enabled:
                raise Conflict("two-factor sign-in is already on", code="totp_already_enabled")
            if stored.encrypted_secret is None:
                raise Conflict("start the enrollment first", code="totp_not_started")
            step = accepted_step(self.secrets.decrypt(stored.encrypted_secret), code, now, None)
            if step is None:
                raise InvalidInput(
                    "that code does not match; check the phone's clock and enter the current code",
                    code="totp_invalid_code",
                )
            hashes = [recovery_code_hash(recovery_code) for recovery_code in recovery_codes]
            await repos.staff.enable_totp(user.id, step, now, hashes)
            await repos.staff.audit(user.id, "staff.totp_enable", STAFF_OBJECT, str(user.id), now)
        return recovery_codes

    async def change_password(self, session: StaffSession, current: str, new: str) -> None:
        """A member of staff sets a new password, giving their current one; their other sessions
        end (this one goes on). Wrong current passwords count toward the sign-in slowdown of the
        username, as failed sign-ins do."""
        try:
            check_password_strength(new)
        except ValueError as error:
            raise InvalidInput(str(error), code="weak_password") from None
        user = session.user
        key = await self.attempts.begin(user.username, self.clock())
        succeeded = False
        try:
            async with self.uow.read() as repos:
                found = await repos.staff.credentials(user.username)
            if found is None or not await asyncio.to_thread(self._verify, found[1], current):
                raise InvalidInput("the current password is not right", code="wrong_password")
            succeeded = True
        finally:
            await self.attempts.finish(key, succeeded)
        password_hash = await asyncio.to_thread(self.hasher.hash, new)
        async with self.uow.write() as repos:
            await repos.staff.set_password_hash(user.id, password_hash)
            await repos.staff.delete_other_sessions(user.id, session.session_hash)
            await repos.staff.audit(
                user.id, "staff.password_change", STAFF_OBJECT, str(user.id), self.clock()
            )
        await self.events.publish(StaffOtherSessionsEnded(user.id, session.session_hash))

    async def new_recovery_codes(self, user: StaffUser, code: str) -> list[str]:
        """Replaces a member's recovery codes with new ones, given a current authenticator code
        (which is spent, and counts toward the second factor's lockout like a sign-in's). The
        codes are shown this once and kept only as hashes."""
        now = self.clock()
        async with self.uow.write() as repos:
            stored = await repos.staff.totp(user.id)
            if not stored.enabled or stored.encrypted_secret is None:
                raise Conflict("two-factor sign-in is not on", code="totp_not_enabled")
            may_check = await repos.staff.begin_totp_attempt(user.id, now, self.policy.totp_lockout_after)
        invalid = InvalidInput("that code does not match; enter the current code", code="totp_invalid_code")
        if not may_check:
            raise invalid
        recovery_codes = new_recovery_codes()
        async with self.uow.write() as repos:
            step = accepted_step(self.secrets.decrypt(stored.encrypted_secret), code, now, stored.last_step)
            passed = step is not None and await repos.staff.advance_totp_step(user.id, step)
            if passed:
                await repos.staff.unlock_totp(user.id)
                hashes = [recovery_code_hash(recovery_code) for recovery_code in recovery_codes]
                await repos.staff.replace_recovery_codes(user.id, hashes)
                await repos.staff.audit(user.id, "staff.recovery_codes_new", STAFF_OBJECT, str(user.id), now)
        if not passed:
            await self._second_factor_failed(user.id, now)
            raise invalid
        return recovery_codes
