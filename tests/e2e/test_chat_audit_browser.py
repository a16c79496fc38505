"""Real Chromium on /console/: a supervisor opens the chat audit log, sees who took and annotated
which conversation (by display name, never content), filters by a conversation id and switches
language; a counsellor has no audit view. Screenshots under test-artifacts/chat-audit/."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import PageProblems, Screenshots, chromium, open_page, submit_sign_in
from tests.support.clients import Harness, query_database
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

pytestmark = pytest.mark.browser

COUNSELLOR, SUPERVISOR = "cora-audit", "sam-audit"
NOTE_CANARY = "canary-audit-note Gullregn 5530"
# The console asks /api/me before anyone has signed in.
EXPECTED_FAILED_LOADS = ("/api/me",)

expect.set_options(timeout=15_000)


async def held_conversations(server: ServerProcess) -> tuple[str, str]:
    """Two conversations the counsellor took, the first with a note."""
    async with Harness(server) as h:
        counsellor = await h.sign_in(COUNSELLOR)
        ids = []
        for _ in range(2):
            started = await h.start_conversation("sv")
            assert (await counsellor.socket.claim(started.conversation_id))["ok"]
            ids.append(started.conversation_id)
        added = await counsellor.socket.call("add_note", {"conversation_id": ids[0], "text": NOTE_CANARY})
        assert added["ok"], added
    return ids[0], ids[1]


def sign_in(page: Page, username: str) -> None:
    submit_sign_in(page, username)
    expect(page.get_by_test_id("view-escalations")).to_be_visible()


def test_a_supervisor_reads_and_filters_the_chat_audit_log(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(name="chat-audit-browser")
    server.add_user(COUNSELLOR, "counsellor", DEFAULT_PASSWORD, "--display-name", "Cora Counsellor")
    server.add_user(SUPERVISOR, "supervisor", DEFAULT_PASSWORD, "--display-name", "Sam Supervisor")
    first, second = asyncio.run(held_conversations(server))
    shots = Screenshots(artifacts_dir / "chat-audit")
    shots.directory.mkdir(parents=True, exist_ok=True)
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)

    with chromium() as browser:
        counsellor = open_page(browser, server.url, problems, "counsellor", phone=False)
        sign_in(counsellor, COUNSELLOR)
        expect(counsellor.get_by_test_id("view-audit")).to_be_hidden()

        page = open_page(browser, server.url, problems, "supervisor", phone=False)
        sign_in(page, SUPERVISOR)
        page.get_by_test_id("view-audit").click()
        view = page.get_by_test_id("chat-audit-view")
        rows = view.get_by_test_id("chat-audit-row")
        # The counsellor's console read both conversations and their notes when it opened them.
        expect(rows.filter(has_text="Tog samtalet")).to_have_count(2)
        expect(rows.filter(has_text="Lade till en anteckning")).to_have_count(1)
        expect(rows.filter(has_text="Läste samtalet").first).to_contain_text("Cora Counsellor")
        expect(view).to_contain_text(second)
        expect(view).not_to_contain_text(NOTE_CANARY)
        shots.take(page, "supervisor sees the chat audit log")

        view.get_by_test_id("chat-audit-filter").fill(first)
        view.get_by_test_id("chat-audit-apply").click()
        expect(view.get_by_test_id("chat-audit-scope")).to_contain_text(first)
        expect(rows.filter(has_text="Tog samtalet")).to_have_count(1)
        expect(view).not_to_contain_text(second)
        shots.take(page, "filtered by one conversation")

        page.locator("#language-select").select_option("en")
        expect(rows.filter(has_text="Added a note")).to_have_count(1)
        expect(view.get_by_role("columnheader", name="Who")).to_be_visible()

        view.get_by_test_id("chat-audit-clear").click()
        expect(view.get_by_test_id("chat-audit-scope")).to_contain_text("all conversations")
        # The readings themselves are now in the log, newest first.
        expect(rows.first).to_contain_text("Read the audit log")
        rows.filter(has_text="Took the conversation").first.get_by_role("button").click()
        expect(view.get_by_test_id("chat-audit-filter")).not_to_have_value("")
        shots.take(page, "the readings are logged too")

    assert not problems.seen, problems.seen
    readings = query_database(
        server,
        "SELECT a.object_id FROM audit_log a JOIN staff_users s ON s.id = a.actor_id "
        "WHERE a.action = 'audit.read' AND s.username = ? ORDER BY a.id",
        SUPERVISOR,
    )
    assert [object_id for (object_id,) in readings][:3] == ["*", first, "*"]
