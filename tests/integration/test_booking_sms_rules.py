"""The text service on a real SQLite file against Twilio's rules: a throttled send waits for its
backoff (the sweep does not send it sooner) and does not use up an attempt; a send refused with
21610 opts the number out and withdraws its texts on every appointment booked with it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.domain.reminders import TextPurpose, TextState
from tests.support.booking import OTHER_PHONE, PHONE, World, add_counsellor, build_world, local


@pytest.fixture
def world(database, data_key, clock, chat) -> World:
    return build_world(database, data_key, clock, chat)


async def texts(world: World, appointment_id: str):
    async with world.uow.read() as repos:
        return (await repos.booking.texts_for([appointment_id]))[appointment_id]


async def test_a_throttled_text_waits_for_its_backoff_and_keeps_its_attempts(world, auth, clock):
    await add_counsellor(world, auth, "alice")
    world.gateway.script("throttle", "throttle")
    booked = await world.booking.book("phone", local(28, 13), "sv", PHONE)
    await world.texts.drain()
    [confirmation, *_] = await texts(world, booked.appointment.id)
    assert (confirmation.state, confirmation.attempts, confirmation.error_code) == (
        TextState.PENDING,
        0,
        None,
    )

    await world.texts.sweep()
    assert world.gateway.attempts == 1, "sent again before Retry-After"
    clock.advance(timedelta(seconds=5))
    await world.texts.sweep()
    assert world.gateway.attempts == 2
    clock.advance(timedelta(seconds=4))
    await world.texts.sweep()
    assert world.gateway.attempts == 2, "the second wait is max(backoff 4 s, Retry-After 5 s)"
    clock.advance(timedelta(seconds=1))
    await world.texts.sweep()

    [confirmation, *_] = await texts(world, booked.appointment.id)
    assert (confirmation.state, confirmation.attempts) == (TextState.SENT, 1)
    assert len(world.gateway.to(PHONE)) == 1


async def test_21610_opts_the_number_out_across_its_appointments(world, auth, clock):
    await add_counsellor(world, auth, "alice")
    first = await world.booking.book("phone", local(28, 13), "sv", PHONE)
    other = await world.booking.book("phone", local(28, 15), "sv", OTHER_PHONE)
    await world.texts.drain()
    world.gateway.script("opted_out")
    second = await world.booking.book("phone", local(29, 13), "sv", PHONE)
    await world.texts.drain()

    confirmation = (await texts(world, second.appointment.id))[0]
    assert (confirmation.purpose, confirmation.state, confirmation.error_code) == (
        TextPurpose.CONFIRMATION,
        TextState.SUPPRESSED,
        "21610",
    )
    for appointment in (first, second):
        reminders = [
            t for t in await texts(world, appointment.appointment.id) if t.purpose is TextPurpose.REMINDER
        ]
        assert reminders and all(
            (t.state, t.error_code) == (TextState.SUPPRESSED, "opted_out") for t in reminders
        )
    assert all(
        t.state is TextState.PENDING
        for t in await texts(world, other.appointment.id)
        if t.purpose is TextPurpose.REMINDER
    )
    clock.advance(local(28, 12) - clock.now)
    await world.texts.sweep()
    assert [s.body[:6] for s in world.gateway.to(PHONE)] == ["Bokat:"]
