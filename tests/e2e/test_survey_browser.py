"""Real Chromium on a 320 px phone: the end-of-chat survey and the booking cancel dialog (issue 12, item 3).

A relative chats, the counsellor (a real staff session and /counsellor socket) closes, and the relative
answers "partly": the contact record holds it, the question is gone and stays gone after a reload; axe
finds nothing on the question or the thank-you in Swedish and Arabic, and nothing scrolls sideways. With
the keyboard alone the relative skips (`skipped` is stored). An answer the server already has is refused
with a text in the relative's language; a relative who ends the chat themselves is not asked. Cancelling a
booking asks in an in-page dialog: axe, Esc keeps the time, confirming cancels it, and quick exit is one
tap while it is open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import relative_page
from tests.e2e.accessibility import assert_accessible, assert_no_sideways_scroll
from tests.e2e.browser import PageProblems, chromium
from tests.e2e.catalogs import text
from tests.e2e.relative_page import (
    EXIT_URL,
    Counsellor,
    conversation_id,
    phone,
    press_tab_until,
)
from tests.support.clients import query_database
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

SURVEY_ENDPOINT = "/api/conversations/survey"


@pytest.fixture(scope="module")
def survey_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("survey")
    with relative_page.phone_server(workdir, artifacts_dir, "survey") as server:
        yield server


@pytest.fixture(scope="module")
def counsellor(survey_server: ServerProcess) -> Iterator[Counsellor]:
    with relative_page.signed_in_counsellor(survey_server) as staff:
        yield staff


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def problems() -> Iterator[PageProblems]:
    seen = PageProblems(expected_failures=(SURVEY_ENDPOINT,))
    yield seen
    assert seen.seen == [], f"the pages reported errors: {seen.seen}"


def surveys(server: ServerProcess, answer: str) -> int:
    return int(query_database(server, "SELECT count(*) FROM contact_records WHERE survey = ?", answer)[0][0])


def chat_then_closed_by_counsellor(page: Page, counsellor: Counsellor, language: str) -> str:
    """Start, exchange a message each way, and have the counsellor close; returns the conversation id."""
    page.goto(f"/?lang={language}")
    page.get_by_test_id("start-button").click()
    page.get_by_test_id("resume-dismiss").click()
    conversation = conversation_id(page)
    counsellor.claim(conversation)
    counsellor.say(conversation, "Hej!")
    expect(page.locator('[data-testid="message"][data-sender="counsellor"]')).to_have_count(1)
    page.get_by_test_id("message-input").fill("Tack.")
    page.get_by_test_id("send-button").click()
    expect(page.locator('[data-testid="message"][data-sender="relative"][data-seq]')).to_have_count(1)
    close = {"conversation_id": conversation, "outcome": "supported"}
    answer = counsellor.run(counsellor.staff.socket.call("close", close))
    assert answer["ok"], answer
    expect(page.get_by_test_id("conversation-state")).to_have_attribute("data-state", "closed")
    return conversation


@pytest.mark.parametrize("language", ["sv", "ar"])
def test_the_relative_answers_partly_once_and_the_record_holds_it(
    language: str,
    survey_server: ServerProcess,
    counsellor: Counsellor,
    browser: Browser,
    problems: PageProblems,
    artifacts_dir: Path,
) -> None:
    page = phone(browser, survey_server, problems)
    before = surveys(survey_server, "partly")
    chat_then_closed_by_counsellor(page, counsellor, language)

    survey = page.get_by_test_id("survey")
    expect(survey).to_be_visible()
    expect(survey.get_by_role("group", name=text(language, "widget.survey.question"))).to_be_visible()
    expect(page.get_by_test_id("survey-partly")).to_have_text(text(language, "widget.survey.partly"))
    expect(page.get_by_test_id("quick-exit")).to_be_visible()
    assert_no_sideways_scroll(page, f"{language}, survey, 320 px")
    page.screenshot(path=artifacts_dir / f"survey-320-{language}-question.png")
    assert_accessible(page, f"{language}, survey")

    page.get_by_test_id("survey-partly").click()
    result = page.get_by_test_id("survey-result")
    expect(result).to_have_text(text(language, "widget.survey.thanks"))
    expect(result).to_be_focused()
    for answer in ("yes", "partly", "no", "skip"):
        expect(page.get_by_test_id(f"survey-{answer}")).to_be_hidden()
    assert surveys(survey_server, "partly") == before + 1
    assert_no_sideways_scroll(page, f"{language}, thank-you, 320 px")
    page.screenshot(path=artifacts_dir / f"survey-320-{language}-thanks.png")
    assert_accessible(page, f"{language}, survey thank-you")

    # A reload shows the ended chat again, without the question.
    page.reload()
    expect(page.get_by_test_id("closed-notice")).to_be_visible()
    expect(page.get_by_test_id("conversation-state")).to_have_attribute("data-state", "closed")
    expect(survey).to_be_hidden()
    assert surveys(survey_server, "partly") == before + 1
    page.context.close()


def test_the_keyboard_alone_skips_and_skipped_is_stored(
    survey_server: ServerProcess, counsellor: Counsellor, browser: Browser, problems: PageProblems
) -> None:
    page = phone(browser, survey_server, problems, touch=False)
    before = surveys(survey_server, "skipped")
    page.goto("/?lang=sv")
    press_tab_until(page, "start-button")
    page.keyboard.press("Enter")
    press_tab_until(page, "resume-dismiss")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message-input")).to_be_focused()
    conversation = conversation_id(page)
    counsellor.claim(conversation)
    answer = counsellor.run(
        counsellor.staff.socket.call("close", {"conversation_id": conversation, "outcome": "supported"})
    )
    assert answer["ok"], answer
    expect(page.get_by_test_id("survey")).to_be_visible()

    press_tab_until(page, "survey-yes")
    press_tab_until(page, "survey-skip")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("survey")).to_be_hidden()
    expect(page.get_by_test_id("new-conversation")).to_be_focused()
    assert surveys(survey_server, "skipped") == before + 1
    page.context.close()


def test_an_answer_the_server_already_has_is_refused_in_the_relatives_language(
    survey_server: ServerProcess, counsellor: Counsellor, browser: Browser, problems: PageProblems
) -> None:
    page = phone(browser, survey_server, problems)
    before = surveys(survey_server, "yes")
    chat_then_closed_by_counsellor(page, counsellor, "so")
    expect(page.get_by_test_id("survey")).to_be_visible()
    token = page.evaluate("() => JSON.parse(sessionStorage.getItem('kinline.conversation')).token")
    first = page.request.post(SURVEY_ENDPOINT, data={"token": token, "answer": "yes"})
    assert first.status == 204, first.text()

    page.get_by_test_id("survey-no").click()
    result = page.get_by_test_id("survey-result")
    expect(result).to_have_text(text("so", "widget.survey.errors.survey_answered"))
    expect(result).to_be_focused()
    expect(page.get_by_test_id("survey-no")).to_be_hidden()
    assert surveys(survey_server, "yes") == before + 1
    page.context.close()


def test_a_relative_who_ends_the_chat_is_not_asked(
    survey_server: ServerProcess, browser: Browser, problems: PageProblems
) -> None:
    page = phone(browser, survey_server, problems)
    page.goto("/?lang=fa")
    page.get_by_test_id("start-button").click()
    page.get_by_test_id("resume-dismiss").click()
    expect(page.get_by_test_id("conversation-state")).to_have_attribute("data-state", "waiting")
    page.get_by_test_id("end-button").click()
    page.get_by_test_id("end-confirm").click()
    expect(page.get_by_test_id("closed-notice")).to_be_visible()
    expect(page.get_by_test_id("conversation-state")).to_have_attribute("data-state", "closed")
    expect(page.get_by_test_id("survey")).to_be_hidden()
    page.context.close()


def booking_state(page: Page, manage_code: str) -> str:
    answer = page.request.post("/api/appointments/lookup", data={"manage_code": manage_code})
    assert answer.ok, answer.text()
    return str(answer.json()["appointment"]["state"])


def open_managed_booking(page: Page, language: str, manage_code: str) -> None:
    page.goto(f"/?lang={language}")
    page.get_by_test_id("booking-manage-open").click()
    page.get_by_test_id("booking-manage-input").fill(manage_code)
    page.get_by_test_id("booking-manage-find").click()
    expect(page.get_by_test_id("booking-state")).to_have_text(text(language, "booking.state_booked"))


def test_cancelling_a_booking_asks_in_the_page(
    survey_server: ServerProcess, counsellor: Counsellor, browser: Browser, problems: PageProblems
) -> None:
    manage_code = counsellor.manage_code("ar")
    page = phone(browser, survey_server, problems, touch=False)
    page.on("dialog", lambda native: pytest.fail(f"a native {native.type} dialog opened"))
    open_managed_booking(page, "ar", manage_code)

    page.get_by_test_id("booking-cancel").click()
    question = page.get_by_test_id("booking-cancel-dialog")
    expect(question).to_be_visible()
    expect(question.get_by_role("heading")).to_have_text(text("ar", "booking.cancel_confirm"))
    expect(page.get_by_test_id("booking-cancel-keep")).to_be_focused()
    assert page.evaluate("document.querySelector('#booking-cancel-dialog').matches(':modal')")
    assert_no_sideways_scroll(page, "ar, cancel dialog, 320 px")
    assert_accessible(page, "ar, booking cancel dialog")

    # Esc closes the question only: the booking dialog stays, the time stays booked.
    page.keyboard.press("Escape")
    expect(question).to_be_hidden()
    expect(page.get_by_test_id("booking-dialog")).to_be_visible()
    expect(page.get_by_test_id("booking-cancel")).to_be_focused()
    assert booking_state(page, manage_code) == "booked"

    page.get_by_test_id("booking-cancel").click()
    page.get_by_test_id("booking-cancel-confirm").click()
    expect(question).to_be_hidden()
    expect(page.get_by_test_id("booking-state")).to_have_text(text("ar", "booking.cancelled"))
    expect(page.get_by_test_id("booking-state")).to_be_focused()
    assert booking_state(page, manage_code) == "cancelled"
    page.context.close()


def test_quick_exit_is_one_tap_while_the_cancel_question_is_open(
    survey_server: ServerProcess, counsellor: Counsellor, browser: Browser, problems: PageProblems
) -> None:
    manage_code = counsellor.manage_code("sv")
    page = phone(browser, survey_server, problems)
    open_managed_booking(page, "sv", manage_code)
    box = page.get_by_test_id("quick-exit").bounding_box()
    assert box is not None
    page.get_by_test_id("booking-cancel").tap()
    expect(page.get_by_test_id("booking-cancel-dialog")).to_be_visible()

    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(EXIT_URL)
    assert booking_state(page, manage_code) == "booked"
    page.context.close()
