"""Real Chromium: a relative books a phone call from the relative's page (in Arabic, right to left),
gets a reference and a manage code, and cancels with the code; a counsellor watching the console
sees the appointment appear and then turn cancelled, without a reload. The administrator sees the
texts in the SMS outbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import PageProblems, chromium, open_page, submit_sign_in
from tests.e2e.catalogs import catalog
from tests.support.booking import ALL_WEEK
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)

ROOT = Path(__file__).resolve().parents[2]
COUNSELLOR = "booking-counsellor"
ADMIN = "booking-admin"
MANAGE_CODE = re.compile(r"^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$")
REFERENCE = re.compile(r"[A-Z0-9]{6}")
LOCAL_NUMBER = "070-174 06 05"


class Shots:
    """test-artifacts/booking-browser-NN-<step>.png in the order taken (this run's replace the last)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0
        for old in directory.glob("booking-browser-*.png"):
            old.unlink()

    def take(self, page: Page, step: str) -> None:
        self.count += 1
        name = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        page.screenshot(path=self.directory / f"booking-browser-{self.count:02d}-{name}.png", full_page=True)


def log_in(page: Page, username: str, password: str) -> None:
    submit_sign_in(page, username, password)
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "connected")


def set_availability(page: Page) -> None:
    status = page.evaluate(
        """async (weekly) => (await fetch('/api/me/availability', {
            method: 'PUT', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({languages: ['sv', 'ar'], weekly, exceptions: []})})).status""",
        ALL_WEEK,
    )
    assert status == 200


@pytest.fixture
def booking_server(server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    return server_factory({"KINLINE_BOOKING__KINDS__PHONE__MIN_NOTICE": "0s"})


def test_book_from_the_relative_page_cancel_with_the_code_while_the_console_follows(
    booking_server: ServerProcess, artifacts_dir: Path
) -> None:
    server = booking_server
    password = server.add_user(COUNSELLOR, "counsellor")
    server.add_user(ADMIN, "admin")
    arabic = catalog("ar")["booking"]
    shots = Shots(artifacts_dir)
    problems = PageProblems(expected_failures=("/api/me", "/api/appointments"))
    with chromium() as browser:
        console = open_page(browser, server.url, problems, "console", phone=False, locale="sv-SE")
        log_in(console, COUNSELLOR, password)
        set_availability(console)
        console.get_by_test_id("view-appointments").click()
        expect(console.get_by_text(catalog("sv")["booking"]["console"]["empty"])).to_be_visible()
        expect(console.get_by_test_id("appointment")).to_have_count(0)
        console.evaluate("window.kinlineTestNeverReloaded = true")
        shots.take(console, "console no appointments")

        relative = open_page(browser, server.url, problems, "relative", phone=True, locale="ar")
        relative.goto("/")
        relative.get_by_test_id("lang-select").select_option("ar")
        expect(relative.locator("html")).to_have_attribute("dir", "rtl")
        expect(relative.get_by_test_id("booking-open")).to_have_text(arabic["open_button"])
        relative.get_by_test_id("booking-open").click()
        dialog = relative.get_by_test_id("booking-dialog")
        expect(dialog).to_be_visible()
        expect(relative.get_by_test_id("booking-language")).to_have_value("ar")
        slot = relative.get_by_test_id("booking-slots").get_by_test_id("booking-slot").first
        expect(slot).to_be_visible()
        start = slot.get_attribute("data-start")
        shots.take(relative, "relative arabic free times")
        assert "counsellor" not in (relative.get_by_test_id("booking-slots").inner_text()).lower()

        slot.click()
        expect(slot).to_have_attribute("aria-pressed", "true")
        relative.get_by_test_id("booking-phone").fill("12345")
        relative.get_by_test_id("booking-submit").click()
        expect(relative.get_by_test_id("booking-error")).to_have_text(arabic["errors"]["invalid_phone"])
        relative.get_by_test_id("booking-phone").fill(LOCAL_NUMBER)
        relative.get_by_test_id("booking-submit").click()
        code_element = relative.get_by_test_id("booking-manage-code")
        expect(code_element).to_have_text(MANAGE_CODE)
        manage_code = code_element.inner_text().strip()
        reference = REFERENCE.search(relative.get_by_test_id("booking-reference").inner_text())
        assert reference is not None
        shots.take(relative, "relative arabic booked with manage code")

        with relative.expect_download() as download:
            relative.get_by_test_id("booking-calendar").click()
        calendar = Path(download.value.path()).read_text()
        assert "BEGIN:VEVENT" in calendar and f"SUMMARY:{arabic['ics_title']}" in calendar
        assert COUNSELLOR not in calendar

        booked = console.locator(f'[data-testid="appointment"][data-reference="{reference.group(0)}"]')
        expect(booked).to_be_visible()
        expect(booked).to_have_attribute("data-state", "booked")
        expect(booked.get_by_test_id("appointment-texts")).to_contain_text("Bekräftelse: levererat")
        shots.take(console, "console the new appointment appeared")

        relative.get_by_test_id("booking-finish").click()
        expect(dialog).to_be_hidden()
        relative.get_by_test_id("booking-manage-open").click()
        relative.get_by_test_id("booking-manage-input").fill(manage_code.lower())
        relative.get_by_test_id("booking-manage-find").click()
        expect(relative.get_by_test_id("booking-state")).to_have_text(arabic["state_booked"])
        relative.get_by_test_id("booking-cancel").click()
        relative.get_by_test_id("booking-cancel-confirm").click()
        expect(relative.get_by_test_id("booking-state")).to_have_text(arabic["cancelled"])
        expect(relative.get_by_test_id("booking-cancel")).to_be_hidden()
        shots.take(relative, "relative arabic cancelled with the code")

        relative.get_by_test_id("booking-manage-find").click()
        expect(relative.get_by_test_id("booking-state")).to_have_text(arabic["state_cancelled"])
        expect(relative.get_by_test_id("booking-cancel")).to_be_hidden()

        expect(booked).to_have_attribute("data-state", "cancelled")
        expect(booked.get_by_test_id("appointment-texts")).to_contain_text("Avbokning")
        shots.take(console, "console the appointment turned cancelled")
        assert console.evaluate("window.kinlineTestNeverReloaded === true"), "the console was reloaded"

        admin = open_page(browser, server.url, problems, "admin", phone=False, locale="sv-SE")
        log_in(admin, ADMIN, password)
        admin.get_by_test_id("view-appointments").click()
        outbox = admin.get_by_test_id("outbox-list")
        expect(outbox).to_contain_text("تم الحجز")
        expect(outbox).to_contain_text("تم الإلغاء")
        assert "174 06 05" not in outbox.inner_text() and "1740605" not in outbox.inner_text()
        shots.take(admin, "admin sms outbox")

    assert start is not None
    assert problems.seen == [], f"the pages reported errors: {problems.seen}"
