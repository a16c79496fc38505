"""Booking's port: counsellors' availability, group seats, appointments and offered times.
The texts about appointments are in ``texts``; the booking repository holds both."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from server.domain.booking.appointments import Appointment
from server.domain.booking.availability import Availability
from server.domain.booking.slots import Busy, Counsellor, GroupSession
from server.domain.conversations import Conversation
from server.services.ports.texts import TextRepository


@dataclass(frozen=True)
class SlotOffer:
    id: int
    conversation_id: str
    counsellor_id: int
    kind: str
    starts: list[str]
    created_at: datetime


class BookingRepository(TextRepository, Protocol):
    async def counsellors(self) -> list[Counsellor]: ...

    async def lock_counsellor(self, user_id: int) -> None:
        """Serialise bookings for one counsellor (a row lock on PostgreSQL; SQLite has one writer)."""
        ...

    async def availability(self, user_id: int) -> Availability: ...

    async def save_availability(self, user_id: int, availability: Availability, now: datetime) -> None: ...

    async def mark_assigned(self, user_id: int) -> None:
        """Give the counsellor the next number in the round robin."""
        ...

    async def busy(
        self, start: datetime, end: datetime, exclude: str | None = None
    ) -> dict[int, list[Busy]]: ...

    async def group_sessions(
        self, kind: str, start: datetime, end: datetime
    ) -> dict[datetime, GroupSession]: ...

    async def take_group_seat(self, kind: str, start: datetime, host_id: int, seats: int) -> int | None:
        """One seat with one conditional UPDATE; the session (and its host) is created by the first
        booking. Returns the host's id, or None when the session is full."""
        ...

    async def release_group_seat(self, kind: str, start: datetime) -> None: ...

    async def insert_appointment(
        self, appointment: Appointment, busy_until: datetime, manage_hash: str, phone: str
    ) -> None: ...

    async def reference_taken(self, reference: str) -> bool: ...

    async def get(self, appointment_id: str) -> Appointment | None: ...

    async def by_manage_hash(self, manage_hash: str) -> Appointment | None: ...

    async def save(
        self,
        before: Appointment,
        after: Appointment,
        busy_until: datetime | None = None,
        manage_hash: str | None = None,
    ) -> bool:
        """Write a change only if nobody else changed the appointment since ``before`` was read."""
        ...

    async def between(self, start: datetime, end: datetime) -> list[Appointment]: ...

    async def many(self, ids: Iterable[str]) -> list[Appointment]: ...

    async def upcoming_for_phone(self, phone: str, now: datetime) -> list[Appointment]: ...

    async def language_for_phone(self, phone: str) -> str | None: ...

    async def phone_of(self, appointment_id: str) -> str | None: ...

    async def add_offer(
        self, conversation_id: str, counsellor_id: int, kind: str, starts: Sequence[datetime], now: datetime
    ) -> None: ...

    async def latest_offer(self, conversation_id: str) -> SlotOffer | None: ...


class Conversations(Protocol):
    """What booking needs from the chat: who holds a token, and a way to speak into a chat."""

    async def authenticate_relative(self, token: str) -> Conversation: ...

    async def post_bot_message(self, conversation_id: str, text: str) -> object: ...

    async def held_by(self, counsellor_id: int) -> list[tuple[Conversation, int]]: ...
