"""Seats in group sessions, taken and released with one conditional statement each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from server.adapters.db.booking.rows import BookingTables, insert_ignoring_conflicts
from server.adapters.db.tables import group_sessions
from server.domain.booking.slots import GroupSession


class SeatQueries(BookingTables):
    async def group_sessions(self, kind: str, start: datetime, end: datetime) -> dict[datetime, GroupSession]:
        rows = (
            await self.connection.execute(
                select(group_sessions).where(
                    group_sessions.c.kind == kind,
                    group_sessions.c.start_at >= start,
                    group_sessions.c.start_at < end,
                    group_sessions.c.seats_taken > 0,
                )
            )
        ).all()
        return {
            row.start_at: GroupSession(row.kind, row.start_at, row.counsellor_id, row.seats_taken)
            for row in rows
        }

    async def take_group_seat(self, kind: str, start: datetime, host_id: int, seats: int) -> int | None:
        """One seat with one conditional UPDATE; the session (and its host) is created by the first
        booking. Returns the host's id, or None when the session is full."""
        await self.connection.execute(
            insert_ignoring_conflicts(
                self.connection,
                group_sessions,
                kind=kind,
                start_at=start,
                counsellor_id=host_id,
                seats_taken=0,
            )
        )
        await self.connection.execute(
            update(group_sessions)
            .where(
                group_sessions.c.kind == kind,
                group_sessions.c.start_at == start,
                group_sessions.c.seats_taken == 0,
            )
            .values(counsellor_id=host_id)
        )
        row = (
            await self.connection.execute(
                update(group_sessions)
                .where(
                    group_sessions.c.kind == kind,
                    group_sessions.c.start_at == start,
                    group_sessions.c.seats_taken < seats,
                )
                .values(seats_taken=group_sessions.c.seats_taken + 1)
                .returning(group_sessions.c.counsellor_id)
            )
        ).first()
        return int(row.counsellor_id) if row else None

    async def release_group_seat(self, kind: str, start: datetime) -> None:
        await self.connection.execute(
            update(group_sessions)
            .where(
                group_sessions.c.kind == kind,
                group_sessions.c.start_at == start,
                group_sessions.c.seats_taken > 0,
            )
            .values(seats_taken=group_sessions.c.seats_taken - 1)
        )
