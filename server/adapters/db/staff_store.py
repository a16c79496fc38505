"""Staff accounts, their second factor, server-side sessions and the audit log in SQL."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.db.tables import (
    audit_log,
    staff_recovery_codes,
    staff_sessions,
    staff_setup_links,
    staff_users,
)
from server.domain.staff import Role, StaffUser
from server.services.ports.audit import AuditEntry
from server.services.ports.staff import SetupLink, StaffAccount, StoredTotp


def _user(row: Any) -> StaffUser:
    return StaffUser(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        active=row.active,
        route=row.route,
        languages=list(row.languages or []),
    )


class StaffStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def add_user(
        self,
        username: str,
        display_name: str,
        password_hash: str,
        role: Role,
        now: datetime,
        route: str | None = None,
    ) -> int:
        return int(
            (
                await self.connection.execute(
                    insert(staff_users)
                    .values(
                        username=username,
                        display_name=display_name,
                        password_hash=password_hash,
                        role=role.value,
                        route=route,
                        languages=[],
                        active=True,
                        created_at=now,
                    )
                    .returning(staff_users.c.id)
                )
            ).scalar_one()
        )

    async def credentials(self, username: str) -> tuple[StaffUser, str] | None:
        row = (
            await self.connection.execute(select(staff_users).where(staff_users.c.username == username))
        ).first()
        return (_user(row), row.password_hash) if row else None

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self.connection.execute(
            update(staff_users).where(staff_users.c.id == user_id).values(password_hash=password_hash)
        )

    async def set_active(self, username: str, active: bool) -> StaffUser | None:
        await self.connection.execute(
            update(staff_users).where(staff_users.c.username == username).values(active=active)
        )
        found = await self.credentials(username)
        return found[0] if found else None

    async def get_user(self, user_id: int) -> StaffUser | None:
        row = (await self.connection.execute(select(staff_users).where(staff_users.c.id == user_id))).first()
        return _user(row) if row else None

    async def list_users(self) -> list[StaffUser]:
        rows = (await self.connection.execute(select(staff_users).order_by(staff_users.c.id))).all()
        return [_user(row) for row in rows]

    async def accounts(self) -> list[StaffAccount]:
        rows = (await self.connection.execute(select(staff_users).order_by(staff_users.c.username))).all()
        return [
            StaffAccount(_user(row), row.totp_enabled_at is not None, row.last_login_at, row.created_at)
            for row in rows
        ]

    async def set_role(self, user_id: int, role: Role, route: str | None) -> None:
        await self.connection.execute(
            update(staff_users).where(staff_users.c.id == user_id).values(role=role.value, route=route)
        )

    async def record_login(self, user_id: int, now: datetime) -> None:
        await self.connection.execute(
            update(staff_users).where(staff_users.c.id == user_id).values(last_login_at=now)
        )

    async def add_setup_link(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        """Stores a new link for the account and removes its earlier ones."""
        await self.connection.execute(delete(staff_setup_links).where(staff_setup_links.c.user_id == user_id))
        await self.connection.execute(
            insert(staff_setup_links).values(
                token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at
            )
        )

    async def setup_link(self, token_hash: str) -> SetupLink | None:
        row = (
            await self.connection.execute(
                select(staff_setup_links).where(staff_setup_links.c.token_hash == token_hash)
            )
        ).first()
        return SetupLink(row.user_id, row.expires_at, row.used_at) if row else None

    async def spend_setup_link(self, token_hash: str, now: datetime) -> bool:
        """Marks an unspent, unexpired link as spent; False when it was spent or has expired, so
        one link sets one password."""
        result = await self.connection.execute(
            update(staff_setup_links)
            .where(
                staff_setup_links.c.token_hash == token_hash,
                staff_setup_links.c.used_at.is_(None),
                staff_setup_links.c.expires_at > now,
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def replace_recovery_codes(self, user_id: int, recovery_hashes: list[str]) -> None:
        await self.connection.execute(
            delete(staff_recovery_codes).where(staff_recovery_codes.c.user_id == user_id)
        )
        await self.connection.execute(
            insert(staff_recovery_codes),
            [{"user_id": user_id, "code_hash": code_hash} for code_hash in recovery_hashes],
        )

    async def delete_other_sessions(self, user_id: int, keep_hash: str) -> None:
        """Ends every session of the account but the one given."""
        await self.connection.execute(
            delete(staff_sessions).where(
                staff_sessions.c.user_id == user_id, staff_sessions.c.id_hash != keep_hash
            )
        )

    async def create_session(self, id_hash: str, user_id: int, now: datetime) -> None:
        await self.connection.execute(
            insert(staff_sessions).values(id_hash=id_hash, user_id=user_id, created_at=now, last_seen_at=now)
        )

    async def totp(self, user_id: int) -> StoredTotp:
        row = (
            await self.connection.execute(
                select(
                    staff_users.c.totp_secret, staff_users.c.totp_enabled_at, staff_users.c.totp_last_step
                ).where(staff_users.c.id == user_id)
            )
        ).one()
        return StoredTotp(row.totp_secret, row.totp_enabled_at is not None, row.totp_last_step)

    async def start_totp(self, user_id: int, encrypted_secret: bytes) -> None:
        """Keeps a new secret that is not in force until ``enable_totp``."""
        await self.connection.execute(
            update(staff_users)
            .where(staff_users.c.id == user_id)
            .values(totp_secret=encrypted_secret, totp_enabled_at=None, totp_last_step=None)
        )

    async def enable_totp(self, user_id: int, step: int, now: datetime, recovery_hashes: list[str]) -> None:
        await self.connection.execute(
            update(staff_users)
            .where(staff_users.c.id == user_id)
            .values(totp_enabled_at=now, totp_last_step=step)
        )
        await self.replace_recovery_codes(user_id, recovery_hashes)

    async def advance_totp_step(self, user_id: int, step: int) -> bool:
        """Records ``step`` as used if it is later than the last one; False when another sign-in
        got there first, so one code never opens two sessions."""
        result = await self.connection.execute(
            update(staff_users)
            .where(
                staff_users.c.id == user_id,
                staff_users.c.totp_enabled_at.is_not(None),
                (staff_users.c.totp_last_step.is_(None)) | (staff_users.c.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return result.rowcount == 1

    async def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        result = await self.connection.execute(
            update(staff_recovery_codes)
            .where(
                staff_recovery_codes.c.user_id == user_id,
                staff_recovery_codes.c.code_hash == code_hash,
                staff_recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def recovery_codes_left(self, user_id: int) -> int:
        return int(
            (
                await self.connection.execute(
                    select(func.count()).where(
                        staff_recovery_codes.c.user_id == user_id, staff_recovery_codes.c.used_at.is_(None)
                    )
                )
            ).scalar_one()
        )

    async def clear_totp(self, user_id: int) -> None:
        await self.connection.execute(
            update(staff_users)
            .where(staff_users.c.id == user_id)
            .values(totp_secret=None, totp_enabled_at=None, totp_last_step=None)
        )
        await self.connection.execute(
            delete(staff_recovery_codes).where(staff_recovery_codes.c.user_id == user_id)
        )
        await self.unlock_totp(user_id)

    async def begin_totp_attempt(self, user_id: int, now: datetime, lockout_after: int) -> bool:
        """Counts one second-factor guess before it is checked; False when the second factor is
        locked (or has used up its guesses), so the guess must not be checked. True without TOTP
        enrolled, uncounted. A lockout that has run out ends here."""
        await self.connection.execute(
            update(staff_users)
            .where(
                staff_users.c.id == user_id,
                staff_users.c.totp_locked_until.is_not(None),
                staff_users.c.totp_locked_until <= now,
            )
            .values(totp_failures=0, totp_locked_until=None)
        )
        counted = await self.connection.execute(
            update(staff_users)
            .where(
                staff_users.c.id == user_id,
                staff_users.c.totp_enabled_at.is_not(None),
                staff_users.c.totp_locked_until.is_(None),
                staff_users.c.totp_failures < lockout_after,
            )
            .values(totp_failures=staff_users.c.totp_failures + 1)
        )
        if counted.rowcount == 1:
            return True
        enabled_at = (
            await self.connection.execute(
                select(staff_users.c.totp_enabled_at).where(staff_users.c.id == user_id)
            )
        ).scalar_one_or_none()
        return enabled_at is None

    async def lock_totp_if_spent(self, user_id: int, lockout_after: int, until: datetime) -> bool:
        """Locks the second factor until ``until`` once ``lockout_after`` guesses failed; True only
        for the call that locked it."""
        result = await self.connection.execute(
            update(staff_users)
            .where(
                staff_users.c.id == user_id,
                staff_users.c.totp_locked_until.is_(None),
                staff_users.c.totp_failures >= lockout_after,
            )
            .values(totp_locked_until=until)
        )
        return result.rowcount == 1

    async def totp_locked_until(self, user_id: int) -> datetime | None:
        return (
            await self.connection.execute(
                select(staff_users.c.totp_locked_until).where(staff_users.c.id == user_id)
            )
        ).scalar_one_or_none()

    async def unlock_totp(self, user_id: int) -> None:
        """Forgets the failed second-factor guesses and ends a lockout: after a success, an admin's
        unlock or a reset."""
        await self.connection.execute(
            update(staff_users)
            .where(staff_users.c.id == user_id)
            .values(totp_failures=0, totp_locked_until=None)
        )

    async def session(self, id_hash: str) -> tuple[StaffUser, datetime, datetime, bool] | None:
        """The session's user, when it was created and last used, and whether the user has TOTP."""
        row = (
            await self.connection.execute(
                select(
                    staff_users,
                    staff_sessions.c.created_at.label("session_created_at"),
                    staff_sessions.c.last_seen_at,
                )
                .join(staff_sessions, staff_sessions.c.user_id == staff_users.c.id)
                .where(staff_sessions.c.id_hash == id_hash)
            )
        ).first()
        if row is None:
            return None
        return _user(row), row.session_created_at, row.last_seen_at, row.totp_enabled_at is not None

    async def sessions(self, id_hashes: Collection[str]) -> dict[str, tuple[StaffUser, datetime, datetime]]:
        """Of these sessions, the ones that exist: their user, when created and when last used."""
        if not id_hashes:
            return {}
        rows = await self.connection.execute(
            select(
                staff_users,
                staff_sessions.c.id_hash,
                staff_sessions.c.created_at.label("session_created_at"),
                staff_sessions.c.last_seen_at,
            )
            .join(staff_sessions, staff_sessions.c.user_id == staff_users.c.id)
            .where(staff_sessions.c.id_hash.in_(list(id_hashes)))
        )
        return {row.id_hash: (_user(row), row.session_created_at, row.last_seen_at) for row in rows}

    async def touch_sessions(self, id_hashes: Collection[str], now: datetime) -> None:
        await self.connection.execute(
            update(staff_sessions)
            .where(staff_sessions.c.id_hash.in_(list(id_hashes)))
            .values(last_seen_at=now)
        )

    async def delete_sessions(self, id_hashes: Collection[str]) -> None:
        await self.connection.execute(
            delete(staff_sessions).where(staff_sessions.c.id_hash.in_(list(id_hashes)))
        )

    async def touch_session(self, id_hash: str, now: datetime) -> None:
        await self.connection.execute(
            update(staff_sessions).where(staff_sessions.c.id_hash == id_hash).values(last_seen_at=now)
        )

    async def last_active(self) -> dict[int, datetime]:
        rows = (
            await self.connection.execute(
                select(staff_sessions.c.user_id, func.max(staff_sessions.c.last_seen_at)).group_by(
                    staff_sessions.c.user_id
                )
            )
        ).all()
        return {row[0]: row[1] for row in rows}

    async def count_active(self, roles: Iterable[Role], since: datetime) -> int:
        """Staff in these roles with a session used since ``since``."""
        return int(
            (
                await self.connection.execute(
                    select(func.count(func.distinct(staff_sessions.c.user_id)))
                    .select_from(
                        staff_sessions.join(staff_users, staff_users.c.id == staff_sessions.c.user_id)
                    )
                    .where(
                        staff_sessions.c.last_seen_at >= since,
                        staff_users.c.active.is_(True),
                        staff_users.c.role.in_([role.value for role in roles]),
                    )
                )
            ).scalar_one()
        )

    async def delete_session(self, id_hash: str) -> None:
        await self.connection.execute(delete(staff_sessions).where(staff_sessions.c.id_hash == id_hash))

    async def delete_sessions_of(self, user_id: int) -> None:
        await self.connection.execute(delete(staff_sessions).where(staff_sessions.c.user_id == user_id))

    async def audit(
        self,
        actor_id: int | None,
        action: str,
        object_type: str,
        object_id: str,
        now: datetime,
        detail: str | None = None,
    ) -> None:
        await self.connection.execute(
            insert(audit_log).values(
                at=now,
                actor_id=actor_id,
                action=action,
                object_type=object_type,
                object_id=object_id,
                detail=detail,
            )
        )

    async def audit_entries(
        self, object_type: str, object_id: str | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """The newest audit rows about objects of one type (about one object, given its id), with
        the actor's display name."""
        query = (
            select(audit_log, staff_users.c.display_name)
            .outerjoin(staff_users, staff_users.c.id == audit_log.c.actor_id)
            .where(audit_log.c.object_type == object_type)
            .order_by(audit_log.c.id.desc())
            .limit(limit)
        )
        if object_id is not None:
            query = query.where(audit_log.c.object_id == object_id)
        rows = (await self.connection.execute(query)).all()
        return [
            AuditEntry(r.id, r.at, r.actor_id, r.display_name, r.action, r.object_type, r.object_id, r.detail)
            for r in rows
        ]
