"""Real Chromium on /console/: when the operator disables an account from the CLI, the server closes
its sockets and the open console goes back to the sign-in screen instead of hanging silently, for
a counsellor (chat and escalation sockets) and a social services user (the escalation socket only).
Screenshots under test-artifacts/session-end/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import PageProblems, Screenshots, chromium, open_page
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

pytestmark = pytest.mark.browser

ACCOUNTS = {
    "carl-counsellor": ("counsellor",),
    "liv-liaison": ("social_services", "--route", "spanga-tensta"),
}
# Once the account is disabled, the console's look at its session answers 401 on purpose.
EXPECTED_FAILED_LOADS = ("/api/me", "/api/escalations")
SIGN_IN_SCREEN_WITHIN_MS = 10_000


def sign_in(page: Page, username: str) -> None:
    page.goto("/console/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(DEFAULT_PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/api/escalations") and r.status == 200):
        page.get_by_test_id("login-submit").click()


def test_a_disabled_account_returns_the_console_to_the_sign_in_screen(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(name="session-end-browser")
    for name, (role, *extra) in ACCOUNTS.items():
        server.add_user(name, role, DEFAULT_PASSWORD, *extra)
    shots = Screenshots(artifacts_dir / "session-end")
    shots.directory.mkdir(parents=True, exist_ok=True)
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)

    with chromium() as browser:
        pages = {name: open_page(browser, server.url, problems, name, phone=False) for name in ACCOUNTS}
        for name, page in pages.items():
            sign_in(page, name)
            expect(page.get_by_test_id("login-submit")).to_be_hidden()
        expect(pages["carl-counsellor"].get_by_test_id("connection-state")).to_have_attribute(
            "data-state", "connected"
        )

        for name, page in pages.items():
            disabled = server.cli("user", "disable", name)
            assert disabled.returncode == 0, disabled.stderr
            expect(page.get_by_test_id("login-submit")).to_be_visible(timeout=SIGN_IN_SCREEN_WITHIN_MS)
            shots.take(page, f"{name} back at the sign-in screen")
    assert problems.seen == []
