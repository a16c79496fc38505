"""Staff sign-in: argon2id passwords, a TOTP second factor with one-time recovery codes,
server-side sessions with idle and absolute timeouts, and a slowdown that grows with repeated
failures for the same username."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.domain.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from server.domain.permissions import Action, Ownership, require, roles_allowed
from server.domain.staff import Role, StaffUser, check_password_strength, check_username
from server.domain.tokens import EphemeralKeyedHash, new_token, secret_hash
from server.domain.totp import (
    Enrollment,
    accepted_step,
    new_enrollment,
    new_recovery_codes,
    recovery_code_hash,
)
from server.services.events import EventBus, SessionEnded, StaffDisabled
from server.services.ports import Clock, Repositories, UnitOfWork

GENERIC_LOGIN_ERROR = "wrong username or password"
ENROLLMENT_REQUIRED = "totp_enrollment_required"
ENROLLMENT_REQUIRED_MESSAGE = "set up two-factor sign-in first"
SESSION_TOUCH_INTERVAL = timedelta(seconds=30)
MAX_LOGIN_DELAY_SECONDS = 8.0


class SecretBox(Protocol):
    """Encryption at rest for the TOTP secret (the FieldCipher of the other sensitive fields)."""

    def encrypt(self, plaintext: str) -> bytes: ...

    def decrypt(self, stored: bytes) -> str: ...


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout: timedelta
    absolute_timeout: timedelta
    failures_before_delay: int
    require_totp: bool = False
    totp_issuer: str = "Kinline"


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


class LoginThrottle:
    """Failure counts per keyed hash of the username, in memory only."""

    def __init__(self, failures_before_delay: int) -> None:
        self._failures: dict[str, int] = {}
        self._keyed = EphemeralKeyedHash()
        self._free = failures_before_delay

    def delay_for(self, username: str) -> float:
        over = self._failures.get(self._keyed(username), 0) - self._free
        return 0.0 if over < 0 else min(0.25 * 2**over, MAX_LOGIN_DELAY_SECONDS)

    def failed(self, username: str) -> None:
        key = self._keyed(username)
        self._failures[key] = self._failures.get(key, 0) + 1

    def succeeded(self, username: str) -> None:
        self._failures.pop(self._keyed(username), None)


class AuthService:
    def __init__(
        self, uow: UnitOfWork, events: EventBus, clock: Clock, policy: SessionPolicy, secrets: SecretBox
    ) -> None:
        self.uow = uow
        self.events = events
        self.clock = clock
        self.policy = policy
        self.secrets = secrets
        self.hasher = PasswordHasher()
        self.throttle = LoginThrottle(policy.failures_before_delay)
        self._dummy_hash = self.hasher.hash("kinline-timing-equaliser")

    async def add_user(
        self,
        username: str,
        password: str,
        role: Role,
        display_name: str | None = None,
        route: str | None = None,
    ) -> int:
        try:
            check_username(username)
            check_password_strength(password)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        password_hash = await asyncio.to_thread(self.hasher.hash, password)
        async with self.uow.write() as repos:
            if await repos.staff.credentials(username) is not None:
                raise InvalidInput(f"user {username} exists", code="user_exists")
            return await repos.staff.add_user(
                username, display_name or username, password_hash, role, self.clock(), route
            )

    async def set_active(self, username: str, active: bool) -> StaffUser:
        async with self.uow.write() as repos:
            user = await repos.staff.set_active(username, active)
            if user is None:
                raise InvalidInput(f"no user {username}", code="not_found")
            if not active:
                await repos.staff.delete_sessions_of(user.id)
        if not active:
            await self.events.publish(StaffDisabled(user.id))
        return user

    async def login(
        self, username: str, password: str, totp: str | None = None, recovery_code: str | None = None
    ) -> tuple[StaffUser, str]:
        """Returns the user and a new session token. An account with TOTP also needs a current
        code or an unused recovery code. Every failure looks the same, whichever factor failed."""
        delay = self.throttle.delay_for(username)
        if delay:
            await asyncio.sleep(delay)
        async with self.uow.read() as repos:
            found = await repos.staff.credentials(username)
        stored_hash = found[1] if found else self._dummy_hash
        if not await asyncio.to_thread(self._verify, stored_hash, password) or found is None:
            self.throttle.failed(username)
            raise NotAuthenticated(GENERIC_LOGIN_ERROR, code="invalid_credentials")
        user = found[0]
        if not user.active:
            self.throttle.failed(username)
            raise NotAuthenticated(GENERIC_LOGIN_ERROR, code="invalid_credentials")
        token = new_token()
        now = self.clock()
        async with self.uow.write() as repos:
            if not await self._second_factor_passes(repos, user.id, totp, recovery_code, now):
                self.throttle.failed(username)
                raise NotAuthenticated(GENERIC_LOGIN_ERROR, code="invalid_credentials")
            await repos.staff.create_session(secret_hash(token), user.id, now)
            if self.hasher.check_needs_rehash(stored_hash):
                await repos.staff.set_password_hash(user.id, self.hasher.hash(password))
        self.throttle.succeeded(username)
        return user, token

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
                await repos.staff.audit(user_id, "staff.recovery_code_used", "staff_user", str(user_id), now)
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
        expired = (
            now - last_seen_at > self.policy.idle_timeout
            or now - created_at > self.policy.absolute_timeout
            or not user.active
        )
        if expired:
            async with self.uow.write() as repos:
                await repos.staff.delete_session(session_hash)
            raise NotAuthenticated("the session has expired", code="session_expired")
        if now - last_seen_at > SESSION_TOUCH_INTERVAL:
            async with self.uow.write() as repos:
                await repos.staff.touch_session(session_hash, now)
        return StaffSession(user, session_hash, self.policy.require_totp and not totp_enabled)

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
            await repos.staff.audit(user.id, "staff.totp_enable", "staff_user", str(user.id), now)
        return recovery_codes

    async def reset_totp(self, actor: StaffUser | None, username: str) -> StaffUser:
        """Removes a staff member's TOTP and recovery codes, so they enroll again at next sign-in.
        ``actor`` None is the operator at the command line."""
        if actor is not None and actor.role not in roles_allowed(Action.STAFF_TOTP_RESET):
            raise Forbidden(f"{actor.role.value} may not reset two-factor sign-in")
        async with self.uow.write() as repos:
            found = await repos.staff.credentials(username)
            if found is None:
                raise NotFound("no such user")
            target = found[0]
            if actor is not None:
                ownership = Ownership.OWN if actor.id == target.id else Ownership.OTHER
                require(actor.role, Action.STAFF_TOTP_RESET, ownership)
            await repos.staff.clear_totp(target.id)
            await repos.staff.audit(
                actor.id if actor else None, "staff.totp_reset", "staff_user", str(target.id), self.clock()
            )
        return target
