"""Real Chromium on a phone: the relative's page works out its queue position from the `queue`
broadcast (web/widget/queue_place.js). A relative starts behind three others; as a counsellor
claims the head three times the page shows 3, 2 and 1, while its socket receives `queue` packets
and no personal `status` after the first one labelled with a round."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.e2e import relative_page
from tests.e2e.browser import PageProblems, chromium
from tests.e2e.relative_page import COUNSELLOR, Counsellor, phone
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

# Keeps every Socket.IO text frame the page receives, for the test to count (added before any page
# script runs; the page's own code is unchanged).
RECORD_FRAMES = """
window.kinlineFrames = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (event) => {
      if (typeof event.data === 'string') window.kinlineFrames.push(event.data);
    });
  }
};
"""
LABELLED_STATUSES = """() => window.kinlineFrames.filter(
  (frame) => frame.includes('["status"') && !frame.includes('"round":null')).length"""
QUEUE_PACKETS = """() => window.kinlineFrames.filter((frame) => frame.includes('["queue"')).length"""


def test_the_page_counts_down_from_the_broadcast(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory(env=relative_page.SERVER_ENV, name="queue-broadcast-browser", start=False)
    server.add_user(COUNSELLOR, "counsellor")
    server.start()
    problems = PageProblems()
    counsellor = Counsellor(server)
    try:
        ahead = [counsellor.run(counsellor.harness.start_conversation("sv")) for _ in range(3)]
        with chromium() as browser:
            page = phone(browser, server, problems)
            page.add_init_script(RECORD_FRAMES)
            page.goto("/?lang=sv")
            page.get_by_test_id("start-button").click()
            page.get_by_test_id("resume-dismiss").click()
            position = page.get_by_test_id("queue-position")
            expect(position).to_have_attribute("data-value", "4")
            page.wait_for_function(f"() => ({LABELLED_STATUSES})() >= 1")
            labelled = page.evaluate(LABELLED_STATUSES)
            for index, started in enumerate(ahead):
                counsellor.claim(started.conversation_id)
                expect(position).to_have_attribute("data-value", str(3 - index))
            assert page.evaluate(LABELLED_STATUSES) == labelled, "a claim of the head sent a personal status"
            assert page.evaluate(QUEUE_PACKETS) >= 3
    finally:
        counsellor.close()
    assert problems.seen == [], f"the page reported errors: {problems.seen}"
