"""SMS against Twilio's documented behaviour, end to end: a real server process sends through the
real twilio library to the local fake of Twilio's REST API, and inbound texts and status reports
come back signed as Twilio sends them.

- every Twilio opt-out word (STOP, UNSUBSCRIBE, END, QUIT, STOPALL, REVOKE, OPTOUT, CANCEL) and
  Kinline's STOPP opt out and withdraw the number's pending texts at once; START/UNSTOP/YES lift it;
- error 21610 from the REST API opts the number out and withdraws the rest;
- 429/20429 is retried with backoff without using up ``booking.max_send_attempts``;
- every message status Twilio documents has a deliberate meaning;
- start-up refuses malformed Twilio settings, naming the key;
- an old signed inbound text replayed after more than a week changes nothing."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.test_booking_sms import assert_private_log, client, inbound
from tests.support.booking import FAST_BOOKING_ENV, OTHER_PHONE, PHONE, eventually
from tests.support.clients import Harness
from tests.support.fake_twilio import FakeTwilio
from tests.support.server import ServerProcess


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


def creates_to(fake: FakeTwilio, number: str) -> list[dict]:
    return [c for c in fake.creates() if c["form"].get("To") == number]


# ---- opt-out and opt-in words


@pytest.mark.parametrize("word", ["REVOKE", "optout", "Stopall"])
async def test_every_twilio_opt_out_word_withdraws_the_pending_reminders(start_server, fake, word):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m", "5m"]')
    async with Harness(server) as h:
        booking = await client(h)
        booked = await booking.book(await booking.next_start(900))
        await eventually(
            lambda: booking.text_states(booked["appointment_id"]),
            lambda states: states[0] == ("confirmation", "sent"),
            what="the confirmation recorded as sent",
        )

        status, twiml = inbound(fake, server, PHONE, word)
        assert status == 200 and "<Message>" not in twiml, "Twilio itself confirms its opt-out words"

        appointment = await booking.appointment(booked["appointment_id"])
        assert [(t["purpose"], t["state"], t["error_code"]) for t in appointment["texts"]] == [
            ("confirmation", "sent", None),
            ("reminder", "suppressed", "opted_out"),
            ("reminder", "suppressed", "opted_out"),
        ], "Twilio blocks the number, so its reminders are withdrawn at once, not left pending"
        assert appointment["state"] == "booked", "an opt-out word other than CANCEL cancels nothing"
    assert_private_log(server)


async def test_cancel_cancels_the_appointment_and_opts_the_number_out_as_twilio_does(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m"]')
    async with Harness(server) as h:
        booking = await client(h)
        booked = await booking.book(await booking.next_start(900))
        await asyncio.to_thread(fake.wait_for_messages, 1, 20.0, PHONE)

        status, twiml = inbound(fake, server, PHONE, "Cancel")
        assert status == 200 and "<Message>" not in twiml

        appointment = await eventually(
            lambda: booking.appointment(booked["appointment_id"]),
            lambda a: a["state"] == "cancelled" and a["texts"][-1]["state"] == "suppressed",
            what="the appointment cancelled and its cancellation text suppressed",
        )
        assert appointment["cancelled_by"] == "sms"
        assert [t["state"] for t in appointment["texts"] if t["purpose"] == "reminder"] == ["suppressed"]
        assert len(creates_to(fake, PHONE)) == 1, "no text is attempted to a number Twilio blocks"

        again = await booking.book(await booking.next_start(1800))
        await eventually(
            lambda: booking.text_states(again["appointment_id"]),
            lambda states: states[0] == ("confirmation", "suppressed"),
            what="the number to stay opted out",
        )
        assert len(creates_to(fake, PHONE)) == 1


@pytest.mark.parametrize("word", ["START", "unstop"])
async def test_start_or_unstop_lifts_the_opt_out_as_twilio_does(start_server, fake, word):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m"]')
    async with Harness(server) as h:
        booking = await client(h)
        before = await booking.book(await booking.next_start(900))
        await asyncio.to_thread(fake.wait_for_messages, 1, 20.0, PHONE)
        status, twiml = inbound(fake, server, PHONE, "STOP")
        assert "<Message>" not in twiml
        during = await booking.book(await booking.next_start(1200))
        await eventually(
            lambda: booking.text_states(during["appointment_id"]),
            lambda states: states[0] == ("confirmation", "suppressed"),
            what="the confirmation suppressed while opted out",
        )

        status, twiml = inbound(fake, server, PHONE, word)
        assert status == 200 and "<Message>" not in twiml, "Twilio itself confirms the opt-in"

        after = await booking.book(await booking.next_start(1800))
        await eventually(
            lambda: booking.text_states(after["appointment_id"]),
            lambda states: states[0] == ("confirmation", "sent"),
            what="texts to go out again after the opt-in",
        )
        assert len(fake.messages_to(PHONE)) == 2
        assert await booking.text_states(before["appointment_id"]) == [
            ("confirmation", "sent"),
            ("reminder", "suppressed"),
        ], "texts withdrawn at the opt-out stay withdrawn"
        assert await booking.text_states(during["appointment_id"]) == [
            ("confirmation", "suppressed"),
            ("reminder", "pending"),
        ], "a reminder not yet due when the relative opted back in still goes out"


# ---- error 21610 from the REST API


async def test_21610_opts_the_number_out_and_withdraws_its_other_texts(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m", "5m"]')
    async with Harness(server) as h:
        booking = await client(h)
        fake.refuse_next(1, code=21610)
        booked = await booking.book(await booking.next_start(900))

        appointment = await eventually(
            lambda: booking.appointment(booked["appointment_id"]),
            lambda a: a["texts"][0]["state"] not in ("pending", "sending"),
            what="the refused confirmation to settle",
        )
        assert [(t["purpose"], t["state"], t["error_code"]) for t in appointment["texts"]] == [
            ("confirmation", "suppressed", "21610"),
            ("reminder", "suppressed", "opted_out"),
            ("reminder", "suppressed", "opted_out"),
        ]

        other = await booking.book(await booking.next_start(1800))
        await eventually(
            lambda: booking.text_states(other["appointment_id"]),
            lambda states: states[0] == ("confirmation", "suppressed"),
            what="the next booking's confirmation to be suppressed",
        )
        assert len(creates_to(fake, PHONE)) == 1, "Kinline does not keep asking Twilio to text the number"

        third = await booking.book(await booking.next_start(2400), phone=OTHER_PHONE)
        await eventually(
            lambda: booking.text_states(third["appointment_id"]),
            lambda states: states[0] == ("confirmation", "sent"),
            what="another number to be unaffected",
        )
    assert_private_log(server)


async def test_a_delivery_report_with_21610_opts_the_number_out_too(start_server, fake):
    """With a Messaging Service, Twilio can accept a text and report the opt-out later."""
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m"]')
    async with Harness(server) as h:
        booking = await client(h)
        booked = await booking.book(await booking.next_start(900))
        [text] = await asyncio.to_thread(fake.wait_for_messages, 1, 20.0, PHONE)
        await eventually(
            lambda: booking.text_states(booked["appointment_id"]),
            lambda states: states[0] == ("confirmation", "sent"),
            what="the confirmation recorded as sent",
        )
        assert fake.report_status(text["sid"], "failed", error_code=21610) == 204
        appointment = await eventually(
            lambda: booking.appointment(booked["appointment_id"]),
            lambda a: a["texts"][0]["state"] == "failed",
            what="the report to be recorded",
        )
        assert [(t["state"], t["error_code"]) for t in appointment["texts"]] == [
            ("failed", "21610"),
            ("suppressed", "opted_out"),
        ]


# ---- 429 / 20429


THROTTLE_ENV = {
    "KINLINE_BOOKING__REMINDER_OFFSETS": '["10m"]',
    "KINLINE_BOOKING__MAX_SEND_ATTEMPTS": "1",
    "KINLINE_SMS__THROTTLE_BACKOFF": "1s",
    "KINLINE_SMS__THROTTLE_BACKOFF_MAX": "2s",
}


async def test_429_is_retried_after_retry_after_without_using_up_the_send_attempts(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["10m"]', KINLINE_BOOKING__MAX_SEND_ATTEMPTS="1")
    async with Harness(server) as h:
        booking = await client(h)
        fake.throttle_next(2, retry_after=1)
        booked = await booking.book(await booking.next_start(900))

        appointment = await eventually(
            lambda: booking.appointment(booked["appointment_id"]),
            lambda a: a["texts"][0]["state"] == "sent",
            what="the throttled confirmation to go out",
        )
        confirmation = appointment["texts"][0]
        assert confirmation["attempts"] == 1, "a 429 was never processed: it is not an attempt"
        assert confirmation["error_code"] is None
        assert not appointment["sms_problem"]
        creates = creates_to(fake, PHONE)
        assert len(creates) == 3 and len(fake.messages_to(PHONE)) == 1
        gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(creates)]
        assert all(gap >= 0.9 for gap in gaps), f"Retry-After: 1 was not honoured: {gaps}"


async def test_a_text_twilio_keeps_throttling_fails_with_20429_visible(start_server, fake):
    server = start_server(**THROTTLE_ENV, KINLINE_SMS__THROTTLE_RETRIES="3")
    async with Harness(server) as h:
        booking = await client(h)
        fake.throttle_next(100, retry_after=None)
        booked = await booking.book(await booking.next_start(900))

        appointment = await eventually(
            lambda: booking.appointment(booked["appointment_id"]),
            lambda a: a["texts"][0]["state"] == "failed",
            timeout=40.0,
            what="the text to fail after the throttle retries",
        )
        confirmation = appointment["texts"][0]
        assert confirmation["error_code"] == "20429" and appointment["sms_problem"]
        assert confirmation["attempts"] == 1
        assert len(creates_to(fake, PHONE)) == 4, "the first try and three retries"
        assert fake.messages_to(PHONE) == []


# ---- statuses


async def test_every_twilio_status_has_a_deliberate_meaning(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS="[]")
    async with Harness(server) as h:
        booking = await client(h)
        first = await booking.book(await booking.next_start(900))
        second = await booking.book(await booking.next_start(1800), phone=OTHER_PHONE)
        [to_first] = await asyncio.to_thread(fake.wait_for_messages, 1, 20.0, PHONE)
        [to_second] = await asyncio.to_thread(fake.wait_for_messages, 1, 20.0, OTHER_PHONE)
        for appointment in (first, second):
            await eventually(
                lambda a=appointment: booking.text_states(a["appointment_id"]),
                lambda states: states == [("confirmation", "sent")],
                what="both confirmations recorded as sent",
            )

        for inbound_only in ("receiving", "received"):
            assert fake.report_status(to_first["sid"], inbound_only) == 204
        assert await booking.text_states(first["appointment_id"]) == [("confirmation", "sent")]

        assert fake.report_status(to_first["sid"], "partially_delivered") == 204
        partial = await eventually(
            lambda: booking.appointment(first["appointment_id"]),
            lambda a: a["texts"][0]["state"] != "sent",
            what="partially_delivered to be recorded",
        )
        assert partial["texts"][0]["state"] == "undelivered" and partial["sms_problem"]

        assert fake.report_status(to_second["sid"], "canceled") == 204
        cancelled = await eventually(
            lambda: booking.appointment(second["appointment_id"]),
            lambda a: a["texts"][0]["state"] != "sent",
            what="canceled to be recorded",
        )
        assert cancelled["texts"][0]["state"] == "failed" and cancelled["sms_problem"]


# ---- start-up checks


def test_startup_refuses_malformed_twilio_settings_naming_each_key(server_factory, fake):
    server = server_factory(
        fake.server_env(
            KINLINE_SMS__TWILIO_ACCOUNT_SID="AC123",
            KINLINE_SMS__TWILIO_AUTH_TOKEN="",
            KINLINE_SMS__TWILIO_FROM="0701740605",
            KINLINE_PUBLIC_URL="http://kinline.example.org",
        ),
        start=False,
    )
    for command in (("migrate",), ("serve", "--port", str(server.port))):
        result = server.cli(*command)
        assert result.returncode != 0, result.stdout
        for key in ("sms.twilio_account_sid", "sms.twilio_auth_token", "sms.twilio_from", "public_url"):
            assert key in result.stderr, f"{command}: {key} not named in {result.stderr!r}"
        assert fake.auth_token not in result.stderr


def test_startup_accepts_a_messaging_service_sid_and_refuses_a_malformed_one(server_factory, fake):
    service_sid = "MG" + "ab12" * 8
    server = server_factory(
        fake.server_env(**FAST_BOOKING_ENV, KINLINE_SMS__TWILIO_FROM=service_sid), start=False
    )
    result = server.cli("migrate")
    assert result.returncode == 0, result.stderr
    bad = server_factory(fake.server_env(KINLINE_SMS__TWILIO_FROM="MG123"), start=False)
    refused = bad.cli("migrate")
    assert refused.returncode != 0 and "sms.twilio_from" in refused.stderr


# ---- replays


async def test_an_old_signed_avboka_replayed_after_a_week_cancels_nothing(start_server, fake):
    server = start_server(KINLINE_BOOKING__REMINDER_OFFSETS='["8s", "4s"]')
    async with Harness(server) as h:
        booking = await client(h)
        first = await booking.book(await booking.next_start(900))
        url = f"{server.url}/webhooks/twilio/sms"
        form = fake.inbound(PHONE, "AVBOKA")
        signature = fake.signature(url, form)
        assert fake.webhook(url, form, signature)[0] == 200
        assert (await booking.appointment(first["appointment_id"]))["state"] == "cancelled"

        with sqlite3.connect(server.db_path, timeout=10) as database:
            aged = database.execute(
                "UPDATE sms_inbound_seen SET received_at = "
                "strftime('%Y-%m-%d %H:%M:%f', received_at, '-8 days')"
            ).rowcount
        assert aged == 1, "the webhook's MessageSid was recorded"

        second = await booking.book(await booking.next_start(14))
        await eventually(
            lambda: booking.text_states(second["appointment_id"]),
            lambda states: [s for p, s in states if p == "reminder"] == ["sent", "sent"],
            timeout=45.0,
            what="two sweeps after the MessageSid aged past a week",
        )

        status, twiml = fake.webhook(url, form, signature)
        assert status == 200 and "<Message>" not in twiml
        assert (await booking.appointment(second["appointment_id"]))["state"] == "booked", (
            "a replayed signed AVBOKA cancelled the next appointment"
        )
