"""A fake of EscalationStore (server/adapters/db/escalation_store.py) over ``Tables``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from server.domain.errors import NotFound
from server.domain.escalation import Escalation, State
from server.services.ports.escalation import Notification, NotificationState
from tests.fakes.tables import EscalationRow, NotificationRow, Tables, UniqueViolation


class FakeEscalationRepository:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def _all(self) -> list[Escalation]:
        return [row.escalation for row in self.tables.escalations.values()]

    async def insert(self, escalation: Escalation, relative_hash: str | None) -> None:
        if escalation.id in self.tables.escalations:
            raise UniqueViolation("escalations")
        if (
            escalation.conversation_id is not None
            and escalation.conversation_id not in self.tables.conversations
        ):
            raise NotFound("foreign key: no such conversation")
        self.tables.escalations[escalation.id] = EscalationRow(escalation, relative_hash)

    async def save(self, before: Escalation, after: Escalation) -> bool:
        """Only while the row is in ``before``'s state and deadline handling, like the real UPDATE;
        the columns set at creation (conversation, language, drafter, created_at) never change."""
        row = self.tables.escalations.get(before.id)
        if row is None:
            return False
        current = row.escalation
        if current.state is not before.state or (current.deadline_missed_at is None) != (
            before.deadline_missed_at is None
        ):
            return False
        kept = replace(
            after,
            id=current.id,
            conversation_id=current.conversation_id,
            language=current.language,
            drafter_id=current.drafter_id,
            created_at=current.created_at,
        )
        self.tables.escalations[before.id] = replace(row, escalation=kept)
        return True

    async def get(self, escalation_id: str) -> Escalation | None:
        row = self.tables.escalations.get(escalation_id)
        return row.escalation if row else None

    async def visible_candidates(
        self, drafter_id: int | None, routes: Sequence[str] | None, limit: int
    ) -> list[Escalation]:
        def narrowed(e: Escalation) -> bool:
            if drafter_id is None and routes is None:
                return True
            return (
                (drafter_id is not None and e.drafter_id == drafter_id)
                or (routes is not None and e.route in routes)
                or (routes is not None and e.backup_route in routes)
            )

        found = sorted((e for e in self._all() if narrowed(e)), key=lambda e: e.created_at, reverse=True)
        return found[:limit]

    async def for_relative(self, relative_hash: str) -> list[Escalation]:
        found = [
            row.escalation for row in self.tables.escalations.values() if row.relative_hash == relative_hash
        ]
        return sorted(found, key=lambda e: e.created_at)

    async def overdue(self, now: datetime) -> list[Escalation]:
        return [
            e
            for e in self._all()
            if e.state is State.SENT
            and e.ack_deadline is not None
            and e.ack_deadline <= now
            and e.deadline_missed_at is None
        ]

    async def awaiting_acknowledgement(self) -> list[Escalation]:
        return [e for e in self._all() if e.state is State.SENT]

    async def drafting_conversations(self) -> set[str]:
        drafting = (State.DRAFT, State.AWAITING_APPROVAL, State.SENT_BACK)
        return {
            e.conversation_id for e in self._all() if e.state in drafting and e.conversation_id is not None
        }

    async def resume_hash_of(self, conversation_id: str) -> str | None:
        row = self.tables.conversations.get(conversation_id)
        return row.resume_hash if row else None

    async def delete_untouched_before(self, cutoff: datetime) -> int:
        gone = [e.id for e in self._all() if e.updated_at < cutoff]
        for escalation_id in gone:
            del self.tables.escalations[escalation_id]
        self.tables.notifications[:] = [n for n in self.tables.notifications if n.escalation_id not in gone]
        return len(gone)

    async def add_notification(
        self, escalation_id: str, route: str, channel: str, purpose: str, now: datetime
    ) -> None:
        """UNIQUE(escalation_id, route, channel, purpose): a second one is ignored."""
        key = (escalation_id, route, channel, purpose)
        if any((n.escalation_id, n.route, n.channel, n.purpose) == key for n in self.tables.notifications):
            return
        if escalation_id not in self.tables.escalations:
            raise NotFound("foreign key: no such escalation")
        self.tables.notifications.append(
            NotificationRow(
                self.tables.next_id("escalation_notifications"),
                escalation_id,
                route,
                channel,
                purpose,
                NotificationState.PENDING,
                now,
            )
        )

    async def claim_pending_notifications(self, now: datetime, limit: int = 50) -> list[Notification]:
        claimed = []
        for index, row in enumerate(self.tables.notifications):
            if len(claimed) == limit:
                break
            if row.state == NotificationState.PENDING:
                self.tables.notifications[index] = replace(
                    row, state=NotificationState.SENDING, attempted_at=now
                )
                claimed.append(
                    Notification(
                        row.id,
                        row.escalation_id,
                        row.route,
                        row.channel,
                        row.purpose,
                        NotificationState.SENDING,
                    )
                )
        return claimed

    async def finish_notification(
        self, notification_id: int, outcome: str, provider_id: str | None, now: datetime
    ) -> None:
        for index, row in enumerate(self.tables.notifications):
            if row.id == notification_id:
                self.tables.notifications[index] = replace(
                    row, state=outcome, provider_id=provider_id, finished_at=now
                )

    async def notifications_of(self, escalation_id: str) -> list[Notification]:
        return [
            Notification(r.id, r.escalation_id, r.route, r.channel, r.purpose, r.state)
            for r in self.tables.notifications
            if r.escalation_id == escalation_id
        ]
