"""Appointments, looked up by id, manage code or the phone number's keyed hash, and the
phone numbers forgotten after the retention time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update

from server.adapters.db.booking.rows import BookingTables, appointment_from_row
from server.adapters.db.tables import appointment_texts, appointments
from server.domain.booking.appointments import Appointment, AppointmentState


class AppointmentQueries(BookingTables):
    async def insert_appointment(
        self, appointment: Appointment, busy_until: datetime, manage_hash: str, phone: str
    ) -> None:
        await self.connection.execute(
            insert(appointments).values(
                id=appointment.id,
                reference=appointment.reference,
                kind=appointment.kind,
                language=appointment.language,
                start_at=appointment.start,
                end_at=appointment.end,
                busy_until=busy_until,
                counsellor_id=appointment.counsellor_id,
                state=appointment.state.value,
                manage_hash=manage_hash,
                phone=self.cipher.encrypt(phone),
                phone_hash=self.phone_index(phone),
                conversation_id=appointment.conversation_id,
                created_at=appointment.created_at,
                version=appointment.version,
                interpreter_language=appointment.interpreter_language,
            )
        )

    async def reference_taken(self, reference: str) -> bool:
        row = (
            await self.connection.execute(
                select(appointments.c.id).where(appointments.c.reference == reference)
            )
        ).first()
        return row is not None

    async def get(self, appointment_id: str) -> Appointment | None:
        row = (
            await self.connection.execute(select(appointments).where(appointments.c.id == appointment_id))
        ).first()
        return appointment_from_row(row) if row else None

    async def by_manage_hash(self, manage_hash: str) -> Appointment | None:
        row = (
            await self.connection.execute(
                select(appointments).where(appointments.c.manage_hash == manage_hash)
            )
        ).first()
        return appointment_from_row(row) if row else None

    async def save(
        self,
        before: Appointment,
        after: Appointment,
        busy_until: datetime | None = None,
        manage_hash: str | None = None,
    ) -> bool:
        """Write a change only if nobody else changed the appointment since ``before`` was read."""
        values: dict[str, Any] = {
            "state": after.state.value,
            "start_at": after.start,
            "end_at": after.end,
            "counsellor_id": after.counsellor_id,
            "cancelled_at": after.cancelled_at,
            "cancelled_by": after.cancelled_by.value if after.cancelled_by else None,
            "version": after.version,
        }
        if busy_until is not None:
            values["busy_until"] = busy_until
        if manage_hash is not None:
            values["manage_hash"] = manage_hash
        result = await self.connection.execute(
            update(appointments)
            .where(appointments.c.id == before.id, appointments.c.version == before.version)
            .values(**values)
        )
        return result.rowcount == 1

    async def between(self, start: datetime, end: datetime) -> list[Appointment]:
        rows = (
            await self.connection.execute(
                select(appointments)
                .where(appointments.c.start_at < end, appointments.c.end_at > start)
                .order_by(appointments.c.start_at, appointments.c.reference)
            )
        ).all()
        return [appointment_from_row(row) for row in rows]

    async def many(self, ids: Iterable[str]) -> list[Appointment]:
        wanted = list(set(ids))
        if not wanted:
            return []
        rows = (
            await self.connection.execute(select(appointments).where(appointments.c.id.in_(wanted)))
        ).all()
        return [appointment_from_row(row) for row in rows]

    async def upcoming_for_phone(self, phone: str, now: datetime) -> list[Appointment]:
        rows = (
            await self.connection.execute(
                select(appointments)
                .where(
                    appointments.c.phone_hash == self.phone_index(phone),
                    appointments.c.state == AppointmentState.BOOKED.value,
                    appointments.c.start_at > now,
                )
                .order_by(appointments.c.start_at)
            )
        ).all()
        return [appointment_from_row(row) for row in rows]

    async def language_for_phone(self, phone: str) -> str | None:
        row = (
            await self.connection.execute(
                select(appointments.c.language)
                .where(appointments.c.phone_hash == self.phone_index(phone))
                .order_by(appointments.c.created_at.desc())
                .limit(1)
            )
        ).first()
        return str(row.language) if row else None

    async def phone_of(self, appointment_id: str) -> str | None:
        stored = (
            await self.connection.execute(
                select(appointments.c.phone).where(appointments.c.id == appointment_id)
            )
        ).scalar_one_or_none()
        return self.cipher.decrypt(stored) if stored else None

    async def forget_phones(self, ended_before: datetime) -> list[str]:
        """Delete phone numbers (and the texts' bodies) of appointments that ended before the cutoff."""
        ids = list(
            (
                await self.connection.execute(
                    select(appointments.c.id).where(
                        appointments.c.end_at < ended_before,
                        or_(appointments.c.phone.is_not(None), appointments.c.phone_hash.is_not(None)),
                    )
                )
            )
            .scalars()
            .all()
        )
        if ids:
            await self.connection.execute(
                update(appointments).where(appointments.c.id.in_(ids)).values(phone=None, phone_hash=None)
            )
            await self.connection.execute(
                update(appointment_texts).where(appointment_texts.c.appointment_id.in_(ids)).values(body=None)
            )
        return ids
