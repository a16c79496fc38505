"""Real Chromium: a relative waiting in Somali or Arabic is told whether a counsellor who speaks their
language is online, chooses to wait for one, and is offered a phone time with an interpreter while
nobody with the language is online; the notice changes when such a counsellor opens and closes the
console. axe finds no WCAG 2.2 A/AA violation in any of these states."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import assert_accessible, assert_no_sideways_scroll
from tests.e2e.browser import PageProblems, Screenshots, chromium, open_page
from tests.e2e.catalogs import catalog
from tests.support.clients import Api, query_database
from tests.support.server import ServerProcess, wait_until

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)
# The console asks /api/me before login (401).
EXPECTED_FAILED_LOADS = ("/api/me",)


def notice_text(language: str, key: str) -> str:
    return str(catalog(language)["widget"]["waiting_language"][key])


def set_languages(server: ServerProcess, username: str, password: str, languages: list[str]) -> None:
    async def put() -> None:
        api = Api(server.url)
        try:
            await api.login(username, password)
            body = {"languages": languages, "weekly": [], "exceptions": []}
            assert (await api.request("PUT", "/api/me/availability", json=body)).status == 200
        finally:
            await api.close()

    asyncio.run(put())


def stored_choice(server: ServerProcess, language: str) -> str | None:
    rows = query_database(server, "SELECT language_choice FROM conversations WHERE language = ?", language)
    return rows[0][0] if rows else None


def start_waiting(relative: Page, language: str) -> None:
    relative.goto("/")
    relative.get_by_test_id("lang-select").select_option(language)
    expect(relative.locator("html")).to_have_attribute("lang", language)
    relative.get_by_test_id("start-button").click()
    relative.get_by_test_id("resume-dismiss").click()
    expect(relative.get_by_test_id("conversation-state")).to_have_attribute("data-state", "waiting")


@pytest.mark.parametrize("language", ["so", "ar"])
def test_the_waiting_screen_tells_whether_the_language_is_online_and_honours_the_choice(
    server: ServerProcess, artifacts_dir: Path, language: str
) -> None:
    username = f"speaker-{language}"
    password = server.add_user(username, "counsellor")
    set_languages(server, username, password, [language, "sv"])
    shots = Screenshots(artifacts_dir / f"waiting-language-{language}")
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)
    with chromium() as browser:
        relative = open_page(browser, server.url, problems, f"relative-{language}", phone=True)
        relative.set_viewport_size({"width": 360, "height": 740})
        start_waiting(relative, language)

        notice = relative.get_by_test_id("language-notice")
        expect(notice).to_have_text(notice_text(language, "offline"))
        offer = relative.get_by_test_id("interpreter-offer")
        expect(offer).to_be_visible()
        expect(relative.get_by_test_id("book-interpreter")).to_have_text(
            notice_text(language, "interpreter_button")
        )
        expect(relative.get_by_test_id("language-choice-wait")).not_to_be_checked()
        assert_accessible(relative, f"{language}: nobody with the language online")
        assert_no_sideways_scroll(relative, f"{language}: the waiting screen with the notice at 360 px")
        relative.set_viewport_size({"width": 320, "height": 640})
        assert_no_sideways_scroll(relative, f"{language}: the waiting screen with the notice at 320 px")
        relative.set_viewport_size({"width": 360, "height": 740})
        shots.take(relative, f"relative {language} waiting nobody online")

        relative.get_by_test_id("language-choice-wait").check()
        expect(relative.get_by_test_id("language-choice-wait")).to_be_checked()
        wait_until(lambda: stored_choice(server, language) == "wait", what="the choice stored")

        relative.get_by_test_id("book-interpreter").click()
        expect(relative.get_by_test_id("booking-dialog")).to_be_visible()
        assert_accessible(relative, f"{language}: interpreter booking opened")
        relative.keyboard.press("Escape")
        expect(relative.get_by_test_id("booking-dialog")).to_be_hidden()

        console = open_page(browser, server.url, problems, "console", phone=False)
        console.goto("/console/")
        console.get_by_test_id("login-username").fill(username)
        console.get_by_test_id("login-password").fill(password)
        console.get_by_test_id("login-submit").click()
        item = console.locator(f'[data-testid="queue-item"][data-language="{language}"]')
        expect(item.get_by_test_id("queue-language")).to_contain_text(f"({language})")
        expect(item.get_by_test_id("queue-needs-language")).to_be_hidden()

        expect(notice).to_have_text(notice_text(language, "online"))
        expect(offer).to_be_hidden()
        expect(relative.get_by_test_id("language-choice-wait")).to_be_checked()
        assert_accessible(relative, f"{language}: a counsellor with the language online")
        shots.take(relative, f"relative {language} waiting counsellor online")

        console.context.close()
        expect(notice).to_have_text(notice_text(language, "offline"))
        expect(offer).to_be_visible()

        relative.get_by_test_id("language-choice-any").check()
        expect(relative.get_by_test_id("language-choice-any")).to_be_checked()
        wait_until(lambda: stored_choice(server, language) == "any", what="the choice stored")
    assert problems.seen == []
