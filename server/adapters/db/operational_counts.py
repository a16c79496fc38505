"""The OperationalCounts port: a few indexed counts for the metrics, read in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.adapters.db import tables
from server.adapters.db.engine import Database
from server.domain.conversations import State as ConversationState
from server.domain.escalation import State as EscalationState
from server.domain.reminders import TextPurpose, TextState
from server.services.ports.operations import Counts

# An escalation is open from its submission until it is closed (the metrics list the same states).
NOT_OPEN = (EscalationState.DRAFT.value, EscalationState.CLOSED_WITH_FEEDBACK.value)


class SqlOperationalCounts:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def counts(self, now: datetime, warn_before: datetime) -> Counts:
        conversations, texts, escalations = tables.conversations, tables.appointment_texts, tables.escalations
        awaiting_ack = and_(
            escalations.c.state == EscalationState.SENT.value, escalations.c.ack_deadline.is_not(None)
        )
        async with self.database.read() as connection:
            by_state = await _by_state(
                connection,
                select(conversations.c.state, func.count())
                .where(conversations.c.state.in_([ConversationState.WAITING, ConversationState.ACTIVE]))
                .group_by(conversations.c.state),
            )
            texts_by_state = await _by_state(
                connection, select(texts.c.state, func.count()).group_by(texts.c.state)
            )
            oldest_due = await connection.scalar(
                select(func.min(texts.c.due_at)).where(
                    texts.c.state == TextState.PENDING.value,
                    texts.c.purpose == TextPurpose.REMINDER.value,
                    texts.c.due_at <= now,
                )
            )
            open_by_state = await _by_state(
                connection,
                select(escalations.c.state, func.count())
                .where(escalations.c.state.not_in(NOT_OPEN))
                .group_by(escalations.c.state),
            )
            near = await connection.scalar(
                select(func.count()).where(
                    awaiting_ack, escalations.c.ack_deadline >= now, escalations.c.ack_deadline < warn_before
                )
            )
            missed = await connection.scalar(
                select(func.count()).where(awaiting_ack, escalations.c.ack_deadline < now)
            )
        return Counts(
            waiting=by_state.get(ConversationState.WAITING.value, 0),
            active=by_state.get(ConversationState.ACTIVE.value, 0),
            texts_by_state=texts_by_state,
            oldest_due_reminder=oldest_due,
            escalations_open=open_by_state,
            escalations_near_deadline=int(near or 0),
            escalations_deadline_missed=int(missed or 0),
        )


async def _by_state(connection: AsyncConnection, statement: Select[Any]) -> dict[str, int]:
    return {str(row[0]): int(row[1]) for row in await connection.execute(statement)}
