"""Booking on a real SQLite file: texts at booking, manage codes, cancel, rebook, round robin,
staff actions, encryption at rest and the deletion of phone numbers."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from server.domain.booking.appointments import AppointmentState
from server.domain.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from server.domain.reminders import TextPurpose, TextState
from server.domain.staff import Role
from tests.integration.wiring import ManualClock
from tests.support.booking import OTHER_PHONE, PHONE, World, add_counsellor, build_world, local


@pytest.fixture
def world(database, data_key, clock, chat) -> World:
    return build_world(database, data_key, clock, chat)


async def texts_of(world: World, appointment_id: str):
    async with world.uow.read() as repos:
        return (await repos.booking.texts_for([appointment_id]))[appointment_id]


async def test_booking_sends_a_confirmation_and_plans_the_reminders(world, auth, clock: ManualClock):
    await add_counsellor(world, auth, "alice")
    start = local(27, 13)
    booked = await world.booking.book("phone", start, "sv", "070-174 06 05")
    await world.texts.drain()

    assert booked.appointment.start == start and booked.appointment.end == start + timedelta(minutes=45)
    assert len(booked.manage_code) == 19 and len(booked.appointment.reference) == 6
    [confirmation] = world.gateway.accepted
    assert confirmation.to == PHONE
    assert (
        confirmation.body
        == "Bokat: telefonsamtal (vi ringer dig) fre 27/11 kl. 13:00. Svara AVBOKA för att avboka."
    )
    texts = await texts_of(world, booked.appointment.id)
    assert [(t.purpose, t.state) for t in texts] == [
        (TextPurpose.CONFIRMATION, TextState.SENT),
        (TextPurpose.REMINDER, TextState.PENDING),
        (TextPurpose.REMINDER, TextState.PENDING),
    ]
    assert [t.due_at for t in texts[1:]] == [start - timedelta(hours=24), start - timedelta(hours=2)]
    assert world.changed == [booked.appointment.id, booked.appointment.id]


async def test_a_booked_time_is_gone_and_a_second_booking_is_refused(world, auth):
    await add_counsellor(world, auth, "alice")
    start = local(27, 13)
    await world.booking.book("phone", start, "sv", PHONE)
    slots = await world.booking.slots("phone", "sv", local(27, 0), local(28, 0))
    assert start not in [s.start for s in slots]
    assert start + timedelta(hours=1) in [s.start for s in slots]
    with pytest.raises(Conflict) as taken:
        await world.booking.book("phone", start, "sv", OTHER_PHONE)
    assert taken.value.code == "slot_taken"


async def test_bad_input_is_refused(world, auth):
    await add_counsellor(world, auth, "alice")
    for kind, language, phone, code in [
        ("phone", "sv", "08-123 456 78", "invalid_phone"),
        ("tarot", "sv", PHONE, "unknown_kind"),
        ("phone", "de", PHONE, "unsupported_language"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            await world.booking.book(kind, local(27, 13), language, phone)
        assert refused.value.code == code
    with pytest.raises(Conflict):
        await world.booking.book("phone", local(27, 13, 30), "sv", PHONE)
    with pytest.raises(NotAuthenticated):
        await world.booking.book("phone", local(27, 13), "sv", PHONE, conversation_token="forged")


async def test_round_robin_spreads_bookings_over_counsellors(world, auth):
    alice = await add_counsellor(world, auth, "alice")
    bob = await add_counsellor(world, auth, "bob")
    assigned = []
    for hour in (9, 11, 13, 15):
        booked = await world.booking.book("phone", local(27, hour), "sv", PHONE)
        assigned.append(booked.appointment.counsellor_id)
    assert sorted(assigned) == sorted([alice.id, bob.id, alice.id, bob.id])
    assert assigned[0] != assigned[1] and assigned[2] != assigned[3]


async def test_language_decides_who_can_take_it(world, auth):
    await add_counsellor(world, auth, "alice", ("sv",))
    amal = await add_counsellor(world, auth, "amal", ("ar", "sv"))
    booked = await world.booking.book("phone", local(27, 9), "ar", PHONE)
    assert booked.appointment.counsellor_id == amal.id
    with pytest.raises(Conflict):
        await world.booking.book("phone", local(27, 9), "ar", OTHER_PHONE)


async def test_cancel_with_the_manage_code_withdraws_reminders_and_texts_the_relative(world, auth):
    await add_counsellor(world, auth, "alice")
    booked = await world.booking.book("phone", local(28, 13), "sv", PHONE)
    cancelled = await world.booking.cancel_with_code(booked.manage_code.lower().replace("-", " "))
    await world.texts.drain()
    assert cancelled.state is AppointmentState.CANCELLED
    states = [(t.purpose, t.state) for t in await texts_of(world, booked.appointment.id)]
    assert (TextPurpose.REMINDER, TextState.WITHDRAWN) in states
    assert (TextPurpose.REMINDER, TextState.PENDING) not in states
    assert world.gateway.accepted[-1].body.startswith("Avbokat: telefonsamtal")
    with pytest.raises(Conflict) as again:
        await world.booking.cancel_with_code(booked.manage_code)
    assert again.value.code == "already_cancelled"
    assert local(28, 13) in [
        s.start for s in await world.booking.slots("phone", "sv", local(28, 0), local(29, 0))
    ]


async def test_a_manage_code_works_only_for_its_own_appointment(world, auth):
    await add_counsellor(world, auth, "alice")
    first = await world.booking.book("phone", local(28, 9), "sv", PHONE)
    second = await world.booking.book("phone", local(28, 11), "sv", OTHER_PHONE)
    assert (await world.booking.lookup(first.manage_code)).id == first.appointment.id
    await world.booking.cancel_with_code(first.manage_code)
    assert (await world.booking.lookup(second.manage_code)).state is AppointmentState.BOOKED
    with pytest.raises(NotFound) as unknown:
        await world.booking.cancel_with_code("AAAA-BBBB-CCCC-DDDD")
    assert unknown.value.code == "unknown_manage_code"


async def test_a_manage_code_stops_working_for_changes_once_the_appointment_has_begun(world, auth, clock):
    await add_counsellor(world, auth, "alice")
    booked = await world.booking.book("phone", local(27, 13), "sv", PHONE)
    clock.advance(local(27, 13) - clock.now)
    with pytest.raises(Conflict) as past:
        await world.booking.cancel_with_code(booked.manage_code)
    assert past.value.code == "appointment_past"
    with pytest.raises(Conflict):
        await world.booking.rebook(booked.manage_code, local(28, 13))


async def test_rebooking_moves_the_time_and_replaces_the_manage_code(world, auth):
    await add_counsellor(world, auth, "alice")
    booked = await world.booking.book("phone", local(28, 9), "sv", PHONE)
    moved = await world.booking.rebook(booked.manage_code, local(28, 10))
    await world.texts.drain()
    assert moved.appointment.start == local(28, 10) and moved.appointment.id == booked.appointment.id
    assert moved.manage_code != booked.manage_code
    with pytest.raises(NotFound):
        await world.booking.cancel_with_code(booked.manage_code)
    assert world.gateway.accepted[-1].body.startswith(
        "Ny tid: telefonsamtal (vi ringer dig) lör 28/11 kl. 10:00."
    )
    texts = await texts_of(world, booked.appointment.id)
    pending = [t.due_at for t in texts if t.state is TextState.PENDING]
    assert pending == [local(28, 10) - timedelta(hours=24), local(28, 10) - timedelta(hours=2)]
    assert len([t for t in texts if t.state is TextState.WITHDRAWN]) == 2
    free = [s.start for s in await world.booking.slots("phone", "sv", local(28, 0), local(29, 0))]
    assert local(28, 9) in free and local(28, 10) not in free


async def test_group_sessions_fill_seats_with_one_host(world, auth):
    alice = await add_counsellor(world, auth, "alice")
    await add_counsellor(world, auth, "bob")
    start = local(3, 18, month=12)
    hosts = {
        (await world.booking.book("group", start, "sv", PHONE)).appointment.counsellor_id for _ in range(3)
    }
    assert len(hosts) == 1
    with pytest.raises(Conflict):
        await world.booking.book("group", start, "sv", PHONE)
    assert start not in [
        s.start
        for s in await world.booking.slots("group", "sv", local(1, 0, month=12), local(5, 0, month=12))
    ]
    del alice


async def test_staff_see_appointments_with_text_states_but_only_the_assigned_reads_the_number(
    world, auth, raw: sqlite3.Connection
):
    alice = await add_counsellor(world, auth, "alice")
    bob = await add_counsellor(world, auth, "bob")
    boss = await add_counsellor(world, auth, "boss", role=Role.SUPERVISOR)
    booked = await world.booking.book("phone", local(27, 13), "sv", PHONE)
    await world.texts.drain()
    holder = alice if booked.appointment.counsellor_id == alice.id else bob
    other = bob if holder is alice else alice
    [view] = await world.booking.staff_appointments(other, local(27, 0), local(28, 0))
    assert view.counsellor_name == holder.display_name
    assert view.texts[0].state is TextState.SENT
    assert await world.booking.reveal_phone(booked.appointment.id, holder) == PHONE
    assert await world.booking.reveal_phone(booked.appointment.id, boss) == PHONE
    with pytest.raises(Forbidden) as refused:
        await world.booking.reveal_phone(booked.appointment.id, other)
    assert refused.value.code == "not_assigned"
    audits = raw.execute(
        "SELECT actor_id, action FROM audit_log WHERE object_id = ?", (booked.appointment.id,)
    ).fetchall()
    assert sorted(audits) == sorted(
        [(holder.id, "appointment.phone_read"), (boss.id, "appointment.phone_read")]
    )


async def test_staff_cancel_and_outcomes(world, auth, clock):
    alice = await add_counsellor(world, auth, "alice")
    first = await world.booking.book("phone", local(27, 13), "sv", PHONE)
    second = await world.booking.book("phone", local(27, 15), "sv", OTHER_PHONE)
    await world.booking.staff_cancel(first.appointment.id, alice)
    await world.texts.drain()
    assert world.gateway.to(PHONE)[-1].body.startswith("Avbokat:")
    clock.advance(local(27, 15, 10) - clock.now)
    closed = await world.booking.record_outcome(second.appointment.id, alice, "attended")
    assert closed.state is AppointmentState.ATTENDED
    with pytest.raises(Conflict):
        await world.booking.record_outcome(second.appointment.id, alice, "no_show")


async def test_phone_numbers_are_encrypted_at_rest_and_deleted_after_retention(
    world, auth, clock, raw, migrated
):
    alice = await add_counsellor(world, auth, "alice")
    booked = await world.booking.book("phone", local(27, 13), "sv", PHONE)
    await world.texts.drain()
    raw.execute("PRAGMA wal_checkpoint(FULL)")
    stored = migrated.read_bytes() + (
        migrated.with_name(migrated.name + "-wal").read_bytes()
        if migrated.with_name(migrated.name + "-wal").exists()
        else b""
    )
    assert PHONE.encode() not in stored and b"701740605" not in stored
    assert b"Bokat" not in stored

    clock.advance(local(27, 13, 45) + timedelta(days=30) - clock.now - timedelta(minutes=1))
    await world.texts.forget()
    assert await world.booking.reveal_phone(booked.appointment.id, alice) == PHONE
    clock.advance(timedelta(minutes=2))
    assert await world.texts.forget() == 1
    with pytest.raises(NotFound) as deleted:
        await world.booking.reveal_phone(booked.appointment.id, alice)
    assert deleted.value.code == "phone_deleted"
    row = raw.execute("SELECT phone, phone_hash FROM appointments").fetchone()
    assert row == (None, None)
    assert raw.execute("SELECT COUNT(*) FROM appointment_texts WHERE body IS NOT NULL").fetchone() == (0,)


async def test_availability_round_trips_and_replaces(world, auth):
    alice = await add_counsellor(world, auth, "alice", ("sv", "en"), ((0, "09:00", "12:00"),))
    stored = await world.booking.availability(alice)
    assert stored.languages == ("sv", "en") and len(stored.weekly) == 1
    replaced = await world.booking.set_availability(
        alice, ["ar"], [(1, "10:00", "11:00")], [("2026-12-24", False, None, None)]
    )
    assert replaced.languages == ("ar",) and replaced.weekly[0].weekday == 1 and len(replaced.exceptions) == 1


async def test_an_interpreter_call_keeps_its_language_to_interpret_in_the_database(world, auth):
    alice = await add_counsellor(world, auth, "alice", languages=("sv",))
    booked = await world.booking.book("interpreter_call", local(27, 13), "fa", PHONE)
    plain = await world.booking.book("phone", local(27, 16), "sv", OTHER_PHONE)
    found = {
        view.appointment.id: view.appointment.interpreter_language
        for view in await world.booking.staff_appointments(alice, local(27, 0), local(28, 0))
    }
    assert found == {booked.appointment.id: "fa", plain.appointment.id: None}
    assert (await world.booking.lookup(booked.manage_code)).interpreter_language == "fa"
