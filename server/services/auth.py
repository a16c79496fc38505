"""Staff sign-in: argon2id passwords, server-side sessions with idle and absolute timeouts,
and a slowdown that grows with repeated failures for the same username."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.domain.errors import InvalidInput, NotAuthenticated
from server.domain.staff import Role, StaffUser, check_password_strength, check_username
from server.domain.tokens import EphemeralKeyedHash, new_token, secret_hash
from server.services.events import EventBus, SessionEnded, StaffDisabled
from server.services.ports import Clock, UnitOfWork

GENERIC_LOGIN_ERROR = "wrong username or password"
SESSION_TOUCH_INTERVAL = timedelta(seconds=30)
MAX_LOGIN_DELAY_SECONDS = 8.0


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout: timedelta
    absolute_timeout: timedelta
    failures_before_delay: int


@dataclass(frozen=True)
class StaffSession:
    user: StaffUser
    session_hash: str


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
    def __init__(self, uow: UnitOfWork, events: EventBus, clock: Clock, policy: SessionPolicy) -> None:
        self.uow = uow
        self.events = events
        self.clock = clock
        self.policy = policy
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

    async def login(self, username: str, password: str) -> tuple[StaffUser, str]:
        """Returns the user and a new session token. Every failure looks the same."""
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
        self.throttle.succeeded(username)
        token = new_token()
        async with self.uow.write() as repos:
            await repos.staff.create_session(secret_hash(token), user.id, self.clock())
            if self.hasher.check_needs_rehash(stored_hash):
                await repos.staff.set_password_hash(user.id, self.hasher.hash(password))
        return user, token

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
        user, created_at, last_seen_at = found
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
        return StaffSession(user, session_hash)

    async def logout(self, token: str) -> None:
        session_hash = secret_hash(token)
        async with self.uow.write() as repos:
            await repos.staff.delete_session(session_hash)
        await self.events.publish(SessionEnded(session_hash))
