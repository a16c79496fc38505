"""A fake of RecordStore (server/adapters/db/record_store.py) over ``Tables``."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace

from server.domain.statistics.records import ContactRecord, Survey
from server.domain.statistics.tables import Key
from tests.fakes.tables import Tables


class FakeRecordRepository:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def add(self, record: ContactRecord) -> str:
        key = str(uuid.uuid4())
        self.tables.records[key] = record
        return key

    async def counts(self, columns: tuple[str, ...], first_week: str, last_week: str) -> dict[Key, int]:
        found = Counter(
            tuple(getattr(record, name) for name in columns)
            for record in self.tables.records.values()
            if first_week <= record.week <= last_week
        )
        return dict(found)

    async def answer_survey(self, record_key: str, survey: Survey) -> bool:
        record = self.tables.records.get(record_key)
        if record is None or record.survey is not None:
            return False
        self.tables.records[record_key] = replace(record, survey=survey)
        return True

    async def mark_came_back(self, conversation_id: str) -> None:
        row = self.tables.conversations.get(conversation_id)
        if row is not None:
            self.tables.conversations[conversation_id] = replace(row, came_back=True)

    async def came_back(self, conversation_id: str) -> bool:
        row = self.tables.conversations.get(conversation_id)
        return row is not None and row.came_back

    async def link(self, conversation_id: str, record_key: str | None) -> None:
        row = self.tables.conversations.get(conversation_id)
        if row is not None:
            self.tables.conversations[conversation_id] = replace(row, record_key=record_key)

    async def linked(self, conversation_id: str) -> str | None:
        row = self.tables.conversations.get(conversation_id)
        return None if row is None else row.record_key
