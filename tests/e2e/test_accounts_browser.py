"""Real Chromium on /console/: an admin opens Accounts, adds an account and sees its setup link once;
the new member opens the link, chooses a password on the setup page and signs in; the admin
disables the account and its console is signed out; everyone has the Password section. axe finds
0 violations in each state; screenshots under test-artifacts/accounts/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import assert_accessible, assert_no_sideways_scroll
from tests.e2e.browser import PageProblems, Screenshots, chromium, open_page, submit_sign_in
from tests.support.clients import query_database
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

pytestmark = pytest.mark.browser

ADMIN, NEWCOMER = "root-accounts", "nina-accounts"
CHOSEN = "nina-chose-this-password"
# The console asks /api/me before anyone has signed in; a disabled account's console asks again.
EXPECTED_FAILED_LOADS = ("/api/me", "/api/auth/totp", "/api/staff/settings", "/api/staff/")

expect.set_options(timeout=15_000)


def accept_dialogs(page: Page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


def test_an_admin_adds_an_account_the_newcomer_sets_a_password_and_the_admin_disables_it(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(name="accounts-browser")
    server.add_user(ADMIN, "admin", DEFAULT_PASSWORD, "--display-name", "Rut Admin")
    shots = Screenshots(artifacts_dir / "accounts")
    shots.directory.mkdir(parents=True, exist_ok=True)
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)

    with chromium() as browser:
        admin = open_page(browser, server.url, problems, "admin", phone=False)
        accept_dialogs(admin)
        submit_sign_in(admin, ADMIN)
        admin.locator("#language-select").select_option("en")
        admin.get_by_test_id("view-accounts").click()
        view = admin.get_by_test_id("accounts-view")
        rows = view.get_by_test_id("account-row")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Your own account")
        assert_accessible(admin, "the accounts list")
        assert_no_sideways_scroll(admin, "the accounts list")
        shots.take(admin, "accounts list")

        view.get_by_test_id("accounts-add-username").fill(NEWCOMER)
        view.get_by_test_id("accounts-add-display-name").fill("Nina Newcomer")
        view.get_by_test_id("accounts-add-role").select_option("counsellor")
        view.get_by_test_id("accounts-add-submit").click()
        link_box = view.get_by_test_id("accounts-link")
        expect(link_box).to_be_visible()
        expect(link_box).to_contain_text(NEWCOMER)
        url = view.get_by_test_id("accounts-link-url").input_value()
        assert url.startswith(f"{server.url}/console/setup.html#token=")
        expect(rows.filter(has_text=NEWCOMER)).to_contain_text("Never")
        assert_accessible(admin, "the setup link shown once")
        shots.take(admin, "account added with its setup link")
        view.get_by_test_id("accounts-link-done").click()
        expect(link_box).to_be_hidden()
        expect(view.get_by_test_id("accounts-link-url")).to_have_value("")

        newcomer = open_page(browser, server.url, problems, "newcomer", phone=False)
        newcomer.goto(url)
        expect(newcomer.get_by_test_id("setup-greeting")).to_contain_text(NEWCOMER)
        # The link's secret leaves the address bar at once.
        assert "token" not in newcomer.url
        assert_accessible(newcomer, "the setup page")
        shots.take(newcomer, "setup page")
        newcomer.get_by_test_id("setup-password").fill(CHOSEN)
        newcomer.get_by_test_id("setup-repeat").fill(CHOSEN)
        newcomer.get_by_test_id("setup-submit").click()
        expect(newcomer.get_by_test_id("setup-done")).to_be_visible()
        assert_accessible(newcomer, "the password saved")
        shots.take(newcomer, "password chosen")
        submit_sign_in(newcomer, NEWCOMER, CHOSEN)
        expect(newcomer.get_by_test_id("connection-state")).to_be_visible()

        view.get_by_role("button", name="Refresh").click()
        newcomer_row = rows.filter(has_text=NEWCOMER)
        expect(newcomer_row).not_to_contain_text("Never")
        newcomer_row.get_by_test_id("account-disable").click()
        expect(newcomer_row.get_by_test_id("account-status")).to_have_text("Disabled")
        expect(newcomer.get_by_test_id("login-submit")).to_be_visible()
        assert_accessible(admin, "the account disabled")
        shots.take(admin, "account disabled")
        shots.take(newcomer, "the disabled member is signed out")

        admin.get_by_test_id("view-security").click()
        expect(admin.get_by_test_id("password-section")).to_be_visible()
        assert_accessible(admin, "the password section")
        shots.take(admin, "password section")

    assert not problems.seen, problems.seen
    assert query_database(
        server, "SELECT action FROM audit_log WHERE object_type = 'staff_user' ORDER BY id"
    ) == [("staff.add",), ("staff.password_set",), ("staff.disable",)]
