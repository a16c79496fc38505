"""Fifty relatives press "book" for the last free place at once: exactly one gets it, every other
one gets ``slot_taken``, and nothing is double-booked. Repeated, for a counsellor's last slot and
for a group session's last seat. (tests/e2e/test_booking_http.py does the same over HTTP against a
real server process.)"""

from __future__ import annotations

import asyncio

import pytest

from server.domain.errors import Conflict
from tests.support.booking import PHONE, World, add_counsellor, build_world, local

CONTENDERS = 50
ROUNDS = 5


@pytest.fixture
def world(database, data_key, clock, chat) -> World:
    return build_world(database, data_key, clock, chat)


async def contend(world: World, kind: str, start) -> tuple[list, list[str]]:
    results = await asyncio.gather(
        *(world.booking.book(kind, start, "sv", PHONE) for _ in range(CONTENDERS)), return_exceptions=True
    )
    booked = [r for r in results if not isinstance(r, BaseException)]
    refusals = [r.code for r in results if isinstance(r, Conflict)]
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict)]
    assert unexpected == []
    return booked, refusals


@pytest.mark.parametrize("round_number", range(ROUNDS))
async def test_fifty_at_once_for_a_counsellors_last_slot(world, auth, round_number):
    await add_counsellor(world, auth, "alice")
    start = local(27 + round_number % 3, 9 + round_number)
    booked, refusals = await contend(world, "phone", start)
    assert len(booked) == 1
    assert refusals == ["slot_taken"] * (CONTENDERS - 1)
    views = await world.booking.staff_appointments_by_id([booked[0].appointment.id])
    assert len(views) == 1
    assert start not in [
        s.start for s in await world.booking.slots("phone", "sv", start, start.replace(hour=23))
    ]


@pytest.mark.parametrize("round_number", range(ROUNDS))
async def test_fifty_at_once_for_a_group_sessions_last_seat(world, auth, round_number):
    await add_counsellor(world, auth, "alice")
    await add_counsellor(world, auth, "bob")
    start = local(3 + 7 * (round_number % 3), 18, month=12)
    for _ in range(2):
        await world.booking.book("group", start, "sv", PHONE)
    booked, refusals = await contend(world, "group", start)
    assert len(booked) == 1
    assert refusals == ["slot_taken"] * (CONTENDERS - 1)
    async with world.uow.read() as repos:
        appointments = await repos.booking.between(start, start.replace(hour=23))
    assert len([a for a in appointments if a.start == start]) == 3
    assert len({a.counsellor_id for a in appointments}) == 1
