"""A fake of RetentionStore (server/adapters/db/retention_store.py) over ``Tables``."""

from __future__ import annotations

from datetime import datetime

from server.services.ports.retention import Sweep
from tests.fakes.tables import Tables


class FakeRetentionRepository:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def add_sweep(self, sweep: Sweep, forget_before: datetime) -> None:
        self.tables.sweeps[:] = [kept for kept in self.tables.sweeps if kept.ran_at >= forget_before]
        self.tables.sweeps.append(sweep)

    async def sweeps(self) -> list[Sweep]:
        return sorted(self.tables.sweeps, key=lambda sweep: sweep.ran_at, reverse=True)
