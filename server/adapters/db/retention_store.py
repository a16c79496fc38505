"""The retention sweeps' counts in SQL (one row per sweep, counts only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.db.tables import retention_sweeps
from server.services.ports.retention import Sweep, SweepCounts

COUNTS = ("closed_inactive", "conversations", "messages", "notes", "tokens")


class RetentionStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def add_sweep(self, sweep: Sweep, forget_before: datetime) -> None:
        c = retention_sweeps.c
        await self.connection.execute(delete(retention_sweeps).where(c.ran_at < forget_before))
        counts = {name: getattr(sweep.counts, name) for name in COUNTS}
        await self.connection.execute(insert(retention_sweeps).values(ran_at=sweep.ran_at, **counts))

    async def sweeps(self) -> list[Sweep]:
        c = retention_sweeps.c
        rows = await self.connection.execute(select(retention_sweeps).order_by(c.ran_at.desc(), c.id.desc()))
        return [Sweep(row.ran_at, SweepCounts(*(getattr(row, name) for name in COUNTS))) for row in rows]
