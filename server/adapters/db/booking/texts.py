"""The texts about appointments: planned, claimed with one conditional UPDATE before they are
sent, settled, and shown to staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import BindParameter, and_, bindparam, case, func, insert, or_, select, update

from server.adapters.db.booking.rows import BookingTables
from server.adapters.db.tables import appointment_texts, appointments, sms_opt_outs
from server.domain.booking.appointments import AppointmentState
from server.domain.reminders import DueText, Outcome, TextPurpose, TextState
from server.services.ports.texts import ClaimedText, TextView


class TextQueries(BookingTables):
    async def add_texts(
        self,
        appointment_id: str,
        texts: Sequence[tuple[TextPurpose, timedelta | None, datetime]],
        now: datetime,
    ) -> list[int]:
        ids = []
        for purpose, offset, due_at in texts:
            ids.append(
                int(
                    (
                        await self.connection.execute(
                            insert(appointment_texts)
                            .values(
                                appointment_id=appointment_id,
                                purpose=purpose.value,
                                offset_seconds=int(offset.total_seconds()) if offset is not None else None,
                                due_at=due_at,
                                state=TextState.PENDING.value,
                                attempts=0,
                                updated_at=now,
                            )
                            .returning(appointment_texts.c.id)
                        )
                    ).scalar_one()
                )
            )
        return ids

    async def withdraw_pending_reminders(self, appointment_id: str, now: datetime) -> int:
        result = await self.connection.execute(
            update(appointment_texts)
            .where(
                appointment_texts.c.appointment_id == appointment_id,
                appointment_texts.c.purpose == TextPurpose.REMINDER.value,
                appointment_texts.c.state == TextState.PENDING.value,
            )
            .values(state=TextState.WITHDRAWN.value, updated_at=now)
        )
        return int(result.rowcount)

    async def due_texts(self, now: datetime, limit: int, only: Sequence[int] | None = None) -> list[DueText]:
        query = (
            select(
                appointment_texts.c.id,
                appointment_texts.c.appointment_id,
                appointment_texts.c.purpose,
                appointment_texts.c.due_at,
                appointments.c.start_at,
                appointments.c.state,
            )
            .join(appointments, appointments.c.id == appointment_texts.c.appointment_id)
            .where(
                appointment_texts.c.state == TextState.PENDING.value,
                appointment_texts.c.due_at <= now,
                or_(appointment_texts.c.retry_at.is_(None), appointment_texts.c.retry_at <= now),
            )
            .order_by(appointment_texts.c.due_at, appointment_texts.c.id)
            .limit(limit)
        )
        if only is not None:
            query = query.where(appointment_texts.c.id.in_(list(only)))
        rows = (await self.connection.execute(query)).all()
        return [
            DueText(
                id=row.id,
                appointment_id=row.appointment_id,
                purpose=TextPurpose(row.purpose),
                due_at=row.due_at,
                appointment_start=row.start_at,
                appointment_booked=row.state == AppointmentState.BOOKED.value,
            )
            for row in rows
        ]

    async def move_texts(
        self, ids: Sequence[int], from_state: TextState, to_state: TextState, now: datetime
    ) -> int:
        if not ids:
            return 0
        result = await self.connection.execute(
            update(appointment_texts)
            .where(appointment_texts.c.id.in_(list(ids)), appointment_texts.c.state == from_state.value)
            .values(state=to_state.value, updated_at=now)
        )
        return int(result.rowcount)

    async def claim(self, ids: Sequence[int], claim_id: str, now: datetime) -> int:
        """The one conditional UPDATE that makes a text ours to send: only rows still pending move,
        so a second sweeper (another process, or this one after a restart) claims nothing twice."""
        if not ids:
            return 0
        result = await self.connection.execute(
            update(appointment_texts)
            .where(
                appointment_texts.c.id.in_(list(ids)), appointment_texts.c.state == TextState.PENDING.value
            )
            .values(
                state=TextState.SENDING.value,
                claim_id=claim_id,
                claimed_at=now,
                attempts=appointment_texts.c.attempts + 1,
                updated_at=now,
            )
        )
        return int(result.rowcount)

    async def claimed(self, claim_id: str) -> list[ClaimedText]:
        rows = (
            await self.connection.execute(
                select(
                    appointment_texts.c.id,
                    appointment_texts.c.appointment_id,
                    appointment_texts.c.purpose,
                    appointment_texts.c.attempts,
                    appointment_texts.c.throttled,
                    appointments.c.kind,
                    appointments.c.language,
                    appointments.c.start_at,
                    appointments.c.phone,
                    sms_opt_outs.c.phone_hash.label("opted_out"),
                )
                .join(appointments, appointments.c.id == appointment_texts.c.appointment_id)
                .outerjoin(sms_opt_outs, sms_opt_outs.c.phone_hash == appointments.c.phone_hash)
                .where(
                    appointment_texts.c.claim_id == claim_id,
                    appointment_texts.c.state == TextState.SENDING.value,
                )
                .order_by(appointment_texts.c.id)
            )
        ).all()
        return [
            ClaimedText(
                id=row.id,
                appointment_id=row.appointment_id,
                purpose=TextPurpose(row.purpose),
                kind=row.kind,
                language=row.language,
                start=row.start_at,
                phone=self.cipher.decrypt(row.phone) if row.phone else None,
                opted_out=row.opted_out is not None,
                attempts=row.attempts,
                throttled=row.throttled,
            )
            for row in rows
        ]

    async def store_bodies(self, bodies: Sequence[tuple[int, str]]) -> None:
        """Keep what is about to be sent (encrypted), so a send with an unknown outcome can be
        looked for at the provider. One statement for the whole batch."""
        if not bodies:
            return
        await self.connection.execute(
            update(appointment_texts)
            .where(appointment_texts.c.id == bindparam("text_id"))
            .values(body=bindparam("encrypted")),
            [{"text_id": text_id, "encrypted": self.cipher.encrypt(body)} for text_id, body in bodies],
        )

    async def settle(
        self,
        outcomes: Sequence[Outcome],
        from_states: Sequence[TextState],
        now: datetime,
        claim_id: str | None = None,
    ) -> int:
        """Record outcomes for texts still in one of ``from_states`` (and, for a sender, still under
        its own claim); a text that meanwhile moved on, say by a delivery report, keeps its state.
        A missing provider id or error code keeps the stored one. One statement for the batch."""
        if not outcomes:
            return 0
        texts = appointment_texts.c
        condition = and_(
            texts.id == bindparam("text_id"), or_(*(texts.state == s.value for s in from_states))
        )
        if claim_id is not None:
            condition = and_(condition, texts.claim_id == claim_id)
        new_state: BindParameter[str] = bindparam("new_state")
        statement = (
            update(appointment_texts)
            .where(condition)
            .values(
                state=new_state,
                updated_at=now,
                provider_id=func.coalesce(bindparam("provider_id"), texts.provider_id),
                error_code=func.coalesce(bindparam("error_code"), texts.error_code),
                claim_id=case((new_state == TextState.PENDING.value, None), else_=texts.claim_id),
            )
        )
        result = await self.connection.execute(
            statement,
            [
                {
                    "text_id": outcome.text_id,
                    "new_state": outcome.state.value,
                    "provider_id": outcome.provider_id,
                    "error_code": outcome.error_code[:32] if outcome.error_code else None,
                }
                for outcome in outcomes
            ],
        )
        return int(result.rowcount)

    async def throttled(self, retries: Sequence[tuple[int, datetime]], claim_id: str, now: datetime) -> int:
        """Put texts the provider throttled (never processed) back to pending until ``retry_at``; the
        claim's attempt is given back, so throttling never uses up the attempts for unknown outcomes."""
        if not retries:
            return 0
        texts = appointment_texts.c
        result = await self.connection.execute(
            update(appointment_texts)
            .where(
                texts.id == bindparam("text_id"),
                texts.state == TextState.SENDING.value,
                texts.claim_id == claim_id,
            )
            .values(
                state=TextState.PENDING.value,
                retry_at=bindparam("retry"),
                throttled=texts.throttled + 1,
                attempts=texts.attempts - 1,
                claim_id=None,
                updated_at=now,
            ),
            [{"text_id": text_id, "retry": retry_at} for text_id, retry_at in retries],
        )
        return int(result.rowcount)

    async def texts_for(self, appointment_ids: Sequence[str]) -> dict[str, list[TextView]]:
        result: dict[str, list[TextView]] = {appointment_id: [] for appointment_id in appointment_ids}
        if not appointment_ids:
            return result
        rows = (
            await self.connection.execute(
                select(appointment_texts)
                .where(appointment_texts.c.appointment_id.in_(list(appointment_ids)))
                .order_by(appointment_texts.c.due_at, appointment_texts.c.id)
            )
        ).all()
        for row in rows:
            result[row.appointment_id].append(
                TextView(
                    id=row.id,
                    appointment_id=row.appointment_id,
                    purpose=TextPurpose(row.purpose),
                    offset_seconds=row.offset_seconds,
                    due_at=row.due_at,
                    state=TextState(row.state),
                    attempts=row.attempts,
                    error_code=row.error_code,
                    updated_at=row.updated_at,
                )
            )
        return result

    async def count_texts_by_state(self) -> dict[str, int]:
        rows = (
            await self.connection.execute(
                select(appointment_texts.c.state, func.count()).group_by(appointment_texts.c.state)
            )
        ).all()
        return {row[0]: row[1] for row in rows}
