"""Readiness probes (the Probe port): one trivial request to a backend. A failure is counted as
that backend's error (kinline_backend_errors_total); what failed is never logged with the
library's message, which may name an address."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import text

from server.adapters.db.engine import Database

if TYPE_CHECKING:
    from redis.asyncio import Redis


class DatabaseProbe:
    name = "database"

    def __init__(self, database: Database, on_error: Callable[[str], None]) -> None:
        self.database = database
        self.on_error = on_error

    async def check(self) -> None:
        try:
            async with self.database.read() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            self.on_error(self.name)
            raise


class RedisProbe:
    name = "redis"

    def __init__(self, redis: Redis, on_error: Callable[[str], None]) -> None:
        self.redis = redis
        self.on_error = on_error

    async def check(self) -> None:
        try:
            await self.redis.ping()
        except Exception:
            self.on_error(self.name)
            raise
