"""Reading the chat audit log: who read or changed which conversation, and when; never content.

Reading the log is itself audited (action ``audit.read``, on the conversation asked about, or
``*`` for the whole log), in the same transaction, so a look at who looked leaves a trace too and
shows up in the next reading. Escalations have their own audit view (EscalationService.audit_trail)
with their own permission (``escalation.audit``)."""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import permissions
from server.domain.errors import InvalidInput
from server.domain.permissions import Action, Ownership
from server.domain.staff import StaffUser
from server.services.ports.audit import AuditEntry
from server.services.ports.clock import Clock
from server.services.ports.unit_of_work import UnitOfWork

AUDITED_TYPES = ("conversation",)
ALL_OBJECTS = "*"
MAX_LIMIT = 500
MAX_OBJECT_ID = 64


@dataclass(frozen=True)
class AuditService:
    uow: UnitOfWork
    clock: Clock

    async def entries(
        self, reader: StaffUser, object_type: str, object_id: str | None, limit: int
    ) -> list[AuditEntry]:
        """The newest ``limit`` (1 to 500) rows about objects of ``object_type``, or about the one
        with ``object_id``, newest first."""
        permissions.require(reader.role, Action.AUDIT_READ, Ownership.NONE)
        if object_type not in AUDITED_TYPES:
            raise InvalidInput(f"object_type must be one of {list(AUDITED_TYPES)}")
        if object_id is not None and not 1 <= len(object_id) <= MAX_OBJECT_ID:
            raise InvalidInput(f"object_id must be 1 to {MAX_OBJECT_ID} characters")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be 1 to {MAX_LIMIT}")
        async with self.uow.write() as repos:
            found = await repos.staff.audit_entries(object_type, object_id, limit)
            await repos.staff.audit(
                reader.id, Action.AUDIT_READ.value, object_type, object_id or ALL_OBJECTS, self.clock()
            )
        return found
