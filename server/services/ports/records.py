"""What the statistics need from storage: contact records, their counts, and the two facts a
conversation keeps for its record (came back with a resume code; the key of its record until the
survey is answered or retention deletes the conversation)."""

from __future__ import annotations

from typing import Protocol

from server.domain.statistics.records import ContactRecord, Survey
from server.domain.statistics.tables import Key


class RecordRepository(Protocol):
    async def add(self, record: ContactRecord) -> str:
        """Store one record under a new random key, and return the key."""
        ...

    async def counts(self, columns: tuple[str, ...], first_week: str, last_week: str) -> dict[Key, int]:
        """Records per distinct value of ``columns`` (record fields) over the weeks, both ends
        included."""
        ...

    async def answer_survey(self, record_key: str, survey: Survey) -> bool:
        """Set the survey of a record that has none yet; False when it has one or is gone."""
        ...

    async def mark_came_back(self, conversation_id: str) -> None: ...

    async def came_back(self, conversation_id: str) -> bool: ...

    async def link(self, conversation_id: str, record_key: str | None) -> None:
        """Keep (or, with None, drop) the key of the conversation's record on the conversation."""
        ...

    async def linked(self, conversation_id: str) -> str | None: ...
