"""Numbers that opted out (by keyed hash), and inbound messages already seen."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import and_, delete, select, update

from server.adapters.db.booking.rows import BookingTables, insert_ignoring_conflicts
from server.adapters.db.tables import appointment_texts, appointments, sms_inbound_seen, sms_opt_outs
from server.domain.reminders import TextState


class OptOutQueries(BookingTables):
    async def opt_out(self, phone: str, now: datetime) -> list[str]:
        return await self._opt_out_hash(self.phone_index(phone), now)

    async def opt_out_number_of(self, appointment_id: str, now: datetime) -> list[str]:
        """Opt out the number an appointment was booked with (the provider says it opted out)."""
        phone_hash = (
            await self.connection.execute(
                select(appointments.c.phone_hash).where(appointments.c.id == appointment_id)
            )
        ).scalar_one_or_none()
        return await self._opt_out_hash(phone_hash, now) if phone_hash else []

    async def _opt_out_hash(self, phone_hash: str, now: datetime) -> list[str]:
        """Record the opt-out and withdraw every pending text to the number at once (``suppressed``,
        ``opted_out``); returns the appointments whose texts changed."""
        await self.connection.execute(
            insert_ignoring_conflicts(self.connection, sms_opt_outs, phone_hash=phone_hash, created_at=now)
        )
        of_number = select(appointments.c.id).where(appointments.c.phone_hash == phone_hash)
        pending = and_(
            appointment_texts.c.appointment_id.in_(of_number),
            appointment_texts.c.state == TextState.PENDING.value,
        )
        changed = list(
            (
                await self.connection.execute(
                    select(appointment_texts.c.appointment_id).where(pending).distinct()
                )
            )
            .scalars()
            .all()
        )
        if changed:
            await self.connection.execute(
                update(appointment_texts)
                .where(pending)
                .values(state=TextState.SUPPRESSED.value, error_code="opted_out", updated_at=now)
            )
        return changed

    async def opt_in(self, phone: str) -> bool:
        result = await self.connection.execute(
            delete(sms_opt_outs).where(sms_opt_outs.c.phone_hash == self.phone_index(phone))
        )
        return result.rowcount == 1

    async def is_opted_out(self, phone: str) -> bool:
        row = (
            await self.connection.execute(
                select(sms_opt_outs.c.phone_hash).where(sms_opt_outs.c.phone_hash == self.phone_index(phone))
            )
        ).first()
        return row is not None

    async def first_delivery(self, message_id: str, now: datetime) -> bool:
        """True the first time an inbound message id is seen; a replayed webhook gets False. The
        hashes are kept for good: a reply acts on the number's next appointment, whenever that is,
        so no window after which a signed replay is harmless exists."""
        digest = hashlib.sha256(message_id.encode()).hexdigest()
        result = await self.connection.execute(
            insert_ignoring_conflicts(self.connection, sms_inbound_seen, message_hash=digest, received_at=now)
        )
        return result.rowcount == 1
