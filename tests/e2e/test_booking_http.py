"""The booking half of docs/protocol.md against a real server process (SMS backend: the outbox):
slots, booking, the error codes, manage codes, the availability editor, staff actions, offers in
a chat, the live push to consoles, and fifty concurrent bookings for the last place, repeated."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support.booking import PHONE, BookingClient
from tests.support.clients import SESSION_COOKIE, Harness
from tests.support.server import ServerProcess

ENV = {
    "KINLINE_BOOKING__KINDS__PHONE__MIN_NOTICE": "0s",
    "KINLINE_BOOKING__BOOKINGS_PER_MINUTE": "0",
    "KINLINE_BOOKING__KINDS__GROUP__SEATS": "3",
    "KINLINE_BOOKING__KINDS__GROUP__MIN_NOTICE": "0s",
    "KINLINE_BOOKING__KINDS__GROUP__WEEKLY": '["mon 18:00", "wed 18:00", "fri 18:00", "sun 18:00"]',
}
CONTENDERS = 50


def assert_error(body: Any, code: str) -> None:
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.fixture
def server(server_factory) -> ServerProcess:
    server = server_factory(ENV, start=False)
    server.add_user("alice")
    server.add_user("bob")
    server.add_user("root", "admin")
    return server.start()


async def open_booking(h: Harness, user: str = "alice") -> BookingClient:
    staff = h.api()
    await staff.login(user)
    booking = BookingClient(staff, h.api())
    await booking.open_all_week()
    return booking


async def test_options_and_slots_name_no_counsellor(server):
    async with Harness(server) as h:
        booking = await open_booking(h)
        options = await booking.public.request("GET", "/api/booking/options")
        assert options.status == 200
        assert [k["id"] for k in options.body["kinds"]] == ["phone", "visit", "interpreter_call", "group"]
        assert [k["interpreter"] for k in options.body["kinds"]] == [False, False, True, False]
        assert options.body["timezone"] == "Europe/Stockholm"
        slots = await booking.slots()
        assert slots and all(set(s) == {"start", "end", "kind", "seats_left"} for s in slots)
        first = datetime.fromisoformat(slots[0]["start"])
        assert first.utcoffset() == timedelta(0)
        assert datetime.fromisoformat(slots[0]["end"]) - first == timedelta(minutes=45)
        assert all(s["seats_left"] == 1 for s in slots)

        for query, code in [
            ("kind=phone&language=sv", "invalid_time"),
            ("kind=phone&language=sv&from=2026-01-01T00:00:00&to=2026-01-02T00:00:00", "invalid_time"),
            ("kind=tarot&language=sv&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", "unknown_kind"),
            (
                "kind=phone&language=de&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z",
                "unsupported_language",
            ),
            ("kind=phone&language=sv&from=2026-01-01T00:00:00Z&to=2026-06-02T00:00:00Z", "range_too_long"),
        ]:
            result = await booking.public.request("GET", f"/api/slots?{query}")
            assert result.status == 422, (query, result.body)
            assert_error(result.body, code)


async def test_booking_contract_and_error_codes(server):
    async with Harness(server) as h:
        booking = await open_booking(h)
        start = await booking.next_start(600)
        booked = await booking.book(start)
        assert set(booked) == {"appointment_id", "reference", "start", "end", "manage_code"}
        assert booked["start"] == start

        taken = await booking.public.request(
            "POST",
            "/api/appointments",
            json={"kind": "phone", "start": start, "language": "sv", "phone": PHONE},
        )
        assert taken.status == 409
        assert_error(taken.body, "slot_taken")
        bad_phone = await booking.public.request(
            "POST",
            "/api/appointments",
            json={"kind": "phone", "start": start, "language": "sv", "phone": "08-1234567"},
        )
        assert bad_phone.status == 422
        assert_error(bad_phone.body, "invalid_phone")
        assert "1234567" not in bad_phone.body["error"]["message"]
        missing = await booking.public.request("POST", "/api/appointments", json={"kind": "phone"})
        assert missing.status == 422
        assert_error(missing.body, "invalid_request")
        forged = await booking.public.request(
            "POST",
            "/api/appointments",
            json={
                "kind": "phone",
                "start": start,
                "language": "sv",
                "phone": PHONE,
                "conversation_token": "x",
            },
        )
        assert forged.status == 401


async def test_manage_codes_lookup_cancel_rebook_and_calendar(server):
    async with Harness(server) as h:
        booking = await open_booking(h)
        first = await booking.book(await booking.next_start(600))
        other = await booking.book(await booking.next_start(3600))
        api = booking.public

        found = await api.request(
            "POST", "/api/appointments/lookup", json={"manage_code": first["manage_code"]}
        )
        assert found.status == 200 and found.body["appointment"]["reference"] == first["reference"]
        assert "counsellor" not in str(found.body)
        calendar = await api.request(
            "POST", "/api/appointments/calendar", json={"manage_code": first["manage_code"]}
        )
        assert calendar.status == 200 and calendar.headers["Content-Type"].startswith("text/calendar")

        new_start = await booking.next_start(7200)
        moved = await api.request(
            "POST", "/api/appointments/rebook", json={"manage_code": first["manage_code"], "start": new_start}
        )
        assert moved.status == 200 and moved.body["appointment"]["start"] == new_start
        stale = await api.request(
            "POST", "/api/appointments/cancel", json={"manage_code": first["manage_code"]}
        )
        assert stale.status == 404
        assert_error(stale.body, "unknown_manage_code")

        code = moved.body["manage_code"]
        cancelled = await api.request("POST", "/api/appointments/cancel", json={"manage_code": code})
        assert cancelled.status == 200 and cancelled.body["appointment"]["state"] == "cancelled"
        again = await api.request("POST", "/api/appointments/cancel", json={"manage_code": code})
        assert again.status == 409
        assert_error(again.body, "already_cancelled")
        changed = await api.request(
            "POST", "/api/appointments/rebook", json={"manage_code": code, "start": new_start}
        )
        assert changed.status == 409
        still = await api.request(
            "POST", "/api/appointments/lookup", json={"manage_code": other["manage_code"]}
        )
        assert still.body["appointment"]["state"] == "booked"


async def test_the_availability_editor_replaces_and_returns_the_stored_value(server):
    async with Harness(server) as h:
        staff = h.api()
        anonymous = await h.api().request("PUT", "/api/me/availability", json={"languages": [], "weekly": []})
        assert anonymous.status == 401
        await staff.login("alice")
        body = {
            "languages": ["sv", "fa"],
            "weekly": [
                {"weekday": 0, "start": "09:00", "end": "12:00"},
                {"weekday": 6, "start": "15:00", "end": "24:00"},
            ],
            "exceptions": [
                {"date": "2026-12-24", "available": False},
                {"date": "2026-12-27", "available": True, "start": "10:00", "end": "12:00"},
            ],
        }
        stored = await staff.request("PUT", "/api/me/availability", json=body)
        assert stored.status == 200 and stored.body == body
        read = await staff.request("GET", "/api/me/availability")
        assert read.body == body
        replaced = await staff.request(
            "PUT", "/api/me/availability", json={**body, "weekly": [], "exceptions": []}
        )
        assert replaced.body == {"languages": ["sv", "fa"], "weekly": [], "exceptions": []}
        for broken in (
            {**body, "weekly": [{"weekday": 7, "start": "09:00", "end": "10:00"}]},
            {**body, "weekly": [{"weekday": 1, "start": "10:00", "end": "09:00"}]},
            {**body, "languages": ["xx"]},
        ):
            result = await staff.request("PUT", "/api/me/availability", json=broken)
            assert result.status == 422, broken


async def test_staff_actions_phone_reveal_and_outbox(server):
    async with Harness(server) as h:
        alice = await open_booking(h, "alice")
        booked = await alice.book(await alice.next_start(600))
        bob = h.api()
        await bob.login("bob")
        path = f"/api/staff/appointments/{booked['appointment_id']}"
        assert (await bob.request("GET", f"{path}/phone")).status == 403
        phone = await alice.staff.request("GET", f"{path}/phone")
        assert phone.status == 200 and phone.body == {"phone": PHONE}
        early = await alice.staff.request("POST", f"{path}/outcome", json={"outcome": "attended"})
        assert early.status == 409
        assert_error(early.body, "appointment_future")
        assert (await alice.staff.request("GET", "/api/staff/sms-outbox")).status == 403
        cancelled = await alice.staff.request("POST", f"{path}/cancel", json={})
        assert cancelled.status == 200 and cancelled.body["appointment"]["cancelled_by"] == "staff"

        admin = h.api()
        await admin.login("root")
        outbox = await admin.request("GET", "/api/staff/sms-outbox")
        bodies = [text["body"] for text in outbox.body["texts"]]
        assert any(b.startswith("Avbokat:") for b in bodies) and any(b.startswith("Bokat:") for b in bodies)
        assert all(PHONE not in str(text) for text in outbox.body["texts"])


async def test_a_console_sees_a_new_booking_pushed(server):
    async with Harness(server) as h:
        booking = await open_booking(h)
        socket = h.counsellor_socket()
        await socket.connect(headers={"Cookie": f"{SESSION_COOKIE}={booking.staff.session_cookie()}"})
        booked = await booking.book(await booking.next_start(600))
        pushed = await socket.log.wait_for(
            "appointments",
            lambda payload: any(
                a["appointment_id"] == booked["appointment_id"] for a in payload["appointments"]
            ),
        )
        [item] = [a for a in pushed["appointments"] if a["appointment_id"] == booked["appointment_id"]]
        assert item["reference"] == booked["reference"] and item["state"] == "booked"
        assert PHONE not in str(pushed) and "phone" not in item


async def test_a_counsellor_offers_times_in_a_chat_and_the_relative_books_one(server):
    async with Harness(server) as h:
        booking = await open_booking(h)
        started = await h.start_conversation("sv")
        socket = h.counsellor_socket()
        await socket.connect(headers={"Cookie": f"{SESSION_COOKIE}={booking.staff.session_cookie()}"})
        claimed = await socket.claim(started.conversation_id)
        assert claimed["ok"], claimed
        held = await booking.staff.request("GET", "/api/staff/booking/conversations")
        assert [c["conversation_id"] for c in held.body["conversations"]] == [started.conversation_id]

        starts = [s["start"] for s in (await booking.slots(hours=12))[3:5]]
        offer = await booking.staff.request(
            "POST",
            f"/api/staff/conversations/{started.conversation_id}/slot-offer",
            json={"kind": "phone", "starts": starts},
        )
        assert offer.status == 200
        relative_view = await booking.public.request(
            "POST", "/api/appointments/offer", json={"conversation_token": started.token}
        )
        assert [s["start"] for s in relative_view.body["offer"]["slots"]] == starts
        booked = await booking.book(starts[0], conversation_token=started.token)
        appointment = await booking.appointment(booked["appointment_id"])
        assert appointment["conversation_id"] == started.conversation_id
        after = await booking.public.request(
            "POST", "/api/appointments/offer", json={"conversation_token": started.token}
        )
        assert [s["start"] for s in after.body["offer"]["slots"]] == starts[1:]


@pytest.mark.parametrize("round_number", range(3))
async def test_fifty_concurrent_requests_for_the_last_place_leave_exactly_one_booking(server, round_number):
    async with Harness(server) as h:
        booking = await open_booking(h)
        if round_number == 2:
            start = datetime.fromisoformat((await booking.slots("group", hours=24 * 7))[0]["start"])
            for _ in range(2):
                await booking.book(start.isoformat(), kind="group")
            kind = "group"
        else:
            start = datetime.fromisoformat(await booking.next_start(600 + 3600 * round_number))
            kind = "phone"
        body = {"kind": kind, "start": start.isoformat(), "language": "sv", "phone": PHONE}
        apis = [h.api() for _ in range(CONTENDERS)]
        results = await asyncio.gather(*(api.request("POST", "/api/appointments", json=body) for api in apis))
        statuses = sorted(r.status for r in results)
        assert statuses == [201] + [409] * (CONTENDERS - 1), statuses
        assert {r.body["error"]["code"] for r in results if r.status == 409} == {"slot_taken"}
        on_that_time = [a for a in await booking.appointments() if a["start"] == start.isoformat()]
        assert len(on_that_time) == (3 if kind == "group" else 1)


async def test_openapi_lists_the_booking_paths(server):
    async with Harness(server) as h:
        document = (await h.api().request("GET", "/api/openapi.json")).body
    for path in (
        "/api/slots",
        "/api/appointments",
        "/api/appointments/cancel",
        "/api/me/availability",
        "/webhooks/twilio/sms",
        "/webhooks/twilio/status",
    ):
        assert path in document["paths"], path
