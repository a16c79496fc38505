"""Staff accounts, their second factor and server-side sessions: the port auth and the consoles use."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from server.domain.staff import Role, StaffUser
from server.services.ports.audit import AuditRepository


@dataclass(frozen=True)
class StoredTotp:
    """A staff member's TOTP as stored: the secret still encrypted; ``enabled`` once confirmed."""

    encrypted_secret: bytes | None
    enabled: bool
    last_step: int | None


@dataclass(frozen=True)
class StaffAccount:
    """One account as the admins' list shows it: never a password hash or a secret."""

    user: StaffUser
    totp_enabled: bool
    last_login_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class SetupLink:
    """A stored one-time setup link (only its hash is kept): whose, until when, spent or not."""

    user_id: int
    expires_at: datetime
    used_at: datetime | None


class StaffRepository(AuditRepository, Protocol):
    async def add_user(
        self,
        username: str,
        display_name: str,
        password_hash: str,
        role: Role,
        now: datetime,
        route: str | None = None,
    ) -> int: ...

    async def credentials(self, username: str) -> tuple[StaffUser, str] | None: ...

    async def set_password_hash(self, user_id: int, password_hash: str) -> None: ...

    async def set_active(self, username: str, active: bool) -> StaffUser | None: ...

    async def get_user(self, user_id: int) -> StaffUser | None: ...

    async def list_users(self) -> list[StaffUser]: ...

    async def accounts(self) -> list[StaffAccount]:
        """Every account, by username."""
        ...

    async def set_role(self, user_id: int, role: Role, route: str | None) -> None: ...

    async def record_login(self, user_id: int, now: datetime) -> None: ...

    async def add_setup_link(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        """Stores a new link for the account and removes its earlier ones."""
        ...

    async def setup_link(self, token_hash: str) -> SetupLink | None: ...

    async def spend_setup_link(self, token_hash: str, now: datetime) -> bool:
        """Marks an unspent, unexpired link as spent; False when it was spent or has expired, so
        one link sets one password."""
        ...

    async def replace_recovery_codes(self, user_id: int, recovery_hashes: list[str]) -> None: ...

    async def delete_other_sessions(self, user_id: int, keep_hash: str) -> None:
        """Ends every session of the account but the one given."""
        ...

    async def create_session(self, id_hash: str, user_id: int, now: datetime) -> None: ...

    async def totp(self, user_id: int) -> StoredTotp: ...

    async def start_totp(self, user_id: int, encrypted_secret: bytes) -> None:
        """Keeps a new secret that is not in force until ``enable_totp``."""
        ...

    async def enable_totp(
        self, user_id: int, step: int, now: datetime, recovery_hashes: list[str]
    ) -> None: ...

    async def advance_totp_step(self, user_id: int, step: int) -> bool:
        """Records ``step`` as used if it is later than the last one; False when another sign-in
        got there first, so one code never opens two sessions."""
        ...

    async def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool: ...

    async def recovery_codes_left(self, user_id: int) -> int: ...

    async def clear_totp(self, user_id: int) -> None: ...

    async def begin_totp_attempt(self, user_id: int, now: datetime, lockout_after: int) -> bool:
        """Counts one second-factor guess before it is checked; False when the second factor is
        locked (or has used up its guesses), so the guess must not be checked. True without TOTP
        enrolled, uncounted. A lockout that has run out ends here."""
        ...

    async def lock_totp_if_spent(self, user_id: int, lockout_after: int, until: datetime) -> bool:
        """Locks the second factor until ``until`` once ``lockout_after`` guesses failed; True only
        for the call that locked it."""
        ...

    async def totp_locked_until(self, user_id: int) -> datetime | None: ...

    async def unlock_totp(self, user_id: int) -> None:
        """Forgets the failed second-factor guesses and ends a lockout: after a success, an admin's
        unlock or a reset."""
        ...

    async def session(self, id_hash: str) -> tuple[StaffUser, datetime, datetime, bool] | None:
        """The session's user, when it was created and last used, and whether the user has TOTP."""
        ...

    async def sessions(self, id_hashes: Collection[str]) -> dict[str, tuple[StaffUser, datetime, datetime]]:
        """Of these sessions, the ones that exist: their user, when created and when last used."""
        ...

    async def touch_sessions(self, id_hashes: Collection[str], now: datetime) -> None: ...

    async def delete_sessions(self, id_hashes: Collection[str]) -> None: ...

    async def touch_session(self, id_hash: str, now: datetime) -> None: ...

    async def last_active(self) -> dict[int, datetime]:
        """Each member of staff with a session: when one of their sessions was last used."""
        ...

    async def count_active(self, roles: Iterable[Role], since: datetime) -> int:
        """Staff in these roles with a session used since ``since``."""
        ...

    async def delete_session(self, id_hash: str) -> None: ...

    async def delete_sessions_of(self, user_id: int) -> None: ...


class SecretBox(Protocol):
    """Encryption at rest for the TOTP secret (the FieldCipher of the other sensitive fields)."""

    def encrypt(self, plaintext: str) -> bytes: ...

    def decrypt(self, stored: bytes) -> str: ...
