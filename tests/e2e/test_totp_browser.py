"""Real Chromium on /console/ with auth.require_totp on: a counsellor without TOTP signs in with the
password, sees only the two-factor panel, scans (reads) the server-drawn QR code's key, confirms
with a code, gets ten recovery codes once, reaches the live console; then signs out and in again
with a code from the authenticator app. Screenshots under test-artifacts/totp/."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import PageProblems, Screenshots, chromium, open_page
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

pytestmark = pytest.mark.browser

COUNSELLOR = "tove-totp"
# The console asks /api/me before login (401) and the test makes one login fail on purpose.
EXPECTED_FAILED_LOADS = ("/api/me", "/api/auth/login")

expect.set_options(timeout=15_000)


def submit_login(page: Page, code: str = "") -> None:
    page.get_by_test_id("login-username").fill(COUNSELLOR)
    page.get_by_test_id("login-password").fill(DEFAULT_PASSWORD)
    page.get_by_test_id("login-code").fill(code)
    page.get_by_test_id("login-submit").click()


def test_enrolling_in_the_console_and_signing_in_with_a_code(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(env={"KINLINE_AUTH__REQUIRE_TOTP": "true"}, name="totp-browser")
    server.add_user(COUNSELLOR, "counsellor")
    shots = Screenshots(artifacts_dir / "totp")
    shots.directory.mkdir(parents=True, exist_ok=True)
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)

    with chromium() as browser:
        page = open_page(browser, server.url, problems, "counsellor", phone=False)
        page.goto("/console/")
        expect(page.get_by_test_id("login-code")).to_be_visible()
        shots.take(page, "login with the optional code field")
        submit_login(page)

        expect(page.get_by_test_id("totp-required-notice")).to_be_visible()
        expect(page.locator("#view-switch")).to_be_hidden()
        expect(page.get_by_test_id("queue")).to_be_hidden()
        page.get_by_test_id("totp-start").click()
        qr = page.get_by_test_id("totp-qr")
        expect(qr).to_be_visible()
        assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
        page.wait_for_function(
            "document.querySelector('[data-testid=\"totp-qr\"]').naturalWidth > 0", timeout=15_000
        )
        secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
        shots.take(page, "enrolling with the qr code and the key")

        page.get_by_test_id("totp-code").fill(pyotp.TOTP(secret).now())
        page.get_by_test_id("totp-confirm").click()
        recovery_codes = page.get_by_test_id("totp-recovery-codes").locator("li")
        expect(recovery_codes).to_have_count(10)
        shots.take(page, "recovery codes shown once")
        page.get_by_test_id("totp-done").click()

        expect(page.get_by_test_id("queue")).to_be_visible()
        expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "connected")
        page.get_by_test_id("view-security").click()
        expect(page.get_by_test_id("totp-status")).to_contain_text("10")
        expect(page.get_by_test_id("totp-start")).to_be_hidden()
        shots.take(page, "two-factor status")

        page.get_by_test_id("logout").click()
        expect(page.get_by_test_id("login-submit")).to_be_visible()
        submit_login(page)
        expect(page.get_by_test_id("login-error")).to_be_visible()
        shots.take(page, "refused without the code")

        next_step = datetime.now(UTC) + timedelta(seconds=30)
        submit_login(page, pyotp.TOTP(secret).at(next_step))
        expect(page.get_by_test_id("queue")).to_be_visible()
        expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "connected")
        expect(page.get_by_test_id("totp-required-notice")).to_be_hidden()
        shots.take(page, "signed in with a code")

    assert not problems.seen, problems.seen


def test_a_rate_limited_sign_in_says_how_long_to_wait(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    # One failure blocks the username for 8 s, so the right password right after it gets 429.
    server = server_factory(
        env={"KINLINE_LIMITS__LOGIN_FAILURES_BEFORE_DELAY": "1", "KINLINE_AUTH__LOGIN_DELAY_BASE": "8s"},
        name="login-429-browser",
    )
    server.add_user(COUNSELLOR, "counsellor")
    shots = Screenshots(artifacts_dir / "login-throttle")
    shots.directory.mkdir(parents=True, exist_ok=True)
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)

    with chromium() as browser:
        page = open_page(browser, server.url, problems, "counsellor", phone=False)
        page.goto("/console/")
        page.get_by_test_id("login-username").fill(COUNSELLOR)
        page.get_by_test_id("login-password").fill("not-the-password-1")
        page.get_by_test_id("login-submit").click()
        # The console opens in Swedish.
        expect(page.get_by_test_id("login-error")).to_contain_text("Inloggningen misslyckades")
        submit_login(page)
        expect(page.get_by_test_id("login-error")).to_have_text(
            re.compile(r"För många inloggningsförsök just nu\. Försök igen om [1-8] sekunder\.")
        )
        shots.take(page, "sign-in rate limited")

    assert not problems.seen, problems.seen
