"""Real Chromium: a queue longer than the console lists (chat.console_queue_shown) shows its head,
the total in the count, and a line saying how many are not listed; claiming the head moves the next
relative up into the list, and the line goes once everyone fits; axe finds 0 violations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_accessible
from tests.e2e.browser import PageProblems, Screenshots, chromium, open_page, submit_sign_in
from tests.e2e.catalogs import text
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

pytestmark = pytest.mark.browser

COUNSELLOR = "kim-long-queue"
SHOWN = 2
# The console asks /api/me before login (401).
EXPECTED_FAILED_LOADS = ("/api/me",)

expect.set_options(timeout=20_000)


def console_text(key: str, **params: object) -> str:
    """A text of the console in Swedish, its default language, with its placeholders filled."""
    filled = text("sv", key)
    for name, value in params.items():
        filled = filled.replace(f"{{{name}}}", str(value))
    return filled


def test_a_long_queue_shows_its_head_and_how_many_more_wait(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(name="long-queue", env={"KINLINE_CHAT__CONSOLE_QUEUE_SHOWN": str(SHOWN)})
    server.add_user(COUNSELLOR, "counsellor", DEFAULT_PASSWORD)
    shots = Screenshots(artifacts_dir / "console-queue")
    shots.directory.mkdir(parents=True, exist_ok=True)
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)

    with chromium() as browser:
        console = open_page(browser, server.url, problems, "console", phone=False)
        submit_sign_in(console, COUNSELLOR)
        expect(console.get_by_test_id("connection-state")).to_have_attribute("data-state", "connected")
        started = []
        for _ in range(SHOWN + 1):
            response = console.request.post(f"{server.url}/api/conversations", data={"language": "sv"})
            assert response.status == 201, response.text()
            started.append(response.json()["conversation_id"])

        items = console.get_by_test_id("queue-item")
        more = console.get_by_test_id("queue-more")
        expect(items).to_have_count(SHOWN)
        expect(console.locator("#queue-count")).to_have_text(str(SHOWN + 1))
        expect(more).to_have_text(console_text("console.queue.more", shown=SHOWN, total=SHOWN + 1))
        assert [items.nth(k).get_attribute("data-conversation-id") for k in range(SHOWN)] == started[:SHOWN]
        shots.take(console, "the head of a longer queue")
        assert_accessible(console, "a queue longer than the console lists")

        items.first.get_by_test_id("claim").click()
        expect(console.get_by_test_id("chat-tab")).to_have_count(1)
        expect(console.locator("#queue-count")).to_have_text(str(SHOWN))
        expect(items).to_have_count(SHOWN)
        expect(items.last).to_have_attribute("data-conversation-id", started[SHOWN])
        expect(more).to_be_hidden()
        shots.take(console, "everyone fits after a claim")

    assert problems.seen == [], f"the pages reported errors: {problems.seen}"
