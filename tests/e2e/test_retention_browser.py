"""Real Chromium on /console/: the admin's Retention section (in the Accounts view) shows the
retention settings in words and, after Refresh, that a sweep closed an idle conversation as
inactive (last sweep and 30-day totals). axe finds 0 violations; screenshots under
test-artifacts/retention/."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_accessible, assert_no_sideways_scroll
from tests.e2e.browser import PageProblems, Screenshots, chromium, open_page, submit_sign_in
from tests.support.clients import Harness
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

ADMIN = "root-retention"
AUTO_CLOSE = {"KINLINE_CHAT__AUTO_CLOSE_AFTER": "2s"}
EXPECTED_FAILED_LOADS = ("/api/me",)

expect.set_options(timeout=15_000)


async def leave_a_conversation_idle_until_it_closes(server: ServerProcess) -> None:
    async with Harness(server) as h:
        idle = await h.start_conversation("sv")
        relative = await h.relative(idle.token)
        closed = await relative.log.wait_for("status", lambda s: s["state"] == "closed")
    assert closed["closed_reason"] == "inactive"


def test_the_admin_sees_the_retention_counts_after_a_sweep_closed_a_conversation(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(name="retention-browser", env=AUTO_CLOSE)
    server.add_user(ADMIN, "admin")
    shots = Screenshots(artifacts_dir / "retention")
    shots.directory.mkdir(parents=True, exist_ok=True)
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)

    with chromium() as browser:
        admin = open_page(browser, server.url, problems, "admin", phone=False)
        submit_sign_in(admin, ADMIN)
        admin.locator("#language-select").select_option("en")
        admin.get_by_test_id("view-accounts").click()
        section = admin.get_by_test_id("retention-section")
        expect(section.get_by_role("heading", name="Retention")).to_be_visible()
        expect(section.get_by_test_id("retention-auto-close")).to_have_text(
            "A conversation with no message for 2 seconds closes as inactive."
        )
        expect(section.get_by_test_id("retention-chat-retention")).to_contain_text("180 days")
        closed_total = section.get_by_test_id("retention-row-closed_inactive").get_by_test_id(
            "retention-total"
        )
        expect(closed_total).to_have_text("0")

        # Playwright's sync API runs an event loop in this thread; the relative gets a thread of its own.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, leave_a_conversation_idle_until_it_closes(server)).result(timeout=60)

        section.get_by_test_id("retention-refresh").click()
        expect(closed_total).to_have_text("1")
        expect(section.get_by_test_id("retention-last-sweep")).to_contain_text(
            "Last sweep that closed or deleted anything:"
        )
        expect(section.get_by_test_id("retention-sweeps")).to_contain_text(
            "closed or deleted something since"
        )
        last_closed = section.get_by_test_id("retention-row-closed_inactive").get_by_test_id("retention-last")
        expect(last_closed).to_have_text("1")
        for deleted in ("conversations", "messages", "notes", "tokens"):
            row = section.get_by_test_id(f"retention-row-{deleted}")
            expect(row.get_by_test_id("retention-total")).to_have_text("0")
        assert_accessible(admin, "the retention section")
        assert_no_sideways_scroll(admin, "the retention section")
        shots.take(admin, "retention counts")

        admin.locator("#language-select").select_option("sv")
        expect(section.get_by_role("heading", name="Gallring")).to_be_visible()
        expect(section.get_by_test_id("retention-auto-close")).to_contain_text("2 sekunder")
        assert_accessible(admin, "the retention section in Swedish")

    assert not problems.seen, problems.seen
