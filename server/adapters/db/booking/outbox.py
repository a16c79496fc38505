"""The embedded SMS backend's outbox: every text it would have sent, encrypted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.crypto import FieldCipher
from server.adapters.db.tables import sms_outbox
from server.services.ports.texts import OutboxEntry


class OutboxStore:
    """Texts the embedded outbox 'sent': kept encrypted, shown to admins, deleted by retention."""

    def __init__(self, connection: AsyncConnection, cipher: FieldCipher) -> None:
        self.connection = connection
        self.cipher = cipher

    async def add(self, provider_id: str, to: str, body: str, now: datetime) -> None:
        await self.connection.execute(
            insert(sms_outbox).values(
                provider_id=provider_id,
                to_phone=self.cipher.encrypt(to),
                body=self.cipher.encrypt(body),
                created_at=now,
            )
        )

    async def since(self, since: datetime, limit: int) -> list[OutboxEntry]:
        rows = (
            await self.connection.execute(
                select(sms_outbox)
                .where(sms_outbox.c.created_at >= since)
                .order_by(sms_outbox.c.id.desc())
                .limit(limit)
            )
        ).all()
        return [self._entry(row) for row in rows]

    async def by_provider_id(self, provider_id: str) -> OutboxEntry | None:
        row = (
            await self.connection.execute(select(sms_outbox).where(sms_outbox.c.provider_id == provider_id))
        ).first()
        return self._entry(row) if row else None

    async def delete_before(self, cutoff: datetime) -> int:
        result = await self.connection.execute(delete(sms_outbox).where(sms_outbox.c.created_at < cutoff))
        return int(result.rowcount)

    def _entry(self, row: Any) -> OutboxEntry:
        return OutboxEntry(
            row.id,
            row.provider_id,
            self.cipher.decrypt(row.to_phone),
            self.cipher.decrypt(row.body),
            row.created_at,
        )
