"""A fake of SqlUnitOfWork (server/adapters/db/unit_of_work.py): one in-memory database whose
transactions behave like the real ones where the services depend on it."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from server.domain.conversations import Conversation
from server.domain.staff import Role, StaffUser
from server.services.ports.chat import Appended, AppendRequest, NewConversation, RelativeView
from tests.fakes.booking import FakeBookingRepository, FakeOutboxRepository
from tests.fakes.chat import FakeChatRepository
from tests.fakes.escalation import FakeEscalationRepository
from tests.fakes.records import FakeRecordRepository
from tests.fakes.retention import FakeRetentionRepository
from tests.fakes.staff import FakeStaffRepository
from tests.fakes.tables import Tables

SEEDED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FakeRepositories:
    chat: FakeChatRepository
    staff: FakeStaffRepository
    escalations: FakeEscalationRepository
    booking: FakeBookingRepository
    outbox: FakeOutboxRepository
    records: FakeRecordRepository
    retention: FakeRetentionRepository

    @classmethod
    def over(cls, tables: Tables) -> FakeRepositories:
        return cls(
            FakeChatRepository(tables),
            FakeStaffRepository(tables),
            FakeEscalationRepository(tables),
            FakeBookingRepository(tables),
            FakeOutboxRepository(tables),
            FakeRecordRepository(tables),
            FakeRetentionRepository(tables),
        )


class ReadOnlyViolation(AssertionError):
    """A read transaction changed something; the real reader connection would refuse."""


class FakeUnitOfWork:
    """``write()`` works on a copy of the tables and makes it the committed state on a clean exit
    only, so an exception (a DomainError from a rule) rolls everything back, as the real
    transaction does. Writers take turns, like SQLite's one writer; a reader sees the state
    committed when it began. The chat's fast paths run as ordinary transactions."""

    def __init__(self, tables: Tables | None = None) -> None:
        self.tables = tables if tables is not None else Tables()
        self._writer = asyncio.Lock()
        self.commits = 0

    @asynccontextmanager
    async def write(self) -> AsyncIterator[FakeRepositories]:
        async with self._writer:
            working = copy.deepcopy(self.tables)
            yield FakeRepositories.over(working)
            self.tables = working
            self.commits += 1

    @asynccontextmanager
    async def read(self) -> AsyncIterator[FakeRepositories]:
        committed = self.tables
        working = copy.deepcopy(committed)
        yield FakeRepositories.over(working)
        if working != committed:
            raise ReadOnlyViolation("a read transaction wrote")

    async def append_message(self, request: AppendRequest) -> Appended | None:
        async with self.write() as repositories:
            return await repositories.chat.append(request)

    async def start_conversation(self, new: NewConversation) -> None:
        async with self.write() as repositories:
            await repositories.chat.start(new)

    async def relative_view(self, token_hash: str, now: datetime, after_seq: int) -> RelativeView | None:
        async with self.read() as repositories:
            return await repositories.chat.relative_view(token_hash, now, after_seq)

    async def waiting(self) -> list[Conversation]:
        async with self.read() as repositories:
            return await repositories.chat.waiting()

    async def close(self) -> None:
        return None

    async def seed_staff(
        self, username: str, role: Role = Role.COUNSELLOR, route: str | None = None
    ) -> StaffUser:
        """A staff account stored directly, without AuthService's password hashing (slow on
        purpose); its display name is the username capitalised."""
        async with self.write() as repositories:
            user_id = await repositories.staff.add_user(
                username, username.capitalize(), "not-a-password-hash", role, SEEDED_AT, route
            )
            user = await repositories.staff.get_user(user_id)
        assert user is not None
        return user
