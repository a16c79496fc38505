"""Booking on a real PostgreSQL, where transactions really run side by side (twenty pooled
connections): fifty bookings at once for a counsellor's last slot or a group's last seat leave
exactly one, and two sweepers at once send every due text exactly once."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.migrate import upgrade
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.errors import Conflict
from server.services.auth import AuthService, SessionPolicy
from server.services.chat import ChatService
from tests.integration.wiring import T0, ManualClock, RecordingBus, chat_policy
from tests.support.booking import PHONE, ScriptedGateway, World, add_counsellor, build_world, local
from tests.support.services import postgres_server

CONTENDERS = 50


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        upgrade(url)
        yield url


@dataclass
class Postgres:
    database: Database
    key: bytes
    clock: ManualClock
    chat: ChatService
    auth: AuthService

    def world(self, gateway: ScriptedGateway | None = None) -> World:
        return build_world(self.database, self.key, self.clock, self.chat, gateway)


@pytest.fixture(scope="module")
def key() -> bytes:
    """One data key for the module's database, as a deployment has one."""
    return os.urandom(32)


@pytest.fixture
async def pg(postgres_url: str, key: bytes) -> AsyncIterator[Postgres]:
    database = Database(postgres_url)
    clock = ManualClock(T0)
    uow = SqlUnitOfWork(database, DataCiphers.from_key(key))
    policy = SessionPolicy(timedelta(minutes=30), timedelta(hours=10), 3)
    yield Postgres(
        database,
        key,
        clock,
        ChatService(uow, RecordingBus(), clock, chat_policy()),
        AuthService(uow, RecordingBus(), clock, policy, uow.ciphers.totp),
    )
    await uow.close()
    await database.dispose()


async def contend(world: World, kind: str, start) -> tuple[int, list[str]]:
    results = await asyncio.gather(
        *(world.booking.book(kind, start, "sv", PHONE) for _ in range(CONTENDERS)), return_exceptions=True
    )
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict)]
    assert unexpected == []
    return sum(1 for r in results if not isinstance(r, BaseException)), [
        r.code for r in results if isinstance(r, Conflict)
    ]


async def test_fifty_at_once_on_postgresql_leave_exactly_one(pg: Postgres):
    world = pg.world()
    await add_counsellor(world, pg.auth, "pg-contention-a")
    await add_counsellor(world, pg.auth, "pg-contention-b")
    for hour in (9, 11, 13):
        start = local(27, hour)
        await world.booking.book("phone", start, "sv", PHONE)  # one of the two counsellors is taken
        booked, refused = await contend(world, "phone", start)
        assert booked == 1 and refused == ["slot_taken"] * (CONTENDERS - 1), (hour, booked)
    for week in (0, 1):
        start = local(3 + 7 * week, 18, month=12)
        for _ in range(2):
            await world.booking.book("group", start, "sv", PHONE)
        booked, refused = await contend(world, "group", start)
        assert booked == 1 and refused == ["slot_taken"] * (CONTENDERS - 1), (week, booked)


async def test_two_sweepers_on_postgresql_send_each_text_once(pg: Postgres):
    world = pg.world()
    other = pg.world(world.gateway)
    await add_counsellor(world, pg.auth, "pg-sweeper")
    numbers = [f"+4670174064{i}" for i in range(8)]
    for i, number in enumerate(numbers):
        await world.booking.book("phone", local(29, 9 + i), "sv", number)
    await world.texts.drain()
    pg.clock.advance(local(28, 17) - pg.clock.now)
    await asyncio.gather(*(w.texts.sweep() for w in (world, other, world, other)))
    reminders = [s.to for s in world.gateway.accepted if s.body.startswith("Påminnelse") and s.to in numbers]
    assert sorted(reminders) == sorted(numbers)
