"""Fault test: kill -9 the server while reminders are going out, restart it, and every reminder
reaches Twilio exactly once.

Eight relatives book seats in one group session; their eight reminders fall due together. The
fake Twilio takes two seconds to answer each text and the server sends two at a time, so when the
third reminder arrives at Twilio two are in flight: the server is killed right then. After the
restart the interrupted sends are reconciled with Twilio (found there, not sent again) and the
rest go out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.booking import FAST_BOOKING_ENV, BookingClient, eventually
from tests.support.clients import Harness
from tests.support.fake_twilio import FakeTwilio

pytestmark = pytest.mark.fault

ZONE = ZoneInfo("Europe/Stockholm")
SEATS = 8
NUMBERS = [f"+467017406{10 + i}" for i in range(SEATS)]
DUE_AFTER = timedelta(seconds=35)
SETTLED = {"sent", "delivered"}


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as running:
        running.delay = 2.0
        yield running


def session_plan() -> tuple[datetime, dict[str, str]]:
    """A group session on a whole local minute about 1.5 minutes ahead, with one reminder that
    falls due ``DUE_AFTER`` from now, by when all seats are booked."""
    now = datetime.now(UTC)
    local_start = (now + timedelta(seconds=90)).astimezone(ZONE).replace(second=0, microsecond=0) + timedelta(
        minutes=1
    )
    start = local_start.astimezone(UTC)
    offset = int((start - (now + DUE_AFTER)).total_seconds())
    env = {
        **FAST_BOOKING_ENV,
        "KINLINE_BOOKING__REMINDER_OFFSETS": json.dumps([f"{offset}s"]),
        "KINLINE_BOOKING__KINDS__GROUP__SESSIONS": json.dumps([local_start.strftime("%Y-%m-%d %H:%M")]),
        "KINLINE_BOOKING__KINDS__GROUP__MONTHLY": "[]",
        "KINLINE_BOOKING__KINDS__GROUP__SEATS": str(SEATS),
        "KINLINE_BOOKING__KINDS__GROUP__DURATION": "1m",
        "KINLINE_BOOKING__KINDS__GROUP__BUFFER": "0s",
        "KINLINE_BOOKING__KINDS__GROUP__MIN_NOTICE": "0s",
        "KINLINE_SMS__MAX_CONCURRENT_SENDS": "2",
        "KINLINE_SMS__SEND_TIMEOUT": "5s",
    }
    return start, env


def reminders(fake: FakeTwilio) -> list[dict]:
    return [m for m in fake.messages if m["body"].startswith("Påminnelse")]


async def test_kill_9_while_reminders_are_due_then_each_goes_out_exactly_once(server_factory, fake):
    start, env = session_plan()
    server = server_factory(fake.server_env(**env), start=False)
    server.add_user("alice")
    server.start()
    async with Harness(server) as h:
        staff = h.api()
        await staff.login("alice")
        booking = BookingClient(staff, h.api())
        await booking.open_all_week(("sv",))
        booked = [await booking.book(start.isoformat(), phone=number, kind="group") for number in NUMBERS]
        assert all(b["start"] == start.isoformat() for b in booked)
        plans = await booking.appointments()
        assert all(
            ("reminder", "pending") in [(t["purpose"], t["state"]) for t in a["texts"]] for a in plans
        ), "every reminder was planned before it fell due"

        await asyncio.to_thread(fake.wait_for, lambda: len(reminders(fake)) >= 3, 90.0, "reminders to start")
        server.kill()
        at_kill = len(reminders(fake))
        assert at_kill < SEATS, "the server was killed before every reminder went out"

        server.start()
        staff_again = h.api()
        await staff_again.login("alice")
        booking = BookingClient(staff_again, h.api())

        def all_reminders_settled(appointments: list[dict]) -> bool:
            states = [t["state"] for a in appointments for t in a["texts"] if t["purpose"] == "reminder"]
            return len(states) == SEATS and set(states) <= SETTLED

        settled = await eventually(
            booking.appointments, all_reminders_settled, timeout=90, what="every reminder"
        )

    reminder_creates = [c for c in fake.creates() if c["form"]["Body"].startswith("Påminnelse")]
    assert sorted(c["form"]["To"] for c in reminder_creates) == sorted(NUMBERS), (
        "a reminder went out twice or never"
    )
    assert sorted(m["to"] for m in reminders(fake)) == sorted(NUMBERS)
    interrupted = [
        t
        for a in settled
        for t in a["texts"]
        if t["purpose"] == "reminder" and t["error_code"] == "interrupted"
    ]
    assert interrupted, "no send was caught in flight: the restart had nothing to reconcile"
    assert all(c["at"] < start.timestamp() for c in reminder_creates), (
        "a reminder arrived after the session began"
    )
    log = server.log()
    assert not any(number in log for number in NUMBERS)
