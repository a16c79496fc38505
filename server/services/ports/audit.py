"""The audit log's port: who did what to which object, never content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which object, and when; ``actor`` is a display name, None for the system.
    Never content."""

    id: int
    at: datetime
    actor_id: int | None
    actor: str | None
    action: str
    object_type: str
    object_id: str
    detail: str | None = None


class AuditRepository(Protocol):
    async def audit(
        self,
        actor_id: int | None,
        action: str,
        object_type: str,
        object_id: str,
        now: datetime,
        detail: str | None = None,
    ) -> None:
        """``detail``: a configured id saying why (a supervisor's reason to read), never free text."""
        ...

    async def audit_entries(
        self, object_type: str, object_id: str | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """The newest audit rows about objects of one type (about one object, given its id), with
        the actor's display name."""
        ...
