"""SMS end to end: a real server process sends through the real twilio library to the local fake
of Twilio's REST API, and Twilio's webhooks come back signed (or not) as Twilio would send them.

Reminders fall due within seconds: the phone kind lasts 20 s here and the reminder offsets are
8 s and 4 s. Nothing in a server log may hold a phone number or a text's wording."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.support.booking import FAST_BOOKING_ENV, OTHER_PHONE, PHONE, BookingClient, eventually
from tests.support.clients import Harness
from tests.support.fake_twilio import FakeTwilio
from tests.support.server import ServerProcess

ZONE = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as running:
        yield running


@pytest.fixture
def start_server(
    server_factory: Callable[..., ServerProcess], fake: FakeTwilio
) -> Callable[..., ServerProcess]:
    def start(**env: str) -> ServerProcess:
        server = server_factory(fake.server_env(**FAST_BOOKING_ENV, **env), start=False)
        server.add_user("alice")
        return server.start()

    return start


async def client(h: Harness) -> BookingClient:
    staff = h.api()
    await staff.login("alice")
    booking = BookingClient(staff, h.api())
    await booking.open_all_week()
    return booking


def wall_clock(iso: str) -> str:
    """How a Swedish text writes a time: "fre 27/11 kl. 13:00"."""
    moment = datetime.fromisoformat(iso).astimezone(ZONE)
    weekday = ["mån", "tis", "ons", "tor", "fre", "lör", "sön"][moment.weekday()]
    return f"{weekday} {moment.day}/{moment.month} kl. {moment:%H:%M}"


def inbound(fake: FakeTwilio, server: ServerProcess, sender: str, body: str, **kw) -> tuple[int, str]:
    url = f"{server.url}/webhooks/twilio/sms"
    form = fake.inbound(sender, body, **kw)
    return fake.webhook(url, form, fake.signature(url, form))


def assert_private_log(server: ServerProcess, *secrets: str) -> None:
    log = server.log()
    for secret in (PHONE, OTHER_PHONE, "701740605", *secrets):
        assert secret not in log, f"the server log holds {secret!r}"


async def test_confirmation_and_reminders_arrive_with_the_right_body_and_number(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["8s", "4s"]')
    async with Harness(server) as h:
        booking = await client(h)
        start = await booking.next_start(lead_seconds=12)
        booked = await booking.book(start)

        texts = await asyncio.to_thread(fake.wait_for_messages, 3, 40.0, PHONE)
        what = f"telefonsamtal (vi ringer dig) {wall_clock(start)}. Svara AVBOKA för att avboka."
        assert [t["body"] for t in texts] == [f"Bokat: {what}", f"Påminnelse: {what}", f"Påminnelse: {what}"]
        assert all(t["to"] == PHONE and t["from"] == fake.sender for t in texts)
        reminders = [t for t in fake.creates() if t["form"]["Body"].startswith("Påminnelse")]
        assert [
            datetime.fromtimestamp(r["at"]).astimezone() < datetime.fromisoformat(start) for r in reminders
        ] == [
            True,
            True,
        ]

        assert fake.report_status(texts[0]["sid"], "delivered") == 204
        await eventually(
            lambda: booking.text_states(booked["appointment_id"]),
            lambda states: (
                states == [("confirmation", "delivered"), ("reminder", "sent"), ("reminder", "sent")]
            ),
            what="delivery status on the appointment",
        )
        assert fake.report_status(texts[1]["sid"], "undelivered", error_code=30005) == 204
        flagged = await eventually(
            lambda: booking.appointment(booked["appointment_id"]), lambda a: a["sms_problem"], what="flag"
        )
        assert flagged["texts"][1]["error_code"] == "30005"
    assert_private_log(server, "Påminnelse", "Bokat")


def _weekday(iso: str) -> str:
    return ["mån", "tis", "ons", "tor", "fre", "lör", "sön"][
        datetime.fromisoformat(iso).astimezone(ZONE).weekday()
    ]


async def test_a_signed_avboka_cancels_and_withdraws_the_reminders(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m", "5m"]')
    async with Harness(server) as h:
        booking = await client(h)
        booked = await booking.book(await booking.next_start(900))
        await asyncio.to_thread(fake.wait_for_messages, 1, 20.0, PHONE)
        # Twilio has the text; the server records "sent" once Twilio's answer is back.
        states = await eventually(
            lambda: booking.text_states(booked["appointment_id"]),
            lambda found: found[0] == ("confirmation", "sent"),
            what="the confirmation recorded as sent",
        )
        assert states == [("confirmation", "sent"), ("reminder", "pending"), ("reminder", "pending")]

        form = fake.inbound(PHONE, "Avboka")
        url = f"{server.url}/webhooks/twilio/sms"
        status, twiml = fake.webhook(url, form, fake.signature(url, form))
        assert status == 200 and "<Message>" not in twiml

        appointment = await booking.appointment(booked["appointment_id"])
        assert appointment["state"] == "cancelled" and appointment["cancelled_by"] == "sms"
        assert [t["state"] for t in appointment["texts"] if t["purpose"] == "reminder"] == [
            "withdrawn",
            "withdrawn",
        ]
        cancellation = await asyncio.to_thread(fake.wait_for_messages, 2, 20.0, PHONE)
        assert cancellation[-1]["body"].startswith("Avbokat: telefonsamtal")

        replay_status, _ = fake.webhook(url, form, fake.signature(url, form))
        assert replay_status == 200
        purposes = [t[0] for t in await booking.text_states(booked["appointment_id"])]
        assert purposes.count("cancellation") == 1, "a replayed webhook acted twice"

        status, twiml = inbound(fake, server, PHONE, "AVBOKA")
        assert "Det finns ingen kommande tid att avboka" in twiml
    assert_private_log(server, "Avbokat")


async def test_stop_silences_the_number_for_good(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m"]')
    async with Harness(server) as h:
        booking = await client(h)
        await booking.book(await booking.next_start(900))
        await asyncio.to_thread(fake.wait_for_messages, 1, 20.0, PHONE)

        status, twiml = inbound(fake, server, PHONE, "STOP")
        assert status == 200 and "<Message>" not in twiml, "Twilio itself answers STOP"
        status, twiml = inbound(fake, server, PHONE, "hej")
        assert status == 200 and "<Message>" not in twiml

        again = await booking.book(await booking.next_start(1800))
        states = await eventually(
            lambda: booking.text_states(again["appointment_id"]),
            lambda found: found[0] == ("confirmation", "suppressed"),
            what="the confirmation to be suppressed",
        )
        assert states == [("confirmation", "suppressed"), ("reminder", "pending")]
        assert len(fake.messages_to(PHONE)) == 1

        status, twiml = inbound(fake, server, OTHER_PHONE, "Stopp")
        assert "Du får inga fler sms" in twiml
        other = await booking.book(await booking.next_start(2400), phone=OTHER_PHONE)
        await eventually(
            lambda: booking.text_states(other["appointment_id"]),
            lambda found: found[0] == ("confirmation", "suppressed"),
            what="the other number to be silenced too",
        )
        assert fake.messages_to(OTHER_PHONE) == []
    assert_private_log(server)


async def test_anything_else_gets_a_short_help_text_in_the_relatives_language(start_server, fake):
    server = start_server()
    async with Harness(server) as h:
        booking = await client(h)
        await booking.book(await booking.next_start(900), language="ar")
        status, twiml = inbound(fake, server, PHONE, "مرحبا")
        assert status == 200 and "إلغاء" in twiml and "<Message>" in twiml
        status, twiml = inbound(fake, server, "+46701740677", "hello")
        assert "AVBOKA" in twiml, "a number Kinline does not know gets the Swedish help"


async def test_unsigned_or_tampered_webhooks_get_403_and_change_nothing(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m"]')
    async with Harness(server) as h:
        booking = await client(h)
        booked = await booking.book(await booking.next_start(900))
        [text] = await asyncio.to_thread(fake.wait_for_messages, 1, 20.0, PHONE)
        url = f"{server.url}/webhooks/twilio/sms"
        form = fake.inbound(PHONE, "AVBOKA")
        signature = fake.signature(url, form)

        assert fake.webhook(url, form, None)[0] == 403
        assert fake.webhook(url, {**form, "Body": "AVBOKA NU"}, signature)[0] == 403
        assert fake.webhook(url, {**form, "From": OTHER_PHONE}, signature)[0] == 403
        assert fake.webhook(url, form, fake.signature(url + "?x=1", form))[0] == 403
        assert fake.webhook(url, form, "bm90IGEgc2lnbmF0dXJl")[0] == 403
        status_url = f"{server.url}/webhooks/twilio/status"
        report = {"MessageSid": text["sid"], "MessageStatus": "failed", "AccountSid": fake.account_sid}
        assert fake.webhook(status_url, report, None)[0] == 403
        assert (
            fake.webhook(
                status_url, {**report, "MessageStatus": "delivered"}, fake.signature(status_url, report)
            )[0]
            == 403
        )

        appointment = await booking.appointment(booked["appointment_id"])
        assert appointment["state"] == "booked"
        assert [(t["purpose"], t["state"]) for t in appointment["texts"]] == [
            ("confirmation", "sent"),
            ("reminder", "pending"),
        ]
        assert fake.webhook(url, form, signature)[0] == 200, "the untouched, signed request is accepted"
        assert (await booking.appointment(booked["appointment_id"]))["state"] == "cancelled"


async def test_a_send_that_hangs_is_reconciled_not_sent_twice(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m"]')
    async with Harness(server) as h:
        booking = await client(h)
        fake.hang_next(1, seconds=60)
        booked = await booking.book(await booking.next_start(900))
        await eventually(
            lambda: booking.text_states(booked["appointment_id"]),
            lambda states: states[0] == ("confirmation", "unknown"),
            what="the timed-out send to be marked unknown",
        )
        await eventually(
            lambda: booking.text_states(booked["appointment_id"]),
            lambda states: states[0] == ("confirmation", "sent"),
            what="reconciliation to find the text at Twilio",
        )
        assert len(fake.messages_to(PHONE)) == 1
        assert len([c for c in fake.creates() if c["form"]["To"] == PHONE]) == 1
        lists = [r for r in fake.requests if r["method"] == "GET" and r["query"].get("To") == PHONE]
        assert lists, "reconciliation asked Twilio for the messages to the number"


async def test_a_send_twilio_refused_with_500_is_sent_again_once_after_checking(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m"]')
    async with Harness(server) as h:
        booking = await client(h)
        fake.fail_next(1, status=500, create=False)
        booked = await booking.book(await booking.next_start(900))
        await eventually(
            lambda: booking.text_states(booked["appointment_id"]),
            lambda states: states[0] == ("confirmation", "sent"),
            what="the text to go out after Twilio confirmed it never had it",
        )
        assert len(fake.messages_to(PHONE)) == 1
        assert len([c for c in fake.creates() if c["form"]["To"] == PHONE]) == 2
        [view] = [a for a in await booking.appointments() if a["appointment_id"] == booked["appointment_id"]]
        assert view["texts"][0]["attempts"] == 2
