"""Texts whose fate is unknown or unreported, and the provider's reports about them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from server.adapters.db.booking.rows import BookingTables
from server.adapters.db.tables import appointment_texts, appointments
from server.domain.reminders import TextPurpose, TextState
from server.services.ports.texts import UnresolvedText


class ReconciliationQueries(BookingTables):
    async def mark_stale_unknown(self, stale_before: datetime, now: datetime) -> int:
        """A text claimed long ago and still 'sending' was interrupted (a crash, a kill): its outcome
        is unknown and it will be reconciled, never simply sent again."""
        result = await self.connection.execute(
            update(appointment_texts)
            .where(
                appointment_texts.c.state == TextState.SENDING.value,
                appointment_texts.c.claimed_at < stale_before,
            )
            .values(state=TextState.UNKNOWN.value, error_code="interrupted", updated_at=now)
        )
        return int(result.rowcount)

    async def unknown_texts(self, limit: int) -> list[UnresolvedText]:
        rows = (
            await self.connection.execute(
                select(
                    appointment_texts,
                    appointments.c.phone,
                    appointments.c.start_at.label("appointment_start"),
                )
                .join(appointments, appointments.c.id == appointment_texts.c.appointment_id)
                .where(appointment_texts.c.state == TextState.UNKNOWN.value)
                .order_by(appointment_texts.c.updated_at)
                .limit(limit)
            )
        ).all()
        return [self._unresolved(row) for row in rows]

    async def sent_awaiting_report(self, updated_before: datetime, limit: int) -> list[UnresolvedText]:
        rows = (
            await self.connection.execute(
                select(
                    appointment_texts,
                    appointments.c.phone,
                    appointments.c.start_at.label("appointment_start"),
                )
                .join(appointments, appointments.c.id == appointment_texts.c.appointment_id)
                .where(
                    appointment_texts.c.state == TextState.SENT.value,
                    appointment_texts.c.provider_id.is_not(None),
                    appointment_texts.c.updated_at < updated_before,
                    appointments.c.end_at > updated_before - timedelta(days=1),
                )
                .order_by(appointment_texts.c.updated_at)
                .limit(limit)
            )
        ).all()
        return [self._unresolved(row) for row in rows]

    def _unresolved(self, row: Any) -> UnresolvedText:
        return UnresolvedText(
            id=row.id,
            appointment_id=row.appointment_id,
            state=TextState(row.state),
            purpose=TextPurpose(row.purpose),
            claim_id=row.claim_id,
            claimed_at=row.claimed_at,
            attempts=row.attempts,
            provider_id=row.provider_id,
            phone=self.cipher.decrypt(row.phone) if row.phone else None,
            body=self.cipher.decrypt(row.body) if row.body else None,
            appointment_start=row.appointment_start,
        )

    async def touch_texts(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            await self.connection.execute(
                update(appointment_texts).where(appointment_texts.c.id.in_(list(ids))).values(updated_at=now)
            )

    async def text_for_report(
        self, provider_id: str, text_id: int | None
    ) -> tuple[int, str, TextState] | None:
        """The text a delivery report is about: by the provider's id, or by our id in the callback URL
        (a send whose answer was lost has no provider id stored yet)."""
        condition = appointment_texts.c.provider_id == provider_id
        if text_id is not None:
            condition = or_(condition, appointment_texts.c.id == text_id)
        row = (
            await self.connection.execute(
                select(appointment_texts.c.id, appointment_texts.c.appointment_id, appointment_texts.c.state)
                .where(condition)
                .order_by(appointment_texts.c.id)
                .limit(1)
            )
        ).first()
        return (row.id, row.appointment_id, TextState(row.state)) if row else None

    async def report(
        self,
        text_id: int,
        before: TextState,
        after: TextState,
        provider_id: str,
        error: str | None,
        now: datetime,
    ) -> bool:
        result = await self.connection.execute(
            update(appointment_texts)
            .where(appointment_texts.c.id == text_id, appointment_texts.c.state == before.value)
            .values(
                state=after.value,
                provider_id=provider_id,
                error_code=error[:32] if error else None,
                updated_at=now,
            )
        )
        return result.rowcount == 1
