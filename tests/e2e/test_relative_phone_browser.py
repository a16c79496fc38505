"""The relative's page on phones, in real Chromium, in all six languages: every screen (start, booking,
manage-booking, waiting, active with a counsellor, escalation status, ended) fits 320 and 360 px without
sideways scrolling, has 0 axe violations (WCAG 2.2 A and AA) and no English left in a translated page;
`?lang=` chooses the language; the heading setting chooses the wording; the input and the newest message
stay in view with the keyboard up (360x400); quick exit is one tap over the booking dialog; and the main
paths work with the keyboard alone. Screenshots: test-artifacts/relative-360-<lang>-<state>.png.

One server and one browser serve the whole module. The counsellor is a real staff session with real
socket.io and HTTP clients, run on an event loop of its own (Playwright's sync API holds this thread's)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import relative_page
from tests.e2e.accessibility import assert_accessible, assert_no_sideways_scroll
from tests.e2e.browser import PageProblems, chromium, open_page
from tests.e2e.catalogs import catalog, text
from tests.e2e.relative_page import (
    EXIT_URL,
    LANGUAGES,
    PHONE_HEIGHT,
    WIDTHS,
    Counsellor,
    conversation_id,
    phone,
    press_tab_until,
)
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

RIGHT_TO_LEFT = {"ar", "fa"}
# axe runs on every state in these; on the start screen in all six.
AXE_EVERY_STATE = {"sv", "ar"}
LOCAL_NUMBER = "070-174 06 05"


def leaves(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from leaves(value)
    elif isinstance(node, str):
        yield node


@cache
def english_patterns(language: str) -> tuple[re.Pattern[str], ...]:
    """Every English text (placeholders as wildcards) that the catalog of ``language`` does not also use."""
    own = set(leaves(catalog(language)))
    patterns = []
    for english in set(leaves(catalog("en"))) - own:
        if len(re.sub(r"\{\w+\}|[^A-Za-z]", "", english)) < 3:
            continue
        parts = re.split(r"\{\w+\}", english)
        patterns.append(re.compile(".+?".join(re.escape(part) for part in parts), re.DOTALL))
    return tuple(patterns)


# Visible texts in the page's own language: text nodes, the options of visible menus, placeholders and
# accessible labels; not what is marked as another language (the language menu names each in its own).
VISIBLE_TEXTS = """() => {
  const pageLang = document.documentElement.lang;
  const ownLanguage = (element) => (element.closest('[lang]')?.lang || pageLang) === pageLang;
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    const value = node.textContent.trim();
    if (value && element.checkVisibility() && ownLanguage(element)) texts.push(value);
  }
  for (const select of document.querySelectorAll('select')) {
    if (!select.checkVisibility()) continue;
    for (const option of select.options) if (ownLanguage(option)) texts.push(option.textContent.trim());
  }
  for (const element of document.querySelectorAll('[placeholder], [aria-label]')) {
    if (!element.checkVisibility() || !ownLanguage(element)) continue;
    for (const name of ['placeholder', 'aria-label']) {
      if (element.getAttribute(name)) texts.push(element.getAttribute(name));
    }
  }
  return texts;
}"""


def assert_no_english(page: Page, language: str, state: str) -> None:
    """No visible text of a translated page is an English catalog text (a fallback) or a bare key."""
    if language == "en":
        return
    texts: list[str] = page.evaluate(VISIBLE_TEXTS)
    leaked = [
        value
        for value in texts
        if re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", value)
        or any(pattern.fullmatch(value) for pattern in english_patterns(language))
    ]
    assert not leaked, f"{language}, {state}: English on the page: {leaked}"


@pytest.fixture(scope="module")
def phone_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[ServerProcess]:
    with relative_page.phone_server(
        tmp_path_factory.mktemp("relative-phone"), artifacts_dir, "relative-phone"
    ) as server:
        yield server


@pytest.fixture(scope="module")
def counsellor(phone_server: ServerProcess) -> Iterator[Counsellor]:
    with relative_page.signed_in_counsellor(phone_server) as staff:
        yield staff


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def problems() -> Iterator[PageProblems]:
    seen = PageProblems()
    yield seen
    assert seen.seen == [], f"the pages reported errors: {seen.seen}"


def boxes_overlap(first: dict[str, float], second: dict[str, float]) -> bool:
    return not (
        first["x"] + first["width"] <= second["x"]
        or second["x"] + second["width"] <= first["x"]
        or first["y"] + first["height"] <= second["y"]
        or second["y"] + second["height"] <= first["y"]
    )


class ScreenCheck:
    """Every check of one screen: no sideways scroll at 320 and 360 px, quick exit clear of the language menu,
    no English, axe, and the 360 px screenshot."""

    def __init__(self, language: str, artifacts: Path) -> None:
        self.language = language
        self.artifacts = artifacts

    def __call__(self, page: Page, state: str, *, axe: bool | None = None) -> None:
        label = f"{self.language}, {state}"
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
            assert_no_sideways_scroll(page, f"{label}, {width} px")
        page.set_viewport_size({"width": WIDTHS[0], "height": PHONE_HEIGHT})
        if not page.locator("dialog[open]").count():
            exit_box = page.get_by_test_id("quick-exit").bounding_box()
            menu_box = page.get_by_test_id("lang-select").bounding_box()
            assert exit_box and menu_box, label
            assert not boxes_overlap(exit_box, menu_box), f"{label}: quick exit covers the language menu"
        assert_no_english(page, self.language, state)
        page.set_viewport_size({"width": WIDTHS[1], "height": PHONE_HEIGHT})
        page.screenshot(path=self.artifacts / f"relative-360-{self.language}-{state}.png")
        if axe if axe is not None else self.language in AXE_EVERY_STATE:
            assert_accessible(page, label)
        page.set_viewport_size({"width": WIDTHS[0], "height": PHONE_HEIGHT})


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_fits_a_phone_in_every_language(
    language: str,
    phone_server: ServerProcess,
    counsellor: Counsellor,
    browser: Browser,
    problems: PageProblems,
    artifacts_dir: Path,
) -> None:
    check = ScreenCheck(language, artifacts_dir)
    manage_code = counsellor.manage_code(language)
    page = phone(browser, phone_server, problems)

    page.goto(f"/?lang={language}")
    expect(page.get_by_test_id("start-button")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language in RIGHT_TO_LEFT else "ltr")
    expect(page.locator("#start-heading")).to_have_text(text(language, "widget.heading_neutral"))
    check(page, "start", axe=True)

    page.get_by_test_id("booking-open").click()
    expect(page.get_by_test_id("booking-slots").get_by_test_id("booking-slot").first).to_be_visible()
    check(page, "booking")
    page.get_by_test_id("booking-close").click()

    page.get_by_test_id("booking-manage-open").click()
    page.get_by_test_id("booking-manage-input").fill(manage_code)
    page.get_by_test_id("booking-manage-find").click()
    expect(page.get_by_test_id("booking-state")).to_have_text(text(language, "booking.state_booked"))
    check(page, "manage-booking")
    page.get_by_test_id("booking-close").click()

    page.get_by_test_id("start-button").click()
    expect(page.get_by_test_id("resume-code")).not_to_be_empty()
    resume_code = page.get_by_test_id("resume-code").inner_text().strip()
    check(page, "resume-code")
    page.get_by_test_id("resume-dismiss").click()
    expect(page.get_by_test_id("conversation-state")).to_have_attribute("data-state", "waiting")
    expect(page.get_by_test_id("queue-position")).to_be_visible()
    check(page, "waiting")

    conversation = conversation_id(page)
    counsellor.claim(conversation)
    counsellor.say(conversation, "Hej!")
    counsellor.escalate(conversation)
    expect(page.get_by_test_id("conversation-state")).to_have_attribute("data-state", "active")
    expect(page.locator('[data-testid="message"][data-sender="counsellor"]')).to_have_count(1)
    expect(page.locator('[data-testid="message"][data-sender="system"]')).to_have_count(1)
    page.get_by_test_id("message-input").fill("Tack.")
    page.get_by_test_id("send-button").click()
    expect(page.locator('[data-testid="message"][data-sender="relative"]')).to_have_attribute(
        "data-status", re.compile("delivered|read")
    )
    check(page, "active")

    page.get_by_test_id("booking-open-chat").click()
    expect(page.get_by_test_id("booking-dialog")).to_be_visible()
    check(page, "chat-booking")
    page.get_by_test_id("booking-close").click()

    other_device = page.context.new_page()
    problems.watch(other_device, "relative, another tab")
    other_device.goto(f"/?lang={language}")
    other_device.get_by_test_id("escalation-code-input").fill(resume_code)
    other_device.get_by_test_id("escalation-status-button").click()
    expect(other_device.get_by_test_id("escalation-status")).to_have_attribute("data-status", "sent")
    check(other_device, "escalation-status")
    other_device.close()

    page.get_by_test_id("end-button").click()
    expect(page.get_by_test_id("end-confirm")).to_be_visible()
    check(page, "end-dialog")
    page.get_by_test_id("end-confirm").click()
    expect(page.get_by_test_id("closed-notice")).to_be_visible()
    expect(page.get_by_test_id("conversation-state")).to_have_attribute("data-state", "closed")
    check(page, "ended")
    page.context.close()


def test_a_link_chooses_the_language_and_the_menu_still_works(
    phone_server: ServerProcess, browser: Browser, problems: PageProblems
) -> None:
    page = open_page(browser, phone_server.url, problems, "relative", phone=True, locale="sv-SE")
    page.goto("/?lang=fa")
    expect(page.locator("html")).to_have_attribute("lang", "fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("lang-select")).to_have_value("fa")
    expect(page.get_by_test_id("start-button")).to_have_text(text("fa", "widget.start_button"))

    page.get_by_test_id("lang-select").select_option("so")
    expect(page.locator("html")).to_have_attribute("lang", "so")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_test_id("start-button")).to_have_text(text("so", "widget.start_button"))
    assert page.url.endswith("/?lang=so"), page.url
    page.reload()
    expect(page.get_by_test_id("start-button")).to_have_text(text("so", "widget.start_button"))

    # An unknown value is ignored: a new visitor with a Swedish browser gets Swedish.
    fresh = open_page(browser, phone_server.url, problems, "relative, bad link", phone=True, locale="sv-SE")
    fresh.goto("/?lang=xx")
    expect(fresh.get_by_test_id("start-button")).to_have_text(text("sv", "widget.start_button"))
    expect(fresh.locator("html")).to_have_attribute("lang", "sv")


def test_the_heading_setting_chooses_the_wording(
    server_factory: Callable[..., ServerProcess], browser: Browser, problems: PageProblems
) -> None:
    explicit = server_factory({"KINLINE_PAGE__HEADING": "explicit"}, name="explicit-heading")
    for language in LANGUAGES:
        page = open_page(browser, explicit.url, problems, f"relative {language}", phone=True)
        page.goto(f"/?lang={language}")
        expect(page.locator("#start-heading")).to_have_text(text(language, "widget.heading_explicit"))
        page.context.close()
    assert text("sv", "widget.heading_neutral") == "Stöd för anhöriga"
    assert "extremism" not in text("en", "widget.heading_neutral")


def test_the_input_and_the_newest_message_stay_visible_with_the_keyboard_up(
    phone_server: ServerProcess, counsellor: Counsellor, browser: Browser, problems: PageProblems
) -> None:
    page = phone(browser, phone_server, problems)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/?lang=so")
    page.get_by_test_id("start-button").click()
    page.get_by_test_id("resume-dismiss").click()
    conversation = conversation_id(page)
    counsellor.claim(conversation)
    for number in range(1, 9):
        counsellor.say(conversation, f"Fariin {number}: " + "qoraal dheer oo tijaabo ah " * 4)
    page.get_by_test_id("message-input").fill("Mahadsanid")
    page.get_by_test_id("send-button").click()
    newest = page.locator('[data-testid="message"][data-sender="relative"]')
    expect(newest).to_have_attribute("data-status", re.compile("delivered|read"))

    # The on-screen keyboard takes the lower half of the screen.
    page.set_viewport_size({"width": 360, "height": 400})
    page.get_by_test_id("message-input").focus()
    # The whole input in the window; the newest message's end inside the message list's visible part.
    in_view = """([input, newest, list]) => {
        const field = input.getBoundingClientRect();
        const message = newest.getBoundingClientRect();
        const shown = list.getBoundingClientRect();
        return field.height > 0 && field.top >= 0 && field.bottom <= window.innerHeight
          && shown.top >= 0 && shown.bottom <= window.innerHeight
          && message.bottom <= shown.bottom + 1 && message.bottom >= shown.top + 24;
      }"""
    elements = [page.get_by_test_id("message-input"), newest, page.locator("#scroller")]
    page.wait_for_function(in_view, arg=[element.element_handle() for element in elements])
    assert_no_sideways_scroll(page, "360x400, active chat")
    message_list = page.locator("#scroller").bounding_box()
    assert message_list and message_list["height"] >= 100, f"the message list is {message_list}"
    page.context.close()


def test_quick_exit_is_one_tap_over_the_booking_dialog(
    phone_server: ServerProcess, browser: Browser, problems: PageProblems
) -> None:
    page = phone(browser, phone_server, problems)
    page.goto("/?lang=ar")
    page.get_by_test_id("start-button").click()
    page.get_by_test_id("resume-dismiss").click()
    expect(page.get_by_test_id("conversation-state")).to_have_attribute("data-state", "waiting")
    box = page.get_by_test_id("quick-exit").bounding_box()
    assert box is not None
    page.get_by_test_id("booking-open-chat").tap()
    expect(page.get_by_test_id("booking-dialog")).to_be_visible()
    assert page.evaluate("document.querySelector('#booking-dialog').matches(':modal')")

    # One tap where the relative sees quick exit.
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(EXIT_URL)
    page.context.close()


def test_keyboard_alone_starts_sends_books_and_exits(
    phone_server: ServerProcess, browser: Browser, problems: PageProblems
) -> None:
    page = phone(browser, phone_server, problems, touch=False)
    page.set_viewport_size({"width": 360, "height": PHONE_HEIGHT})
    page.goto("/?lang=sv")
    expect(page.get_by_test_id("start-button")).to_be_visible()

    press_tab_until(page, "start-button")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("resume-code")).not_to_be_empty()
    press_tab_until(page, "resume-dismiss")
    page.keyboard.press("Space")
    expect(page.get_by_test_id("message-input")).to_be_focused()
    page.keyboard.type("Jag skriver med tangentbordet.")
    page.keyboard.press("Enter")
    sent = page.locator('[data-testid="message"][data-sender="relative"]')
    expect(sent).to_have_attribute("data-status", re.compile("delivered|read"))
    expect(page.get_by_test_id("message-input")).to_have_value("")

    press_tab_until(page, "booking-open-chat")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("booking-dialog")).to_be_visible()
    slot = page.get_by_test_id("booking-slots").get_by_test_id("booking-slot").first
    expect(slot).to_be_visible()
    press_tab_until(page, "booking-slot")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("booking-phone")).to_be_focused()
    page.keyboard.type(LOCAL_NUMBER)
    press_tab_until(page, "booking-submit")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("booking-manage-code")).to_have_text(
        re.compile(r"^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$")
    )
    assert_accessible(page, "sv, booked, keyboard")

    # Esc twice with the dialog open: the first closes it, the second leaves.
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(page).to_have_url(EXIT_URL)

    # Quick exit by Tab and Enter on the start screen.
    start = phone(browser, phone_server, problems, touch=False)
    start.goto("/?lang=ti")
    expect(start.get_by_test_id("start-button")).to_be_visible()
    press_tab_until(start, "quick-exit")
    start.keyboard.press("Enter")
    expect(start).to_have_url(EXIT_URL)
