"""The reminder sweep on a real SQLite file: due texts go out once, even with two sweepers; late
ones still go before the appointment, past ones are missed; unknown outcomes are reconciled with
the provider and never resent blindly; opted-out numbers get nothing; delivery reports only move
a text forward."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from server.domain.reminders import TextPurpose, TextState
from tests.integration.wiring import ManualClock
from tests.support.booking import (
    OTHER_PHONE,
    PHONE,
    ScriptedGateway,
    World,
    add_counsellor,
    build_world,
    local,
)


@pytest.fixture
def world(database, data_key, clock, chat) -> World:
    return build_world(database, data_key, clock, chat)


async def states(world: World, appointment_id: str) -> list[tuple[TextPurpose, TextState]]:
    async with world.uow.read() as repos:
        texts = (await repos.booking.texts_for([appointment_id]))[appointment_id]
    return [(t.purpose, t.state) for t in texts]


async def book(world: World, auth, hour: int = 13, day: int = 28, phone: str = PHONE):
    if not hasattr(world, "_counsellor"):
        world._counsellor = await add_counsellor(world, auth, "alice")  # type: ignore[attr-defined]
    booked = await world.booking.book("phone", local(day, hour), "sv", phone)
    await world.texts.drain()
    return booked


async def test_a_due_reminder_goes_out_once_across_two_sweepers(world, auth, database, data_key, clock, chat):
    booked = [await book(world, auth, hour, phone=f"+4670174060{hour % 10}") for hour in (9, 11, 13, 15, 17)]
    second = build_world(database, data_key, clock, chat, gateway=world.gateway)
    clock.advance(local(27, 17) - clock.now)  # every 24 h reminder is due

    await asyncio.gather(world.texts.sweep(), second.texts.sweep(), world.texts.sweep(), second.texts.sweep())

    reminders = [s for s in world.gateway.accepted if s.body.startswith("Påminnelse")]
    assert sorted(s.to for s in reminders) == sorted(
        f"+4670174060{hour % 10}" for hour in (9, 11, 13, 15, 17)
    )
    for item in booked:
        assert (TextPurpose.REMINDER, TextState.SENT) in await states(world, item.appointment.id)
    await world.texts.sweep()
    assert len([s for s in world.gateway.accepted if s.body.startswith("Påminnelse")]) == 5


async def test_after_downtime_the_latest_reminder_goes_late_and_past_ones_are_missed(world, auth, clock):
    soon = await book(world, auth, 15, day=27)
    later = await book(world, auth, 13, day=28, phone=OTHER_PHONE)
    clock.advance(local(27, 13, 30) - clock.now)  # both of soon's reminders and later's 24 h are overdue

    await world.texts.sweep()

    assert await states(world, soon.appointment.id) == [
        (TextPurpose.CONFIRMATION, TextState.SENT),
        (TextPurpose.REMINDER, TextState.SUPERSEDED),
        (TextPurpose.REMINDER, TextState.SENT),
    ]
    assert len(world.gateway.to(PHONE)) == 2
    assert (TextPurpose.REMINDER, TextState.SENT) in await states(world, later.appointment.id)
    clock.advance(local(28, 14) - clock.now)  # later's appointment has begun; its 2 h reminder never went
    await world.texts.sweep()
    assert await states(world, later.appointment.id) == [
        (TextPurpose.CONFIRMATION, TextState.SENT),
        (TextPurpose.REMINDER, TextState.SENT),
        (TextPurpose.REMINDER, TextState.MISSED),
    ]


async def test_cancelled_appointments_get_no_reminders(world, auth, clock):
    booked = await book(world, auth)
    await world.booking.cancel_with_code(booked.manage_code)
    await world.texts.drain()
    clock.advance(local(28, 12) - clock.now)
    await world.texts.sweep()
    assert [s.body.split(":")[0] for s in world.gateway.accepted] == ["Bokat", "Avbokat"]


async def test_an_opted_out_number_gets_nothing(world, auth, clock):
    await world.booking.opt_out(PHONE)
    booked = await book(world, auth)
    clock.advance(local(28, 12) - clock.now)
    await world.texts.sweep()
    await world.booking.cancel_with_code(booked.manage_code)
    await world.texts.drain()
    assert world.gateway.accepted == []
    assert set(await states(world, booked.appointment.id)) == {
        (TextPurpose.CONFIRMATION, TextState.SUPPRESSED),
        (TextPurpose.REMINDER, TextState.SUPPRESSED),
        (TextPurpose.REMINDER, TextState.SUPERSEDED),
        (TextPurpose.CANCELLATION, TextState.SUPPRESSED),
    }


async def test_a_lost_answer_is_reconciled_not_resent(world, auth, clock: ManualClock):
    world.gateway.script("lost")
    booked = await book(world, auth)
    assert await states(world, booked.appointment.id) == [
        (TextPurpose.CONFIRMATION, TextState.UNKNOWN),
        (TextPurpose.REMINDER, TextState.PENDING),
        (TextPurpose.REMINDER, TextState.PENDING),
    ]
    await world.texts.sweep()
    assert (await states(world, booked.appointment.id))[0] == (TextPurpose.CONFIRMATION, TextState.SENT)
    assert world.gateway.attempts == 1 and len(world.gateway.accepted) == 1
    async with world.uow.read() as repos:
        texts = (await repos.booking.texts_for([booked.appointment.id]))[booked.appointment.id]
    assert texts[0].attempts == 1


async def test_a_send_the_provider_never_got_is_retried_only_after_the_grace_period(world, auth, clock):
    world.gateway.script("unknown")
    booked = await book(world, auth)
    await world.texts.sweep()
    assert world.gateway.searches == 1 and world.gateway.accepted == []
    assert (await states(world, booked.appointment.id))[0] == (TextPurpose.CONFIRMATION, TextState.UNKNOWN)

    clock.advance(timedelta(minutes=3))
    await world.texts.sweep()
    assert [s.body.split(":")[0] for s in world.gateway.accepted] == ["Bokat"]
    assert (await states(world, booked.appointment.id))[0] == (TextPurpose.CONFIRMATION, TextState.SENT)
    await world.texts.sweep()
    assert len(world.gateway.accepted) == 1


async def test_a_refused_text_is_flagged_failed_and_not_retried(world, auth, clock):
    world.gateway.script("refuse")
    booked = await book(world, auth)
    clock.advance(timedelta(minutes=10))
    await world.texts.sweep()
    assert world.gateway.attempts == 1
    assert (await states(world, booked.appointment.id))[0] == (TextPurpose.CONFIRMATION, TextState.FAILED)
    [view] = await world.booking.staff_appointments_by_id([booked.appointment.id])
    assert view.texts[0].error_code == "21211"


async def test_a_hung_send_times_out_as_unknown_and_is_found_later(database, data_key, clock, chat, auth):
    gateway = ScriptedGateway()
    world = build_world(
        database, data_key, clock, chat, gateway=gateway, send_timeout=timedelta(milliseconds=200)
    )
    gateway.script("hang")
    booked = await book(world, auth)
    assert (await states(world, booked.appointment.id))[0] == (TextPurpose.CONFIRMATION, TextState.UNKNOWN)
    clock.advance(timedelta(minutes=3))
    await world.texts.sweep()
    assert (await states(world, booked.appointment.id))[0] == (TextPurpose.CONFIRMATION, TextState.SENT)
    assert len(gateway.accepted) == 1


async def test_a_claim_that_was_never_settled_counts_as_interrupted(world, auth, clock):
    """What a kill -9 between claim and settle leaves behind: a text stuck in 'sending'."""
    booked = await book(world, auth)
    clock.advance(local(27, 13) - clock.now)
    async with world.uow.write() as repos:
        [due] = await repos.booking.due_texts(clock.now, 10)
        await repos.booking.claim([due.id], "dead-process", clock.now)
    await world.texts.sweep()
    assert (TextPurpose.REMINDER, TextState.SENDING) in await states(world, booked.appointment.id)
    assert len(world.gateway.accepted) == 1

    clock.advance(timedelta(minutes=1))
    await world.texts.sweep()  # interrupted -> unknown -> not at the provider, wait for the grace period
    assert (TextPurpose.REMINDER, TextState.UNKNOWN) in await states(world, booked.appointment.id)
    clock.advance(timedelta(minutes=3))
    await world.texts.sweep()
    assert (TextPurpose.REMINDER, TextState.SENT) in await states(world, booked.appointment.id)
    assert [s.body.split(":")[0] for s in world.gateway.accepted] == ["Bokat", "Påminnelse"]


async def test_delivery_reports_move_texts_forward_and_replays_change_nothing(world, auth):
    booked = await book(world, auth)
    [sent] = world.gateway.accepted
    assert await world.texts.on_report(sent.provider_id, "delivered", None, None)
    assert not await world.texts.on_report(sent.provider_id, "sent", None, None)
    assert not await world.texts.on_report(sent.provider_id, "delivered", None, None)
    assert (await states(world, booked.appointment.id))[0] == (TextPurpose.CONFIRMATION, TextState.DELIVERED)
    assert not await world.texts.on_report("SMunknown", "failed", "30003", None)


async def test_a_report_for_a_send_whose_answer_was_lost_finds_it_by_our_reference(world, auth):
    world.gateway.script("lost")
    booked = await book(world, auth)
    [sent] = world.gateway.accepted
    assert sent.status_ref is not None
    assert await world.texts.on_report(sent.provider_id, "undelivered", "30005", int(sent.status_ref))
    [view] = await world.booking.staff_appointments_by_id([booked.appointment.id])
    assert view.texts[0].state is TextState.UNDELIVERED and view.texts[0].error_code == "30005"


async def test_polling_picks_up_a_final_status_when_no_report_came(world, auth, clock):
    booked = await book(world, auth)
    [sent] = world.gateway.accepted
    world.gateway.statuses[sent.provider_id] = "delivered"
    await world.texts.sweep()
    assert (await states(world, booked.appointment.id))[0] == (TextPurpose.CONFIRMATION, TextState.SENT)
    clock.advance(timedelta(minutes=3))
    await world.texts.sweep()
    assert (await states(world, booked.appointment.id))[0] == (TextPurpose.CONFIRMATION, TextState.DELIVERED)


async def test_cancel_by_reply_cancels_the_next_appointment_of_that_number(world, auth):
    first = await book(world, auth, 9)
    await book(world, auth, 13)
    other = await book(world, auth, 15, phone=OTHER_PHONE)
    cancelled = await world.booking.cancel_by_phone(PHONE)
    assert cancelled is not None and cancelled.id == first.appointment.id
    assert (await world.booking.lookup(other.manage_code)).state.value == "booked"
    assert await world.booking.cancel_by_phone("+46701740699") is None
    assert await world.booking.language_for_phone(PHONE) == "sv"
