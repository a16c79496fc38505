"""Escalations and their outgoing notifications in SQL. Free text (summary, relation, contact
details, feedback, the reason for sending back) is encrypted before it reaches a row."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.crypto import FieldCipher
from server.adapters.db.tables import (
    conversations,
    escalation_notifications,
    escalations,
)
from server.domain.escalation import Contact, Draft, Escalation, Kind, State, Subject
from server.services.ports.escalation import Notification, NotificationState


class EscalationStore:
    def __init__(self, connection: AsyncConnection, cipher: FieldCipher) -> None:
        self.connection = connection
        self.cipher = cipher

    def _seal(self, text: str | None) -> bytes | None:
        return None if text is None else self.cipher.encrypt(text)

    def _open(self, stored: bytes | None) -> str | None:
        return None if stored is None else self.cipher.decrypt(stored)

    def _values(self, e: Escalation) -> dict[str, Any]:
        contact = e.draft.contact
        return {
            "route": e.draft.route,
            "kind": e.draft.kind.value,
            "state": e.state.value,
            "summary": self.cipher.encrypt(e.draft.summary),
            "indicators": list(e.draft.indicators),
            "consent": e.draft.consent,
            "share_transcript": e.draft.share_transcript,
            "age_band": e.draft.subject.age_band,
            "relation": self.cipher.encrypt(e.draft.subject.relation),
            "contact": self._seal(json.dumps(contact.as_dict()) if contact else None),
            "updated_at": e.updated_at,
            "submitted_at": e.submitted_at,
            "approved_by": e.approved_by,
            "sent_back_by": e.sent_back_by,
            "sent_back_reason": self._seal(e.sent_back_reason),
            "sent_at": e.sent_at,
            "ack_deadline": e.ack_deadline,
            "acknowledged_by": e.acknowledged_by,
            "acknowledged_at": e.acknowledged_at,
            "deadline_missed_at": e.deadline_missed_at,
            "backup_route": e.backup_route,
            "backup_deadline": e.backup_deadline,
            "outcome_at": e.outcome_at,
            "feedback": self._seal(e.feedback),
        }

    def _escalation(self, row: Any) -> Escalation:
        contact_json = self._open(row.contact)
        draft = Draft(
            route=row.route,
            kind=Kind(row.kind),
            summary=self.cipher.decrypt(row.summary),
            indicators=tuple(row.indicators or ()),
            consent=row.consent,
            subject=Subject(row.age_band, self.cipher.decrypt(row.relation)),
            contact=Contact(**json.loads(contact_json)) if contact_json else None,
            share_transcript=row.share_transcript,
        )
        return Escalation(
            id=row.id,
            conversation_id=row.conversation_id,
            language=row.language,
            drafter_id=row.drafter_id,
            draft=draft,
            state=State(row.state),
            created_at=row.created_at,
            updated_at=row.updated_at,
            submitted_at=row.submitted_at,
            approved_by=row.approved_by,
            sent_back_by=row.sent_back_by,
            sent_back_reason=self._open(row.sent_back_reason),
            sent_at=row.sent_at,
            ack_deadline=row.ack_deadline,
            acknowledged_by=row.acknowledged_by,
            acknowledged_at=row.acknowledged_at,
            deadline_missed_at=row.deadline_missed_at,
            backup_route=row.backup_route,
            backup_deadline=row.backup_deadline,
            outcome_at=row.outcome_at,
            feedback=self._open(row.feedback),
        )

    async def insert(self, escalation: Escalation, relative_hash: str | None) -> None:
        await self.connection.execute(
            insert(escalations).values(
                id=escalation.id,
                conversation_id=escalation.conversation_id,
                relative_hash=relative_hash,
                language=escalation.language,
                drafter_id=escalation.drafter_id,
                created_at=escalation.created_at,
                **self._values(escalation),
            )
        )

    async def save(self, before: Escalation, after: Escalation) -> bool:
        """Write a change only if the row is still in ``before``'s state and deadline handling.
        False when another writer got there first: that is how a sweep claims a missed deadline once."""
        missed = escalations.c.deadline_missed_at
        result = await self.connection.execute(
            update(escalations)
            .where(
                and_(
                    escalations.c.id == before.id,
                    escalations.c.state == before.state.value,
                    missed.is_(None) if before.deadline_missed_at is None else missed.is_not(None),
                )
            )
            .values(**self._values(after))
        )
        return result.rowcount == 1

    async def get(self, escalation_id: str) -> Escalation | None:
        row = (
            await self.connection.execute(select(escalations).where(escalations.c.id == escalation_id))
        ).first()
        return self._escalation(row) if row else None

    async def visible_candidates(
        self, drafter_id: int | None, routes: Sequence[str] | None, limit: int
    ) -> list[Escalation]:
        """Newest first. ``drafter_id`` and ``routes`` narrow the query (None: no narrowing on
        that side); the permission rules still decide on every row."""
        query = select(escalations).order_by(escalations.c.created_at.desc()).limit(limit)
        conditions = []
        if drafter_id is not None:
            conditions.append(escalations.c.drafter_id == drafter_id)
        if routes is not None:
            conditions.append(escalations.c.route.in_(routes))
            conditions.append(escalations.c.backup_route.in_(routes))
        if conditions:
            query = query.where(or_(*conditions))
        rows = (await self.connection.execute(query)).all()
        return [self._escalation(row) for row in rows]

    async def for_relative(self, relative_hash: str) -> list[Escalation]:
        rows = (
            await self.connection.execute(
                select(escalations)
                .where(escalations.c.relative_hash == relative_hash)
                .order_by(escalations.c.created_at)
            )
        ).all()
        return [self._escalation(row) for row in rows]

    async def overdue(self, now: datetime) -> list[Escalation]:
        rows = (
            await self.connection.execute(
                select(escalations).where(
                    escalations.c.state == State.SENT.value,
                    escalations.c.ack_deadline <= now,
                    escalations.c.deadline_missed_at.is_(None),
                )
            )
        ).all()
        return [self._escalation(row) for row in rows]

    async def awaiting_acknowledgement(self) -> list[Escalation]:
        rows = (
            await self.connection.execute(select(escalations).where(escalations.c.state == State.SENT.value))
        ).all()
        return [self._escalation(row) for row in rows]

    async def drafting_conversations(self) -> set[str]:
        rows = (
            await self.connection.execute(
                select(escalations.c.conversation_id)
                .where(
                    escalations.c.state.in_(
                        (State.DRAFT.value, State.AWAITING_APPROVAL.value, State.SENT_BACK.value)
                    ),
                    escalations.c.conversation_id.is_not(None),
                )
                .distinct()
            )
        ).all()
        return {row[0] for row in rows}

    async def resume_hash_of(self, conversation_id: str) -> str | None:
        return (
            await self.connection.execute(
                select(conversations.c.resume_hash).where(conversations.c.id == conversation_id)
            )
        ).scalar_one_or_none()

    async def delete_untouched_before(self, cutoff: datetime) -> int:
        result = await self.connection.execute(delete(escalations).where(escalations.c.updated_at < cutoff))
        return int(result.rowcount or 0)

    # notifications

    async def add_notification(
        self, escalation_id: str, route: str, channel: str, purpose: str, now: datetime
    ) -> None:
        """Queue one notification; a second one for the same escalation, route, channel and
        purpose is ignored, so nothing is ever queued twice."""
        try:
            async with self.connection.begin_nested():
                await self.connection.execute(
                    insert(escalation_notifications).values(
                        escalation_id=escalation_id,
                        route=route,
                        channel=channel,
                        purpose=purpose,
                        state=NotificationState.PENDING,
                        created_at=now,
                    )
                )
        except IntegrityError:
            return

    async def claim_pending_notifications(self, now: datetime, limit: int = 50) -> list[Notification]:
        """Each pending notification moves to ``sending`` with one conditional UPDATE; only the
        writer whose UPDATE matched sends it."""
        rows = (
            await self.connection.execute(
                select(escalation_notifications)
                .where(escalation_notifications.c.state == NotificationState.PENDING)
                .order_by(escalation_notifications.c.id)
                .limit(limit)
            )
        ).all()
        claimed = []
        for row in rows:
            result = await self.connection.execute(
                update(escalation_notifications)
                .where(
                    escalation_notifications.c.id == row.id,
                    escalation_notifications.c.state == NotificationState.PENDING,
                )
                .values(state=NotificationState.SENDING, attempted_at=now)
            )
            if result.rowcount == 1:
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
        await self.connection.execute(
            update(escalation_notifications)
            .where(escalation_notifications.c.id == notification_id)
            .values(state=outcome, provider_id=provider_id, finished_at=now)
        )

    async def notifications_of(self, escalation_id: str) -> list[Notification]:
        rows = (
            await self.connection.execute(
                select(escalation_notifications)
                .where(escalation_notifications.c.escalation_id == escalation_id)
                .order_by(escalation_notifications.c.id)
            )
        ).all()
        return [Notification(r.id, r.escalation_id, r.route, r.channel, r.purpose, r.state) for r in rows]
