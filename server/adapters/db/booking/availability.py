"""Counsellors, their weekly availability and exceptions, and who is busy when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from server.adapters.db.booking.rows import BookingTables
from server.adapters.db.tables import appointments, booking_profiles, staff_users
from server.domain.booking.appointments import AppointmentState
from server.domain.booking.availability import Availability, availability_from_plain, availability_to_plain
from server.domain.booking.slots import Busy, Counsellor
from server.domain.staff import CHAT_ROLES


class AvailabilityQueries(BookingTables):
    def _counsellor_query(self) -> Any:
        return (
            select(
                staff_users.c.id,
                staff_users.c.languages,
                booking_profiles.c.weekly,
                booking_profiles.c.exceptions,
                booking_profiles.c.last_assignment,
            )
            .join(booking_profiles, booking_profiles.c.user_id == staff_users.c.id)
            .where(staff_users.c.active.is_(True), staff_users.c.role.in_([r.value for r in CHAT_ROLES]))
        )

    async def counsellors(self) -> list[Counsellor]:
        rows = (await self.connection.execute(self._counsellor_query())).all()
        return [
            Counsellor(
                row.id,
                availability_from_plain(row.languages, row.weekly, row.exceptions),
                row.last_assignment,
            )
            for row in rows
        ]

    async def lock_counsellor(self, user_id: int) -> None:
        """Serialise bookings for one counsellor (a row lock on PostgreSQL; SQLite has one writer)."""
        await self.connection.execute(
            select(booking_profiles.c.user_id).where(booking_profiles.c.user_id == user_id).with_for_update()
        )

    async def availability(self, user_id: int) -> Availability:
        row = (
            await self.connection.execute(
                select(staff_users.c.languages, booking_profiles.c.weekly, booking_profiles.c.exceptions)
                .select_from(staff_users)
                .outerjoin(booking_profiles, booking_profiles.c.user_id == staff_users.c.id)
                .where(staff_users.c.id == user_id)
            )
        ).first()
        if row is None:
            return Availability()
        return availability_from_plain(row.languages, row.weekly, row.exceptions)

    async def save_availability(self, user_id: int, availability: Availability, now: datetime) -> None:
        stored = availability_to_plain(availability)
        await self.connection.execute(
            update(staff_users).where(staff_users.c.id == user_id).values(languages=stored["languages"])
        )
        changed = await self.connection.execute(
            update(booking_profiles)
            .where(booking_profiles.c.user_id == user_id)
            .values(weekly=stored["weekly"], exceptions=stored["exceptions"], updated_at=now)
        )
        if changed.rowcount == 0:
            await self.connection.execute(
                insert(booking_profiles).values(
                    user_id=user_id,
                    weekly=stored["weekly"],
                    exceptions=stored["exceptions"],
                    last_assignment=0,
                    updated_at=now,
                )
            )

    async def mark_assigned(self, user_id: int) -> None:
        """Give the counsellor the next number in the round robin."""
        latest = select(func.coalesce(func.max(booking_profiles.c.last_assignment), 0)).scalar_subquery()
        await self.connection.execute(
            update(booking_profiles)
            .where(booking_profiles.c.user_id == user_id)
            .values(last_assignment=latest + 1)
        )

    async def busy(self, start: datetime, end: datetime, exclude: str | None = None) -> dict[int, list[Busy]]:
        query = select(
            appointments.c.counsellor_id, appointments.c.start_at, appointments.c.busy_until
        ).where(
            appointments.c.state == AppointmentState.BOOKED.value,
            appointments.c.start_at < end,
            appointments.c.busy_until > start,
        )
        if exclude is not None:
            query = query.where(appointments.c.id != exclude)
        result: dict[int, list[Busy]] = {}
        for row in (await self.connection.execute(query)).all():
            result.setdefault(row.counsellor_id, []).append(Busy(row.start_at, row.busy_until))
        return result
