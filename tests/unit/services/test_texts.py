"""TextService on the in-memory fakes: due texts go out once, late ones still go and past ones are
missed, unknown outcomes are reconciled and never resent blindly, opted-out numbers get nothing,
delivery reports only move a text forward (tests/integration/test_booking_reminders.py runs the
same on SQLite)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from server.domain.reminders import TextPurpose, TextState
from server.services.auth import AuthService
from server.services.booking import Booked
from server.services.chat import ChatService
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.support.booking import OTHER_PHONE, PHONE, World, add_counsellor, local, services_on
from tests.support.clock import ManualClock


@pytest.fixture
async def world(uow: FakeUnitOfWork, clock: ManualClock, chat: ChatService, auth: AuthService) -> World:
    world = services_on(uow, clock, chat)
    await add_counsellor(world, auth, "alice")
    return world


async def book(world: World, hour: int = 13, day: int = 28, phone: str = PHONE) -> Booked:
    booked = await world.booking.book("phone", local(day, hour), "sv", phone)
    await world.texts.drain()
    return booked


async def states(world: World, booked: Booked) -> list[tuple[TextPurpose, TextState]]:
    async with world.uow.read() as repos:
        texts = (await repos.booking.texts_for([booked.appointment.id]))[booked.appointment.id]
    return [(t.purpose, t.state) for t in texts]


def openings(world: World) -> list[str]:
    return [s.body.split(":")[0] for s in world.gateway.accepted]


async def test_a_due_reminder_goes_out_once_across_two_sweepers(
    world: World, uow: FakeUnitOfWork, clock: ManualClock, chat: ChatService
) -> None:
    phones = [f"+4670174060{hour % 10}" for hour in (9, 11, 13, 15, 17)]
    booked = [
        await book(world, hour, phone=phone) for hour, phone in zip((9, 11, 13, 15, 17), phones, strict=True)
    ]
    second = services_on(uow, clock, chat, gateway=world.gateway)
    clock.advance(local(27, 17) - clock.now)
    await asyncio.gather(world.texts.sweep(), second.texts.sweep(), world.texts.sweep(), second.texts.sweep())
    reminders = [s for s in world.gateway.accepted if s.body.startswith("Påminnelse")]
    assert sorted(s.to for s in reminders) == sorted(phones)
    for item in booked:
        assert (TextPurpose.REMINDER, TextState.SENT) in await states(world, item)
    await world.texts.sweep()
    assert openings(world).count("Påminnelse") == 5


async def test_after_downtime_the_latest_reminder_goes_late_and_past_ones_are_missed(
    world: World, clock: ManualClock
) -> None:
    soon = await book(world, 15, day=27)
    later = await book(world, 13, day=28, phone=OTHER_PHONE)
    clock.advance(local(27, 13, 30) - clock.now)
    await world.texts.sweep()
    assert await states(world, soon) == [
        (TextPurpose.CONFIRMATION, TextState.SENT),
        (TextPurpose.REMINDER, TextState.SUPERSEDED),
        (TextPurpose.REMINDER, TextState.SENT),
    ]
    assert len(world.gateway.to(PHONE)) == 2
    clock.advance(local(28, 14) - clock.now)
    await world.texts.sweep()
    assert await states(world, later) == [
        (TextPurpose.CONFIRMATION, TextState.SENT),
        (TextPurpose.REMINDER, TextState.SENT),
        (TextPurpose.REMINDER, TextState.MISSED),
    ]


async def test_cancelled_appointments_get_no_reminders(world: World, clock: ManualClock) -> None:
    booked = await book(world)
    await world.booking.cancel_with_code(booked.manage_code)
    await world.texts.drain()
    clock.advance(local(28, 12) - clock.now)
    await world.texts.sweep()
    assert openings(world) == ["Bokat", "Avbokat"]


async def test_an_opted_out_number_gets_nothing(world: World, clock: ManualClock) -> None:
    await world.booking.opt_out(PHONE)
    booked = await book(world)
    clock.advance(local(28, 12) - clock.now)
    await world.texts.sweep()
    await world.booking.cancel_with_code(booked.manage_code)
    await world.texts.drain()
    assert world.gateway.accepted == []
    assert set(await states(world, booked)) == {
        (TextPurpose.CONFIRMATION, TextState.SUPPRESSED),
        (TextPurpose.REMINDER, TextState.SUPPRESSED),
        (TextPurpose.REMINDER, TextState.SUPERSEDED),
        (TextPurpose.CANCELLATION, TextState.SUPPRESSED),
    }


async def test_a_lost_answer_is_reconciled_not_resent(world: World, uow: FakeUnitOfWork) -> None:
    world.gateway.script("lost")
    booked = await book(world)
    assert (await states(world, booked))[0] == (TextPurpose.CONFIRMATION, TextState.UNKNOWN)
    await world.texts.sweep()
    assert (await states(world, booked))[0] == (TextPurpose.CONFIRMATION, TextState.SENT)
    assert world.gateway.attempts == 1 and len(world.gateway.accepted) == 1
    assert [t.attempts for t in uow.tables.texts if t.purpose is TextPurpose.CONFIRMATION] == [1]


async def test_a_send_the_provider_never_got_is_retried_only_after_the_grace_period(
    world: World, clock: ManualClock
) -> None:
    world.gateway.script("unknown")
    booked = await book(world)
    await world.texts.sweep()
    assert world.gateway.searches == 1 and world.gateway.accepted == []
    clock.advance(timedelta(minutes=3))
    await world.texts.sweep()
    assert openings(world) == ["Bokat"]
    assert (await states(world, booked))[0] == (TextPurpose.CONFIRMATION, TextState.SENT)
    await world.texts.sweep()
    assert len(world.gateway.accepted) == 1


async def test_a_throttled_text_goes_again_after_its_wait_without_using_up_an_attempt(
    world: World, clock: ManualClock, uow: FakeUnitOfWork
) -> None:
    world.gateway.script("throttle")
    booked = await book(world)
    assert (await states(world, booked))[0] == (TextPurpose.CONFIRMATION, TextState.PENDING)
    [confirmation] = [t for t in uow.tables.texts if t.purpose is TextPurpose.CONFIRMATION]
    assert (confirmation.attempts, confirmation.throttled) == (0, 1)
    clock.advance(timedelta(seconds=5))
    await world.texts.sweep()
    assert (await states(world, booked))[0] == (TextPurpose.CONFIRMATION, TextState.SENT)
    assert openings(world) == ["Bokat"]


async def test_a_refused_text_is_flagged_failed_and_not_retried(world: World, clock: ManualClock) -> None:
    world.gateway.script("refuse")
    booked = await book(world)
    clock.advance(timedelta(minutes=10))
    await world.texts.sweep()
    assert world.gateway.attempts == 1
    [view] = await world.booking.staff_appointments_by_id([booked.appointment.id])
    assert (view.texts[0].state, view.texts[0].error_code) == (TextState.FAILED, "21211")


async def test_a_claim_that_was_never_settled_counts_as_interrupted(world: World, clock: ManualClock) -> None:
    booked = await book(world)
    clock.advance(local(27, 13) - clock.now)
    async with world.uow.write() as repos:
        [due] = await repos.booking.due_texts(clock.now, 10)
        await repos.booking.claim([due.id], "dead-process", clock.now)
    await world.texts.sweep()
    assert (TextPurpose.REMINDER, TextState.SENDING) in await states(world, booked)
    clock.advance(timedelta(minutes=1))
    await world.texts.sweep()
    assert (TextPurpose.REMINDER, TextState.UNKNOWN) in await states(world, booked)
    clock.advance(timedelta(minutes=3))
    await world.texts.sweep()
    assert (TextPurpose.REMINDER, TextState.SENT) in await states(world, booked)
    assert openings(world) == ["Bokat", "Påminnelse"]


async def test_delivery_reports_move_texts_forward_and_replays_change_nothing(world: World) -> None:
    booked = await book(world)
    [sent] = world.gateway.accepted
    assert await world.texts.on_report(sent.provider_id, "delivered", None, None)
    assert not await world.texts.on_report(sent.provider_id, "sent", None, None)
    assert not await world.texts.on_report(sent.provider_id, "delivered", None, None)
    assert (await states(world, booked))[0] == (TextPurpose.CONFIRMATION, TextState.DELIVERED)
    assert not await world.texts.on_report("SMunknown", "failed", "30003", None)


async def test_a_report_for_a_send_whose_answer_was_lost_finds_it_by_our_reference(world: World) -> None:
    world.gateway.script("lost")
    booked = await book(world)
    [sent] = world.gateway.accepted
    assert sent.status_ref is not None
    assert await world.texts.on_report(sent.provider_id, "undelivered", "30005", int(sent.status_ref))
    [view] = await world.booking.staff_appointments_by_id([booked.appointment.id])
    assert (view.texts[0].state, view.texts[0].error_code) == (TextState.UNDELIVERED, "30005")


async def test_polling_picks_up_a_final_status_when_no_report_came(world: World, clock: ManualClock) -> None:
    booked = await book(world)
    [sent] = world.gateway.accepted
    world.gateway.statuses[sent.provider_id] = "delivered"
    await world.texts.sweep()
    assert (await states(world, booked))[0] == (TextPurpose.CONFIRMATION, TextState.SENT)
    clock.advance(timedelta(minutes=3))
    await world.texts.sweep()
    assert (await states(world, booked))[0] == (TextPurpose.CONFIRMATION, TextState.DELIVERED)


async def test_cancel_by_reply_cancels_the_next_appointment_of_that_number(world: World) -> None:
    first = await book(world, 9)
    await book(world, 13)
    other = await book(world, 15, phone=OTHER_PHONE)
    cancelled = await world.booking.cancel_by_phone(PHONE)
    assert cancelled is not None and cancelled.id == first.appointment.id
    assert (await world.booking.lookup(other.manage_code)).state.value == "booked"
    assert await world.booking.cancel_by_phone("+46701740699") is None
    assert await world.booking.language_for_phone(PHONE) == "sv"
