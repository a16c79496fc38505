"""Contact records in SQL (docs/statistics.md), and the conversation columns that feed them."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.db import record_counts
from server.adapters.db.tables import contact_records, conversations
from server.domain.statistics.records import ContactRecord, Survey
from server.domain.statistics.tables import DIMENSIONS, Key

_COLUMNS = frozenset(DIMENSIONS.values())
_COUNTED = [contact_records.c[name] for name in sorted(_COLUMNS)]


class RecordStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def add(self, record: ContactRecord) -> str:
        key = str(uuid.uuid4())
        values = asdict(record)
        values["channel"] = record.channel.value
        values["survey"] = record.survey.value if record.survey else None
        await self.connection.execute(insert(contact_records).values(record_key=key, **values))
        await record_counts.change(self.connection, values, 1)
        return key

    async def counts(self, columns: tuple[str, ...], first_week: str, last_week: str) -> dict[Key, int]:
        if not columns or not set(columns) <= _COLUMNS:
            raise ValueError(f"not record columns: {columns}")
        return await record_counts.counts(self.connection, columns, first_week, last_week)

    async def answer_survey(self, record_key: str, survey: Survey) -> bool:
        unanswered = (contact_records.c.record_key == record_key, contact_records.c.survey.is_(None))
        row = (await self.connection.execute(select(*_COUNTED).where(*unanswered))).mappings().first()
        if row is None:
            return False
        before = dict(row)
        result = await self.connection.execute(
            update(contact_records).where(*unanswered).values(survey=survey.value)
        )
        if result.rowcount != 1:
            return False
        await record_counts.change(self.connection, before, -1)
        await record_counts.change(self.connection, {**before, "survey": survey.value}, 1)
        return True

    async def mark_came_back(self, conversation_id: str) -> None:
        await self.connection.execute(
            update(conversations).where(conversations.c.id == conversation_id).values(came_back=True)
        )

    async def came_back(self, conversation_id: str) -> bool:
        value = await self.connection.scalar(
            select(conversations.c.came_back).where(conversations.c.id == conversation_id)
        )
        return bool(value)

    async def link(self, conversation_id: str, record_key: str | None) -> None:
        await self.connection.execute(
            update(conversations).where(conversations.c.id == conversation_id).values(record_key=record_key)
        )

    async def linked(self, conversation_id: str) -> str | None:
        value = await self.connection.scalar(
            select(conversations.c.record_key).where(conversations.c.id == conversation_id)
        )
        return None if value is None else str(value)
