"""Real Chromium: a text Twilio kept throttling (429) fails, and the counsellor's console shows it
with Twilio's error code 20429, live, without a reload."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import PageProblems, chromium, open_page
from tests.e2e.test_booking_browser import log_in, set_availability
from tests.support.booking import FAST_BOOKING_ENV
from tests.support.fake_twilio import FakeTwilio
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

BOOK = """async () => {
    const now = new Date();
    const to = new Date(now.getTime() + 4 * 3600 * 1000);
    const query = new URLSearchParams(
        {kind: 'phone', language: 'sv', from: now.toISOString(), to: to.toISOString()});
    const {slots} = await (await fetch(`/api/slots?${query}`)).json();
    const slot = slots.find((s) => new Date(s.start) - now > 600 * 1000);
    const response = await fetch('/api/appointments', {
        method: 'POST', headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({kind: 'phone', start: slot.start, language: 'sv', phone: '+46701740605'})});
    return (await response.json()).reference;
}"""


def test_the_console_shows_the_error_code_of_a_text_that_finally_failed(
    server_factory: Callable[..., ServerProcess],
) -> None:
    with FakeTwilio() as fake:
        server = server_factory(
            fake.server_env(
                **FAST_BOOKING_ENV,
                KINLINE_BOOKING__REMINDER_OFFSETS="[]",
                KINLINE_SMS__THROTTLE_RETRIES="1",
                KINLINE_SMS__THROTTLE_BACKOFF="1s",
            ),
            start=False,
        )
        password = server.add_user("sms-counsellor", "counsellor")
        server.start()
        fake.throttle_next(10, retry_after=None)
        problems = PageProblems(expected_failures=("/api/me",))
        with chromium() as browser:
            console = open_page(browser, server.url, problems, "console", phone=False, locale="sv-SE")
            log_in(console, "sms-counsellor", password)
            set_availability(console)
            console.get_by_test_id("view-appointments").click()
            console.evaluate("window.kinlineTestNeverReloaded = true")
            reference = console.evaluate(BOOK)

            booked = console.locator(f'[data-testid="appointment"][data-reference="{reference}"]')
            expect(booked).to_be_visible()
            expect(booked.get_by_test_id("appointment-sms-problem")).to_be_visible()
            expect(booked.get_by_test_id("appointment-text-error")).to_have_text(" · felkod 20429")
            assert console.evaluate("window.kinlineTestNeverReloaded === true")
        assert problems.seen == [], f"the pages reported errors: {problems.seen}"
        assert len(fake.creates()) == 2
