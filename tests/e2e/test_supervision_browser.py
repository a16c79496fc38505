"""Real Chromium on /console/: a supervisor's Overview updates with no reload as a relative (on a
phone, in Arabic) arrives and waits, raises the long-wait alert once the wait passes
`supervision.wait_alert`, and changes to active with the counsellor's name when a counsellor (a real
staff session and /counsellor socket) claims it. The supervisor joins: the relative's page shows
"a colleague joined" in Arabic, the conversation opens among the supervisor's own, and a reply
the supervisor writes there reaches the relative. Reading from the Overview asks for a reason and
shows the transcript; the audit log keeps the reason. The Overview passes axe and does not scroll
sideways at 1280x800 (tests/e2e/test_supervision.py holds the socket-level rules).
Screenshot: test-artifacts/supervision-1280.png."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import relative_page
from tests.e2e.accessibility import assert_accessible, assert_no_sideways_scroll
from tests.e2e.browser import PageProblems, chromium, open_page, submit_sign_in
from tests.e2e.catalogs import text
from tests.e2e.relative_page import COUNSELLOR, Counsellor, conversation_id, phone
from tests.support.clients import query_database
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

SUPERVISOR = "sam-supervisor"
LANGUAGE = "ar"
ENV = {
    **relative_page.SERVER_ENV,
    "KINLINE_SUPERVISION__WAIT_ALERT": "3s",
    "KINLINE_SUPERVISION__REFRESH_EVERY": "1s",
}


def test_the_overview_follows_a_relative_and_a_join_is_announced_to_them(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(env=ENV, name="supervision-browser", start=False)
    server.add_user(COUNSELLOR, "counsellor")
    server.add_user(SUPERVISOR, "supervisor")
    server.start()
    problems = PageProblems(expected_failures=("/api/me",))
    counsellor = Counsellor(server)
    try:
        with chromium() as browser:
            console = open_page(browser, server.url, problems, "supervisor", phone=False)
            submit_sign_in(console, SUPERVISOR)
            console.get_by_test_id("view-supervision").click()
            view = console.get_by_test_id("supervision-view")
            expect(view.get_by_test_id("supervision-count-waiting")).to_have_text("0")

            relative = phone(browser, server, problems)
            relative.goto(f"/?lang={LANGUAGE}")
            relative.get_by_test_id("start-button").click()
            relative.get_by_test_id("resume-dismiss").click()
            conversation = conversation_id(relative)

            row = view.locator(
                f'[data-testid="supervision-conversation"][data-conversation-id="{conversation}"]'
            )
            expect(row.get_by_test_id("supervision-state")).to_have_attribute("data-state", "waiting")
            expect(view.get_by_test_id("supervision-count-waiting")).to_have_text("1")
            alert = view.locator('[data-testid="supervision-alert"][data-kind="long_wait"]')
            expect(alert).to_have_count(1)

            counsellor.claim(conversation)
            expect(row.get_by_test_id("supervision-state")).to_have_attribute("data-state", "active")
            expect(row.get_by_test_id("supervision-counsellor")).to_contain_text(COUNSELLOR)
            expect(view.get_by_test_id("supervision-count-active")).to_have_text("1")
            expect(alert).to_have_count(0)
            expect(
                view.locator(f'[data-testid="supervision-counsellor-row"] >> text={COUNSELLOR}')
            ).to_have_count(1)

            counsellor.say(conversation, "مرحبا")
            relative.get_by_test_id("message-input").fill("أنا قلق على ابني")
            relative.get_by_test_id("send-button").click()
            expect(
                relative.locator('[data-testid="message"][data-sender="relative"][data-seq]')
            ).to_have_count(1)

            row.get_by_test_id("supervision-read").click()
            dialog = view.get_by_test_id("supervision-dialog")
            dialog.get_by_test_id("supervision-reason").select_option("quality")
            dialog.get_by_test_id("supervision-dialog-submit").click()
            expect(dialog.get_by_test_id("supervision-transcript")).to_contain_text("أنا قلق على ابني")
            assert_accessible(console, "supervision read dialog")
            dialog.get_by_test_id("supervision-dialog-close").click()
            reasons = query_database(
                server,
                "SELECT detail FROM audit_log WHERE action = 'supervision.read' AND object_id = ?",
                conversation,
            )
            assert reasons == [("quality",)]

            assert_accessible(console, "supervision overview")
            assert_no_sideways_scroll(console, "supervision overview")
            console.screenshot(path=str(artifacts_dir / "supervision-1280.png"), full_page=True)

            row.get_by_test_id("supervision-join").click()
            joined = text(LANGUAGE, "bot.colleague_joined")
            expect(relative.locator('[data-testid="message"][data-sender="system"]')).to_contain_text(joined)
            expect(row.get_by_test_id("supervision-counsellor")).to_contain_text(SUPERVISOR)
            expect(row.get_by_test_id("supervision-leave")).to_be_visible()

            console.locator('[data-view="live"]').click()
            panel = console.get_by_test_id("chat-panel")
            expect(panel).to_have_count(1)
            expect(panel.get_by_test_id("messages")).to_contain_text("أنا قلق على ابني")
            panel.get_by_test_id("message-input").fill("أنا زميلة وأقرأ معكم")
            panel.get_by_test_id("send-button").click()
            expect(relative.locator('[data-testid="message"][data-sender="counsellor"]')).to_have_count(2)
    finally:
        counsellor.close()
    assert problems.seen == [], f"the pages reported errors: {problems.seen}"
