"""Real Chromium: a relative waiting on a phone closes the tab; the counsellor's console shows the
queue item as away, in text; claiming it asks first (Esc keeps it in the queue, the confirm button
claims it); axe finds 0 violations with the away item and with the confirm step open."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import assert_accessible
from tests.e2e.browser import PageProblems, Screenshots, chromium, open_page, submit_sign_in
from tests.support.server import DEFAULT_PASSWORD, ROOT, ServerProcess

pytestmark = pytest.mark.browser

COUNSELLOR = "anna-away"
# The console asks /api/me before login (401).
EXPECTED_FAILED_LOADS = ("/api/me",)

expect.set_options(timeout=20_000)


def console_text(key: str) -> str:
    """A text of the console in Swedish, its default language."""
    value: Any = json.loads((ROOT / "web" / "i18n" / "sv.json").read_text(encoding="utf-8"))
    for part in key.split("."):
        value = value[part]
    return str(value)


def sign_in(console: Page) -> None:
    submit_sign_in(console, COUNSELLOR)
    expect(console.get_by_test_id("connection-state")).to_have_attribute("data-state", "connected")


def start_waiting(relative: Page) -> None:
    relative.goto("/")
    relative.get_by_test_id("start-button").click()
    relative.get_by_test_id("resume-dismiss").click()
    expect(relative.get_by_test_id("conversation-state")).to_have_attribute("data-state", "waiting")


def test_a_relative_who_closes_the_tab_shows_away_and_claiming_asks_first(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(name="away-browser", env={"KINLINE_CHAT__AWAY_AFTER": "1s"})
    server.add_user(COUNSELLOR, "counsellor", DEFAULT_PASSWORD)
    shots = Screenshots(artifacts_dir / "queue-away")
    shots.directory.mkdir(parents=True, exist_ok=True)
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)

    with chromium() as browser:
        console = open_page(browser, server.url, problems, "console", phone=False)
        sign_in(console)
        relative = open_page(browser, server.url, problems, "relative", phone=True)
        start_waiting(relative)

        item = console.get_by_test_id("queue-item")
        away = item.get_by_test_id("queue-away")
        expect(item).to_have_count(1)
        expect(away).to_be_hidden()
        conversation_id = item.get_attribute("data-conversation-id")
        shots.take(console, "the relative waits")

        relative.context.close()
        expect(away).to_be_visible()
        expect(away).to_have_text(console_text("console.queue.away"))
        claim = item.get_by_test_id("claim")
        expect(claim).to_have_attribute(
            "aria-describedby", f"queue-topic-{conversation_id} queue-away-{conversation_id}"
        )
        shots.take(console, "the queue shows the relative away")
        assert_accessible(console, "the queue with an away conversation")

        dialog = console.get_by_role("dialog", name=console_text("console.queue.away_confirm.heading"))
        claim.click()
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(console_text("console.queue.away_confirm.text"))
        expect(dialog.get_by_test_id("away-confirm-cancel")).to_be_focused()
        shots.take(console, "claiming an away conversation asks first")
        assert_accessible(console, "the confirm step before claiming an away conversation")

        console.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(claim).to_be_focused()
        expect(item).to_have_count(1)
        expect(console.get_by_test_id("chat-tab")).to_have_count(0)

        claim.click()
        dialog.get_by_test_id("away-confirm-claim").click()
        expect(
            console.locator(f'[data-testid="chat-tab"][data-conversation-id="{conversation_id}"]')
        ).to_be_visible()
        expect(item).to_have_count(0)
        shots.take(console, "claimed anyway")

    assert problems.seen == [], f"the pages reported errors: {problems.seen}"
