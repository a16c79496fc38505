"""Contact records in SQL (docs/statistics.md), and the conversation columns that feed them."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.db.tables import contact_records, conversations
from server.domain.statistics.records import ContactRecord, Survey
from server.domain.statistics.tables import DIMENSIONS, Key

_COLUMNS = frozenset(DIMENSIONS.values())


class RecordStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def add(self, record: ContactRecord) -> str:
        key = str(uuid.uuid4())
        values = asdict(record)
        values["channel"] = record.channel.value
        values["survey"] = record.survey.value if record.survey else None
        await self.connection.execute(insert(contact_records).values(record_key=key, **values))
        return key

    async def counts(self, columns: tuple[str, ...], first_week: str, last_week: str) -> dict[Key, int]:
        if not columns or not set(columns) <= _COLUMNS:
            raise ValueError(f"not record columns: {columns}")
        grouped = [contact_records.c[name] for name in columns]
        rows = await self.connection.execute(
            select(*grouped, func.count())
            .where(contact_records.c.week.between(first_week, last_week))
            .group_by(*grouped)
        )
        return {tuple(row[:-1]): int(row[-1]) for row in rows}

    async def answer_survey(self, record_key: str, survey: Survey) -> bool:
        result = await self.connection.execute(
            update(contact_records)
            .where(contact_records.c.record_key == record_key, contact_records.c.survey.is_(None))
            .values(survey=survey.value)
        )
        return result.rowcount == 1

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
