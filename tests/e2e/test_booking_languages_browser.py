"""Real Chromium, the booking dialog's language select: a Persian speaker finds no free times in
Persian, is told (in Persian) which languages have them, changes the select and gets slots; a Somali
speaker with no Somali-speaking counsellor books a phone call with an interpreter instead, the fake
Twilio gets the confirmation in Somali, and the counsellor's console shows "Tolk: Somaliska" live.
axe (WCAG 2.2 A and AA) finds nothing in each new state of the dialog."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import assert_accessible, assert_no_sideways_scroll
from tests.e2e.browser import PageProblems, chromium, open_page
from tests.e2e.catalogs import catalog
from tests.e2e.test_booking_browser import log_in, set_availability
from tests.support.booking import PHONE
from tests.support.fake_twilio import FakeTwilio
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)

ROOT = Path(__file__).resolve().parents[2]
COUNSELLOR = "languages-counsellor"
ENV = {
    "KINLINE_BOOKING__KINDS__PHONE__MIN_NOTICE": "0s",
    "KINLINE_BOOKING__KINDS__INTERPRETER_CALL__MIN_NOTICE": "0s",
    "KINLINE_BOOKING__REMINDER_OFFSETS": "[]",
}


def shot(page: Page, directory: Path, name: str) -> None:
    page.screenshot(path=directory / f"booking-languages-{name}.png", full_page=True)


def open_relative(page: Page, language: str) -> None:
    page.goto("/")
    page.get_by_test_id("lang-select").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.get_by_test_id("booking-open").click()
    expect(page.get_by_test_id("booking-dialog")).to_be_visible()
    expect(page.get_by_test_id("booking-language")).to_have_value(language)


def test_a_persian_speaker_sees_which_languages_have_times_and_changes_the_select(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(ENV, start=False)
    password = server.add_user(COUNSELLOR, "counsellor")
    server.start()
    persian = catalog("fa")["booking"]
    problems = PageProblems(expected_failures=("/api/me",))
    with chromium() as browser:
        console = open_page(browser, server.url, problems, "console", phone=False, locale="sv-SE")
        log_in(console, COUNSELLOR, password)
        set_availability(console)  # Swedish and Arabic, all week

        relative = open_page(browser, server.url, problems, "relative", phone=True, locale="fa")
        open_relative(relative, "fa")
        status = relative.get_by_test_id("booking-slot-status")
        expect(status).to_contain_text(persian["no_slots_in_language"].split("{language}")[0].strip())
        expect(status).to_contain_text("فارسی")
        others = relative.get_by_test_id("booking-other-languages")
        expect(others).to_be_visible()
        expect(others).to_contain_text("Svenska")
        expect(others).to_contain_text("العربية")
        expect(others).not_to_contain_text("فارسی")
        expect(others).not_to_contain_text("English")
        expect(relative.get_by_test_id("booking-slots").get_by_test_id("booking-slot")).to_have_count(0)
        select = relative.get_by_test_id("booking-language")
        marked = select.locator("option[data-has-slots='true']")
        expect(marked).to_have_count(2)
        has_slots = persian["language_has_slots"].replace("{language}", "").strip(" –")
        assert [option.get_attribute("value") for option in marked.all()] == ["sv", "ar"]
        assert all(has_slots in option.inner_text() for option in marked.all())
        expect(select.locator("option[value='fa']")).to_have_attribute("data-has-slots", "false")
        expect(relative.get_by_test_id("booking-interpreter")).to_be_visible()
        assert_accessible(relative, "booking dialog, fa, no free times in Persian")
        assert_no_sideways_scroll(relative, "booking dialog, fa, no free times in Persian")
        shot(relative, artifacts_dir, "01-fa-no-times")

        select.select_option("sv")
        slot = relative.get_by_test_id("booking-slots").get_by_test_id("booking-slot").first
        expect(slot).to_be_visible()
        expect(others).to_be_hidden()
        expect(relative.get_by_test_id("booking-interpreter")).to_be_hidden()
        expect(status).to_have_text("")
        slot.click()
        expect(relative.get_by_test_id("booking-selected")).to_be_visible()
        assert_accessible(relative, "booking dialog, fa page, Swedish times")
        shot(relative, artifacts_dir, "02-fa-swedish-times")

        # Back to Persian: the chosen time is cleared, and the dead end is gone for good.
        select.select_option("fa")
        expect(others).to_be_visible()
        expect(relative.get_by_test_id("booking-selected")).to_be_hidden()
        relative.get_by_test_id("booking-submit").click()
        expect(relative.get_by_test_id("booking-error")).to_have_text(persian["errors"]["choose_slot"])
    assert problems.seen == [], f"the pages reported errors: {problems.seen}"


def test_a_somali_speaker_books_a_call_with_an_interpreter_and_the_console_shows_the_language(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    somali = catalog("so")
    with FakeTwilio() as fake:
        server = server_factory(fake.server_env(**ENV), start=False)
        password = server.add_user(COUNSELLOR, "counsellor")
        server.start()
        problems = PageProblems(expected_failures=("/api/me",))
        with chromium() as browser:
            console = open_page(browser, server.url, problems, "console", phone=False, locale="sv-SE")
            log_in(console, COUNSELLOR, password)
            set_availability(console)
            console.get_by_test_id("view-appointments").click()
            console.evaluate("window.kinlineTestNeverReloaded = true")

            relative = open_page(browser, server.url, problems, "relative", phone=True, locale="so")
            open_relative(relative, "so")
            interpreter = relative.get_by_test_id("booking-interpreter")
            expect(interpreter).to_be_visible()
            expect(interpreter).to_contain_text(somali["booking"]["interpreter_hint"])
            relative.get_by_test_id("booking-interpreter-choose").click()
            expect(relative.get_by_test_id("booking-kind-interpreter_call")).to_be_checked()
            expect(relative.get_by_test_id("booking-language")).to_have_value("so")
            slot = relative.get_by_test_id("booking-slots").get_by_test_id("booking-slot").first
            expect(slot).to_be_visible()
            expect(interpreter).to_be_hidden()
            kind_label = relative.locator("label[for='booking-kind-interpreter_call']")
            expect(kind_label).to_contain_text(somali["booking"]["kind_interpreter_call"])
            assert_accessible(relative, "booking dialog, so, interpreter times")
            shot(relative, artifacts_dir, "03-so-interpreter-times")

            slot.click()
            relative.get_by_test_id("booking-phone").fill(PHONE)
            relative.get_by_test_id("booking-submit").click()
            expect(relative.get_by_test_id("booking-manage-code")).to_have_text(re.compile(r"\w{4}-"))
            when = relative.get_by_test_id("booking-when")
            expect(when).to_contain_text(somali["booking"]["kind_interpreter_call"])
            reference = re.search(r"[A-Z0-9]{6}", relative.get_by_test_id("booking-reference").inner_text())
            assert reference is not None
            assert_accessible(relative, "booking dialog, so, interpreter call booked")
            shot(relative, artifacts_dir, "04-so-interpreter-booked")

            [text] = fake.wait_for_messages(1, number=PHONE)
            what = somali["sms"]["kind_interpreter_call"]
            assert text["body"].startswith(somali["sms"]["confirmation"].split("{what}")[0] + what), text[
                "body"
            ]
            assert somali["sms"]["cancel_word"] in text["body"]

            booked = console.locator(f'[data-testid="appointment"][data-reference="{reference.group(0)}"]')
            expect(booked).to_be_visible()
            shown = booked.get_by_test_id("appointment-interpreter")
            expect(shown).to_have_attribute("data-language", "so")
            expect(shown).to_have_text(re.compile(r"^Tolk: Somaliska \(so\)$"))
            expect(booked.get_by_test_id("appointment-phone")).to_be_visible()
            expect(booked.get_by_test_id("appointment-texts")).to_contain_text("Bekräftelse")
            assert_accessible(console, "console appointments, an interpreter call")
            shot(console, artifacts_dir, "05-console-interpreter")
            assert console.evaluate("window.kinlineTestNeverReloaded === true"), "the console was reloaded"
        assert problems.seen == [], f"the pages reported errors: {problems.seen}"
