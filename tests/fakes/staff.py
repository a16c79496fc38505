"""A fake of StaffStore (server/adapters/db/staff_store.py) over ``Tables``."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime

from server.domain.errors import NotFound
from server.domain.staff import Role, StaffUser
from server.services.ports.audit import AuditEntry
from server.services.ports.staff import SetupLink, StaffAccount, StoredTotp
from tests.fakes.tables import (
    AuditRow,
    RecoveryCodeRow,
    SessionRow,
    SetupLinkRow,
    StaffRow,
    Tables,
    UniqueViolation,
)


class FakeStaffRepository:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def _row(self, user_id: int) -> StaffRow:
        row = self.tables.staff.get(user_id)
        if row is None:
            raise NotFound("no row")
        return row

    def _update(self, user_id: int, **values: object) -> None:
        if user_id in self.tables.staff:
            self.tables.staff[user_id] = replace(self.tables.staff[user_id], **values)  # type: ignore[arg-type]

    def _by_username(self, username: str) -> StaffRow | None:
        return next((row for row in self.tables.staff.values() if row.user.username == username), None)

    async def add_user(
        self,
        username: str,
        display_name: str,
        password_hash: str,
        role: Role,
        now: datetime,
        route: str | None = None,
    ) -> int:
        if self._by_username(username) is not None:
            raise UniqueViolation("staff_users.username")
        user_id = self.tables.next_id("staff_users")
        user = StaffUser(user_id, username, display_name, role, active=True, route=route, languages=[])
        self.tables.staff[user_id] = StaffRow(user, password_hash, now)
        return user_id

    async def credentials(self, username: str) -> tuple[StaffUser, str] | None:
        row = self._by_username(username)
        return (row.user, row.password_hash) if row else None

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._update(user_id, password_hash=password_hash)

    async def set_active(self, username: str, active: bool) -> StaffUser | None:
        row = self._by_username(username)
        if row is None:
            return None
        self._update(row.user.id, user=replace(row.user, active=active))
        return self.tables.staff[row.user.id].user

    async def get_user(self, user_id: int) -> StaffUser | None:
        row = self.tables.staff.get(user_id)
        return row.user if row else None

    async def list_users(self) -> list[StaffUser]:
        return [self.tables.staff[user_id].user for user_id in sorted(self.tables.staff)]

    async def accounts(self) -> list[StaffAccount]:
        rows = sorted(self.tables.staff.values(), key=lambda row: row.user.username)
        return [
            StaffAccount(row.user, row.totp_enabled_at is not None, row.last_login_at, row.created_at)
            for row in rows
        ]

    async def set_role(self, user_id: int, role: Role, route: str | None) -> None:
        self._update(user_id, user=replace(self._row(user_id).user, role=role, route=route))

    async def record_login(self, user_id: int, now: datetime) -> None:
        self._update(user_id, last_login_at=now)

    async def add_setup_link(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        links = self.tables.setup_links
        for stored, link in list(links.items()):
            if link.user_id == user_id:
                del links[stored]
        if token_hash in links:
            raise UniqueViolation("staff_setup_links")
        links[token_hash] = SetupLinkRow(user_id, now, expires_at)

    async def setup_link(self, token_hash: str) -> SetupLink | None:
        link = self.tables.setup_links.get(token_hash)
        return SetupLink(link.user_id, link.expires_at, link.used_at) if link else None

    async def spend_setup_link(self, token_hash: str, now: datetime) -> bool:
        link = self.tables.setup_links.get(token_hash)
        if link is None or link.used_at is not None or link.expires_at <= now:
            return False
        self.tables.setup_links[token_hash] = replace(link, used_at=now)
        return True

    async def replace_recovery_codes(self, user_id: int, recovery_hashes: list[str]) -> None:
        self._delete_recovery_codes(user_id)
        self.tables.recovery_codes.extend(
            RecoveryCodeRow(user_id, code_hash) for code_hash in recovery_hashes
        )

    async def delete_other_sessions(self, user_id: int, keep_hash: str) -> None:
        for id_hash, session in list(self.tables.sessions.items()):
            if session.user_id == user_id and id_hash != keep_hash:
                del self.tables.sessions[id_hash]

    async def create_session(self, id_hash: str, user_id: int, now: datetime) -> None:
        if id_hash in self.tables.sessions:
            raise UniqueViolation("staff_sessions")
        self._row(user_id)
        self.tables.sessions[id_hash] = SessionRow(user_id, now, now)

    async def totp(self, user_id: int) -> StoredTotp:
        row = self._row(user_id)
        return StoredTotp(row.totp_secret, row.totp_enabled_at is not None, row.totp_last_step)

    async def start_totp(self, user_id: int, encrypted_secret: bytes) -> None:
        self._update(user_id, totp_secret=encrypted_secret, totp_enabled_at=None, totp_last_step=None)

    async def enable_totp(self, user_id: int, step: int, now: datetime, recovery_hashes: list[str]) -> None:
        self._update(user_id, totp_enabled_at=now, totp_last_step=step)
        self._delete_recovery_codes(user_id)
        self.tables.recovery_codes.extend(
            RecoveryCodeRow(user_id, code_hash) for code_hash in recovery_hashes
        )

    def _delete_recovery_codes(self, user_id: int) -> None:
        self.tables.recovery_codes[:] = [c for c in self.tables.recovery_codes if c.user_id != user_id]

    async def advance_totp_step(self, user_id: int, step: int) -> bool:
        row = self.tables.staff.get(user_id)
        if row is None or row.totp_enabled_at is None:
            return False
        if row.totp_last_step is not None and row.totp_last_step >= step:
            return False
        self._update(user_id, totp_last_step=step)
        return True

    async def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        for index, code in enumerate(self.tables.recovery_codes):
            if code.user_id == user_id and code.code_hash == code_hash and code.used_at is None:
                self.tables.recovery_codes[index] = replace(code, used_at=now)
                return True
        return False

    async def recovery_codes_left(self, user_id: int) -> int:
        return sum(1 for c in self.tables.recovery_codes if c.user_id == user_id and c.used_at is None)

    async def clear_totp(self, user_id: int) -> None:
        self._update(user_id, totp_secret=None, totp_enabled_at=None, totp_last_step=None)
        self._delete_recovery_codes(user_id)
        await self.unlock_totp(user_id)

    async def begin_totp_attempt(self, user_id: int, now: datetime, lockout_after: int) -> bool:
        row = self.tables.staff.get(user_id)
        if row is None:
            return True
        if row.totp_locked_until is not None and row.totp_locked_until <= now:
            self._update(user_id, totp_failures=0, totp_locked_until=None)
            row = self.tables.staff[user_id]
        if (
            row.totp_enabled_at is not None
            and row.totp_locked_until is None
            and row.totp_failures < lockout_after
        ):
            self._update(user_id, totp_failures=row.totp_failures + 1)
            return True
        return row.totp_enabled_at is None

    async def lock_totp_if_spent(self, user_id: int, lockout_after: int, until: datetime) -> bool:
        row = self.tables.staff.get(user_id)
        if row is None or row.totp_locked_until is not None or row.totp_failures < lockout_after:
            return False
        self._update(user_id, totp_locked_until=until)
        return True

    async def totp_locked_until(self, user_id: int) -> datetime | None:
        row = self.tables.staff.get(user_id)
        return row.totp_locked_until if row else None

    async def unlock_totp(self, user_id: int) -> None:
        self._update(user_id, totp_failures=0, totp_locked_until=None)

    async def session(self, id_hash: str) -> tuple[StaffUser, datetime, datetime, bool] | None:
        session = self.tables.sessions.get(id_hash)
        if session is None:
            return None
        row = self._row(session.user_id)
        return row.user, session.created_at, session.last_seen_at, row.totp_enabled_at is not None

    async def sessions(self, id_hashes: Collection[str]) -> dict[str, tuple[StaffUser, datetime, datetime]]:
        found: dict[str, tuple[StaffUser, datetime, datetime]] = {}
        for id_hash in id_hashes:
            session = self.tables.sessions.get(id_hash)
            if session is not None:
                found[id_hash] = (self._row(session.user_id).user, session.created_at, session.last_seen_at)
        return found

    async def touch_sessions(self, id_hashes: Collection[str], now: datetime) -> None:
        for id_hash in id_hashes:
            await self.touch_session(id_hash, now)

    async def delete_sessions(self, id_hashes: Collection[str]) -> None:
        for id_hash in id_hashes:
            self.tables.sessions.pop(id_hash, None)

    async def touch_session(self, id_hash: str, now: datetime) -> None:
        session = self.tables.sessions.get(id_hash)
        if session is not None:
            self.tables.sessions[id_hash] = replace(session, last_seen_at=now)

    async def last_active(self) -> dict[int, datetime]:
        latest: dict[int, datetime] = {}
        for session in self.tables.sessions.values():
            if session.user_id not in latest or session.last_seen_at > latest[session.user_id]:
                latest[session.user_id] = session.last_seen_at
        return latest

    async def count_active(self, roles: Iterable[Role], since: datetime) -> int:
        wanted = set(roles)
        return len(
            {
                session.user_id
                for session in self.tables.sessions.values()
                if session.last_seen_at >= since
                and self._row(session.user_id).user.active
                and self._row(session.user_id).user.role in wanted
            }
        )

    async def delete_session(self, id_hash: str) -> None:
        self.tables.sessions.pop(id_hash, None)

    async def delete_sessions_of(self, user_id: int) -> None:
        for id_hash, session in list(self.tables.sessions.items()):
            if session.user_id == user_id:
                del self.tables.sessions[id_hash]

    async def audit(
        self,
        actor_id: int | None,
        action: str,
        object_type: str,
        object_id: str,
        now: datetime,
        detail: str | None = None,
    ) -> None:
        if actor_id is not None:
            self._row(actor_id)
        self.tables.audit.append(
            AuditRow(self.tables.next_id("audit_log"), now, actor_id, action, object_type, object_id, detail)
        )

    async def audit_entries(
        self, object_type: str, object_id: str | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        rows = [
            row
            for row in self.tables.audit
            if row.object_type == object_type and (object_id is None or row.object_id == object_id)
        ]
        rows.sort(key=lambda row: row.id, reverse=True)
        return [
            AuditEntry(
                r.id,
                r.at,
                r.actor_id,
                self._display_name(r.actor_id),
                r.action,
                r.object_type,
                r.object_id,
                r.detail,
            )
            for r in rows[:limit]
        ]

    def _display_name(self, actor_id: int | None) -> str | None:
        row = self.tables.staff.get(actor_id) if actor_id is not None else None
        return row.user.display_name if row else None
