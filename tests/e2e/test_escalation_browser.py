"""Real Chromium, one browser context per person: a relative chats on `/`; a counsellor drafts an
escalation from inside the conversation in the console; a supervisor approves it from the approval
queue; a social services user of the route acknowledges it in their inbox and records that it is
received, all without a reload. The relative reads the notice in the chat and later, on another
device, the status with their resume code. Every read and change is in the audit log, which the
supervisor reads in the console; no page raises an error or a CSP violation. Screenshots go to
test-artifacts/escalation/."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from server.config.escalation_file import load_escalation_config
from server.config.paths import config_dir
from server.domain.escalation import Kind
from tests.e2e.browser import PageProblems, Screenshots, chromium, open_page, submit_sign_in
from tests.e2e.catalogs import text
from tests.e2e.escalation_helpers import assert_audit_has_no_content, audit_rows, query
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

COUNSELLOR, SUPERVISOR, LIAISON = "cecilia-esc", "sven-esc", "lina-esc"
SUMMARY = "Pappan visar de små barnen våldsbejakande filmer och säger att de ska hämnas."
RELATION = "den anhörigas barnbarn"
TEXTS = load_escalation_config(config_dir() / "escalation.toml", environ={})
# The console asks /api/me before logging in, and gets 401.
EXPECTED_FAILED_LOADS = ("/api/me",)
RESUME_CODE = re.compile(r"^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$")


def log_in(page: Page, username: str) -> None:
    submit_sign_in(page, username)
    expect(page.get_by_test_id("logout")).to_be_visible()
    page.evaluate("window.kinlineTestNeverReloaded = true")


def never_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.kinlineTestNeverReloaded === true"))


def unexpected(problems: PageProblems) -> list[str]:
    return [
        problem
        for problem in problems.seen
        if not ("401" in problem and any(path in problem for path in EXPECTED_FAILED_LOADS))
    ]


def test_draft_approve_acknowledge_in_three_browsers(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(env={"KINLINE_CHAT__COUNSELLOR_CAPACITY": "5"}, name="escalation-browser")
    server.add_user(COUNSELLOR, "counsellor")
    server.add_user(SUPERVISOR, "supervisor")
    server.add_user(LIAISON, "social_services", DEFAULT_PASSWORD, "--route", "spanga-tensta")
    shots = Screenshots(artifacts_dir / "escalation")
    shots.directory.mkdir(parents=True, exist_ok=True)
    problems = PageProblems()

    with chromium() as browser:
        relative = open_page(browser, server.url, problems, "relative", phone=True, locale="sv-SE")
        counsellor = open_page(browser, server.url, problems, "counsellor", phone=False, locale="sv-SE")
        supervisor = open_page(browser, server.url, problems, "supervisor", phone=False, locale="sv-SE")
        liaison = open_page(browser, server.url, problems, "social services", phone=False, locale="sv-SE")

        # The relative writes; the counsellor takes the conversation.
        relative.goto("/")
        relative.get_by_test_id("start-button").click()
        expect(relative.get_by_test_id("resume-code")).to_have_text(RESUME_CODE)
        resume_code = relative.get_by_test_id("resume-code").inner_text().strip()
        relative.get_by_test_id("resume-dismiss").click()
        relative.get_by_test_id("message-input").fill("Jag är orolig för mina barnbarn.")
        relative.get_by_test_id("send-button").click()

        log_in(counsellor, COUNSELLOR)
        item = counsellor.get_by_test_id("queue").locator('[data-testid="queue-item"]')
        expect(item).to_have_count(1)
        conversation_id = str(item.get_attribute("data-conversation-id"))
        item.get_by_test_id("claim").click()
        panel = counsellor.locator(f'[data-testid="chat-panel"][data-conversation-id="{conversation_id}"]')
        expect(panel).to_be_visible()

        # Drafting from inside the conversation; choosing imminent danger shows the emergency steps at once.
        panel.get_by_test_id("escalate-button").click()
        dialog = counsellor.get_by_test_id("escalation-dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_test_id("escalation-kind").select_option("imminent_danger")
        emergency = dialog.get_by_test_id("escalation-emergency")
        expect(emergency).to_be_visible()
        expect(emergency).to_contain_text(TEXTS.kinds[Kind.IMMINENT_DANGER].texts["sv"].emergency_steps[0])
        shots.take(counsellor, "counsellor sees emergency steps")
        dialog.get_by_test_id("escalation-kind").select_option("child_concern")
        expect(emergency).to_be_hidden()
        expect(dialog.get_by_test_id("escalation-guidance")).to_contain_text(
            TEXTS.kinds[Kind.CHILD_CONCERN].texts["sv"].guidance
        )
        dialog.get_by_test_id("escalation-route").select_option("spanga-tensta")
        dialog.get_by_test_id("escalation-age-band").select_option("0-12")
        dialog.get_by_test_id("escalation-relation").fill(RELATION)
        dialog.get_by_test_id("indicator-child_exposed").check()
        dialog.get_by_test_id("escalation-summary-input").fill(SUMMARY)
        shots.take(counsellor, "counsellor drafts a child concern")
        dialog.get_by_test_id("escalation-submit").click()
        expect(dialog).to_be_hidden()

        counsellor.get_by_test_id("view-escalations").click()
        mine = counsellor.get_by_test_id("escalation-list").get_by_test_id("escalation-item")
        expect(mine).to_have_count(1)
        expect(mine.first).to_have_attribute("data-state", "awaiting_approval")
        escalation_id = str(mine.first.get_attribute("data-escalation-id"))
        shots.take(counsellor, "counsellor sees it awaiting approval")

        # The supervisor's approval queue, live; the social services inbox stays empty until then.
        log_in(liaison, LIAISON)
        inbox = liaison.get_by_test_id("escalation-list").get_by_test_id("escalation-item")
        expect(liaison.get_by_test_id("escalation-list")).to_be_visible()
        expect(inbox).to_have_count(0)
        expect(liaison.locator('[data-view="live"]')).to_be_hidden()

        log_in(supervisor, SUPERVISOR)
        supervisor.get_by_test_id("view-escalations").click()
        queued = supervisor.locator(f'[data-testid="escalation-item"][data-escalation-id="{escalation_id}"]')
        expect(queued).to_have_attribute("data-state", "awaiting_approval")
        queued.locator("button").click()
        detail = supervisor.get_by_test_id("escalation-detail")
        expect(detail.get_by_test_id("escalation-summary")).to_have_text(SUMMARY)
        shots.take(supervisor, "supervisor approval queue")
        detail.get_by_test_id("escalation-approve").click()
        expect(detail.get_by_test_id("escalation-detail-state")).to_have_text(
            text("sv", "escalation.console.states.sent")
        )

        # The route's inbox shows it with its deadline, pushed without a reload.
        expect(inbox).to_have_count(1)
        expect(inbox.first).to_have_attribute("data-state", "sent")
        expect(inbox.first.locator(".escalation-item__deadline")).to_contain_text("Kvittera inom")
        shots.take(liaison, "social services inbox with deadline")
        inbox.first.locator("button").click()
        liaison_detail = liaison.get_by_test_id("escalation-detail")
        expect(liaison_detail.get_by_test_id("escalation-summary")).to_have_text(SUMMARY)
        expect(liaison_detail.get_by_test_id("escalation-transcript")).to_have_count(0)
        liaison_detail.get_by_test_id("escalation-acknowledge").click()
        expect(liaison_detail.get_by_test_id("escalation-detail-state")).to_have_text(
            text("sv", "escalation.console.states.acknowledged")
        )
        liaison_detail.get_by_test_id("escalation-outcome-select").select_option("received")
        liaison_detail.get_by_test_id("escalation-record-outcome").click()
        expect(liaison_detail.get_by_test_id("escalation-detail-state")).to_have_text(
            text("sv", "escalation.console.states.received")
        )
        shots.take(liaison, "social services received it")

        # The counsellor's list follows along without a reload.
        expect(mine.first).to_have_attribute("data-state", "received")

        # The relative reads the notice in the chat, in their language.
        notice = relative.get_by_test_id("messages").locator('[data-testid="message"][data-sender="system"]')
        expect(notice).to_have_count(1)
        expect(notice).to_contain_text(TEXTS.kinds[Kind.CHILD_CONCERN].texts["sv"].relative_notice)
        shots.take(relative, "relative reads the notice")

        # Later, on another device, the relative looks the status up with the resume code.
        later = open_page(browser, server.url, problems, "relative later", phone=True, locale="ar")
        later.goto("/")
        later.get_by_test_id("lang-select").select_option("ar")
        later.get_by_test_id("escalation-code-input").fill(resume_code)
        later.get_by_test_id("escalation-status-button").click()
        status = later.get_by_test_id("escalation-status")
        expect(status).to_have_count(1)
        expect(status).to_have_attribute("data-status", "received")
        expect(status).to_have_text(text("ar", "escalation.relative.status.received"))
        expect(later.get_by_test_id("escalation-code-input")).to_have_value("")
        shots.take(later, "relative sees the status in arabic")

        # The supervisor reads the audit log of this escalation in the console.
        detail.get_by_test_id("escalation-audit").click()
        expect(detail.get_by_test_id("audit-table")).to_be_visible()
        expect(detail.get_by_test_id("audit-row").first).to_be_visible()
        shots.take(supervisor, "supervisor reads the audit log")

        for page in (counsellor, supervisor, liaison):
            assert never_reloaded(page)

    assert unexpected(problems) == []

    users = dict(query(server, "SELECT username, id FROM staff_users"))
    rows = audit_rows(server)
    for actor, action in [
        (COUNSELLOR, "escalation.create"),
        (COUNSELLOR, "escalation.list"),
        (SUPERVISOR, "escalation.list"),
        (SUPERVISOR, "escalation.read"),
        (SUPERVISOR, "escalation.approve"),
        (LIAISON, "escalation.list"),
        (LIAISON, "escalation.read"),
        (LIAISON, "escalation.acknowledge"),
        (LIAISON, "escalation.outcome"),
        (SUPERVISOR, "escalation.audit"),
    ]:
        assert (users[actor], action, escalation_id) in rows, (actor, action)
    assert (None, "escalation.relative_status", escalation_id) in rows
    assert_audit_has_no_content(server)
