"""BookingService on the in-memory fakes: a phone call with an interpreter, booked in Somali with a
Swedish-speaking counsellor, records the language to interpret and texts the relative in Somali;
the languages with free times per kind."""

from __future__ import annotations

import pytest

from server.domain.errors import InvalidInput
from server.services.auth import AuthService
from server.services.chat import ChatService
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.support.assertions import raises_code
from tests.support.booking import CATALOGS, PHONE, World, add_counsellor, local, services_on
from tests.support.clock import ManualClock


@pytest.fixture
def world(uow: FakeUnitOfWork, clock: ManualClock, chat: ChatService) -> World:
    return services_on(uow, clock, chat)


async def test_an_interpreter_call_in_somali_goes_to_a_swedish_speaker_and_records_somali(
    world: World, auth: AuthService
) -> None:
    alice = await add_counsellor(world, auth, "alice", languages=("sv",))
    start = local(27, 13)
    assert await world.booking.slots("phone", "so", local(27, 0), local(28, 0)) == []
    offered = await world.booking.slots("interpreter_call", "so", local(27, 0), local(28, 0))
    assert start in [slot.start for slot in offered]

    booked = await world.booking.book("interpreter_call", start, "so", "070-174 06 05")
    await world.texts.drain()

    appointment = booked.appointment
    assert (appointment.counsellor_id, appointment.language) == (alice.id, "so")
    assert appointment.interpreter_language == "so"
    [view] = await world.booking.staff_appointments(alice, local(27, 0), local(28, 0))
    assert view.appointment.interpreter_language == "so"
    [confirmation] = world.gateway.accepted
    assert confirmation.to == PHONE
    what = CATALOGS.text("so", "sms.kind_interpreter_call")
    assert "turjumaan" in what
    assert confirmation.body.startswith(f"Ballan waa la qabsaday: {what} ")


async def test_an_interpreter_call_in_a_counsellor_language_needs_no_interpreter(
    world: World, auth: AuthService
) -> None:
    await add_counsellor(world, auth, "alice", languages=("sv",))
    booked = await world.booking.book("interpreter_call", local(27, 13), "sv", PHONE)
    assert booked.appointment.interpreter_language is None
    plain = await world.booking.book("phone", local(27, 15), "sv", PHONE)
    assert plain.appointment.interpreter_language is None


async def test_a_moved_interpreter_call_keeps_its_language_to_interpret(
    world: World, auth: AuthService
) -> None:
    await add_counsellor(world, auth, "alice", languages=("en",))
    booked = await world.booking.book("interpreter_call", local(27, 13), "ti", PHONE)
    moved = await world.booking.rebook(booked.manage_code, local(27, 14, 15))
    assert moved.appointment.interpreter_language == "ti"
    assert (await world.booking.lookup(moved.manage_code)).interpreter_language == "ti"


async def test_languages_with_free_times_per_kind(world: World, auth: AuthService) -> None:
    window = (local(27, 0), local(28, 0))
    assert await world.booking.languages_with_slots("phone", *window) == []
    await add_counsellor(world, auth, "alice", languages=("sv", "ar"))
    assert await world.booking.languages_with_slots("phone", *window) == ["sv", "ar"]
    # English is a counsellor language: an interpreter call in English needs an English speaker.
    assert await world.booking.languages_with_slots("interpreter_call", *window) == [
        "sv",
        "ar",
        "so",
        "fa",
        "ti",
    ]
    assert await world.booking.languages_with_slots("phone", local(1, 0, month=1), local(2, 0, month=1)) == []


async def test_languages_with_free_times_refuses_bad_input(world: World) -> None:
    with raises_code(InvalidInput, "unknown_kind"):
        await world.booking.languages_with_slots("sauna", local(27, 0), local(28, 0))
    with raises_code(InvalidInput, "invalid_time"):
        await world.booking.languages_with_slots("phone", local(28, 0), local(27, 0))
    with raises_code(InvalidInput, "range_too_long"):
        await world.booking.languages_with_slots("phone", local(1, 0), local(1, 0, month=12, year=2027))
