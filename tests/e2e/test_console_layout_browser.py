"""Real Chromium at 1280x800: every console view of every role (counsellor, supervisor, admin, social
services) has 0 axe violations (WCAG 2.2 A and AA), does not scroll sideways, and shows text in every
status pill; each view is saved as test-artifacts/console-1280-<role>-<view>.png. Canned answers are
titled in the console's language and previewed in the conversation's. A counsellor claims, replies and
inserts a canned answer with the keyboard alone. The admin's views include the knowledge bank's editor,
and every role's conversation its knowledge panel."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.accessibility import axe_violations, describe, sideways_overflow
from tests.e2e.browser import PageProblems, chromium, open_page
from tests.e2e.catalogs import catalog, text
from tests.support.booking import ALL_WEEK
from tests.support.server import DEFAULT_PASSWORD, ROOT, ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

VIEWPORT = {"width": 1280, "height": 800}
ROUTE = "spanga-tensta"
ACCOUNTS = {
    "counsellor": "klara-layout",
    "supervisor": "sune-layout",
    "admin": "alma-layout",
    "social_services": "siv-layout",
}
# The language each role's relative writes in: the canned answers are previewed in it.
RELATIVE_LANGUAGE = {"counsellor": "ar", "supervisor": "fa", "admin": "en"}
RELATIVE_TEXT = {
    "ar": "مرحبا، أنا قلقة على ابني.",
    "fa": "سلام، من نگران پسرم هستم.",
    "en": "Hello, I am worried about my nephew.",
    "sv": "Hej, jag oroar mig för min dotter.",
}
REPLY = "Tack för att du skriver. Jag finns här."
NOTE = "Anhörig, förälder. Följ upp nästa vecka."
SUMMARY = "Pappan visar de små barnen våldsbejakande filmer."
# Everything drawn as a pill: a rounded badge that must say what it means in words.
PILLS = (
    ".badge, .connection, .queue__count, .tab__unread, .tab__priority, .escalation-state, "
    ".appointment__state, .queue-item__badge"
)
# The console asks /api/me before login and gets 401.
EXPECTED_FAILED_LOADS = ("/api/me",)
BOOK = """async () => {
    const now = new Date();
    const to = new Date(now.getTime() + 4 * 24 * 3600 * 1000);
    const query = new URLSearchParams(
        {kind: 'phone', language: 'sv', from: now.toISOString(), to: to.toISOString()});
    const {slots} = await (await fetch(`/api/slots?${query}`)).json();
    const response = await fetch('/api/appointments', {
        method: 'POST', headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({kind: 'phone', start: slots[0].start, language: 'sv', phone: '+46701740605'})});
    return response.status;
}"""


@cache
def canned(language: str) -> dict[str, dict[str, str]]:
    data = tomllib.loads((ROOT / "config" / "knowledge" / f"{language}.toml").read_text(encoding="utf-8"))
    return {str(item["id"]): item for item in data["canned"]}


@dataclass
class Views:
    """Runs the checks on one view as it is now and keeps every failure, so one run reports them all."""

    directory: Path
    failures: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    def check(self, page: Page, role: str, view: str) -> None:
        state = f"{role} {view}"
        self.seen.append(state)
        page.screenshot(path=self.directory / f"console-1280-{role}-{view}.png", full_page=True)
        violations = axe_violations(page)
        if violations:
            self.failures.append(f"axe, {state}:\n{describe(violations)}")
        overflow = sideways_overflow(page)
        if overflow > 0:
            self.failures.append(f"{state}: the page scrolls {overflow} px sideways")
        empty = page.evaluate(
            """(selector) => [...document.querySelectorAll(selector)]
                .filter((pill) => pill.getClientRects().length > 0 && !pill.textContent.trim())
                .map((pill) => pill.className)""",
            PILLS,
        )
        if empty:
            self.failures.append(f"{state}: status pills without text: {empty}")


def console_page(browser: Browser, server: ServerProcess, problems: PageProblems, role: str) -> Page:
    page = open_page(browser, server.url, problems, role, phone=False, locale="sv-SE")
    page.set_viewport_size(VIEWPORT)
    return page


def sign_in(page: Page, username: str, views: Views, role: str) -> None:
    page.goto("/console/")
    expect(page.get_by_test_id("login-username")).to_be_visible()
    views.check(page, role, "sign-in")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(DEFAULT_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible()


def relative_writes(browser: Browser, server: ServerProcess, problems: PageProblems, language: str) -> Page:
    """A relative on a phone starts a chat in ``language`` and writes while waiting."""
    relative = open_page(browser, server.url, problems, f"relative {language}", phone=True)
    relative.goto("/")
    relative.get_by_test_id("lang-select").select_option(language)
    relative.get_by_test_id("start-button").click()
    relative.get_by_test_id("resume-dismiss").click()
    relative.get_by_test_id("message-input").fill(RELATIVE_TEXT[language])
    relative.get_by_test_id("send-button").click()
    sent = relative.get_by_test_id("messages").locator('[data-testid="message"][data-sender="relative"]')
    expect(sent).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    return relative


def queue_item(page: Page, language: str) -> Locator:
    return page.get_by_test_id("queue").locator(f'[data-testid="queue-item"][data-language="{language}"]')


def set_availability(page: Page) -> None:
    status = page.evaluate(
        """async (weekly) => (await fetch('/api/me/availability', {
            method: 'PUT', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({languages: ['sv', 'en', 'ar', 'fa'], weekly, exceptions: []})})).status""",
        ALL_WEEK,
    )
    assert status == 200


def live_views(page: Page, role: str, language: str, views: Views) -> Locator:
    """Queue, then the claimed conversation with messages, a note and a canned answer previewed."""
    item = queue_item(page, language)
    expect(item).to_have_count(1)
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "connected")
    views.check(page, role, "queue")
    conversation_id = str(item.get_attribute("data-conversation-id"))
    item.get_by_test_id("claim").click()
    panel = page.locator(f'[data-testid="chat-panel"][data-conversation-id="{conversation_id}"]')
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("messages").locator('[data-sender="relative"]')).to_have_count(1)
    panel.get_by_test_id("message-input").fill(REPLY)
    panel.get_by_test_id("send-button").click()
    expect(panel.get_by_test_id("messages").locator('[data-sender="counsellor"]')).to_have_count(1)
    panel.get_by_test_id("note-input").fill(NOTE)
    panel.get_by_test_id("note-add").click()
    expect(panel.get_by_test_id("notes")).to_contain_text(NOTE)
    views.check(page, role, "conversation")

    # Titled in the console's language (sv), previewed in the conversation's.
    select = panel.get_by_test_id("canned-select")
    expect(select.locator("option[value='anonymity']")).to_have_text(canned("sv")["anonymity"]["title"])
    select.select_option("anonymity")
    preview = panel.get_by_test_id("canned-preview")
    expect(preview).to_have_text(canned(language)["anonymity"]["text"])
    expect(preview).to_have_attribute("lang", language)
    expect(preview).to_have_attribute("dir", catalog(language)["meta"]["dir"])
    panel.get_by_test_id("canned-insert").scroll_into_view_if_needed()
    views.check(page, role, "canned-answers")
    panel.get_by_test_id("canned-insert").click()
    expect(panel.get_by_test_id("message-input")).to_have_value(canned(language)["anonymity"]["text"])
    panel.get_by_test_id("message-input").fill("")
    # The knowledge bank's side panel lists the district's published resources.
    knowledge = panel.get_by_test_id("knowledge-panel")
    expect(knowledge.get_by_test_id("knowledge-panel-entry").first).to_be_visible()
    knowledge.scroll_into_view_if_needed()
    views.check(page, role, "knowledge-panel")
    return panel


def escalation_draft(page: Page, panel: Locator, role: str, views: Views, *, send: bool) -> None:
    panel.get_by_test_id("escalate-button").click()
    dialog = page.get_by_test_id("escalation-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("escalation-route").select_option(ROUTE)
    dialog.get_by_test_id("escalation-age-band").select_option("0-12")
    dialog.get_by_test_id("escalation-relation").fill("den anhörigas barnbarn")
    dialog.get_by_test_id("indicator-child_exposed").check()
    dialog.get_by_test_id("escalation-summary-input").fill(SUMMARY)
    views.check(page, role, "escalation-draft")
    if send:
        dialog.get_by_test_id("escalation-submit").click()
    else:
        page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def appointment_views(page: Page, role: str, views: Views) -> None:
    page.get_by_test_id("view-appointments").click()
    slots = page.get_by_test_id("offer-slots").get_by_test_id("offer-slot")
    expect(slots.first).to_be_visible()
    views.check(page, role, "appointments")
    slots.first.check()
    offer = page.get_by_test_id("offer")
    offer.scroll_into_view_if_needed()
    box = slots.first.bounding_box()
    form = offer.bounding_box()
    assert box is not None and form is not None
    assert box["x"] - form["x"] < 40, "the offer-slot checkbox is not at the start of its row"
    views.check(page, role, "offer-slots")
    if role == "admin":
        outbox = page.get_by_test_id("outbox-list")
        expect(outbox.locator("li").first).to_be_visible()
        outbox.scroll_into_view_if_needed()
        views.check(page, role, "outbox")


def history_view(page: Page, panel: Locator, role: str, views: Views) -> None:
    """Close the conversation, then read it in the history."""
    conversation_id = panel.get_attribute("data-conversation-id")
    page.locator('[data-view="live"]').click()
    panel.get_by_test_id("outcome-select").select_option("supported")
    panel.get_by_test_id("close-button").click()
    expect(panel).to_have_count(0)
    page.locator('[data-view="history"]').click()
    item = page.get_by_test_id("history-list").locator(
        f'[data-testid="history-item"][data-conversation-id="{conversation_id}"]'
    )
    item.get_by_role("button").click()
    expect(page.locator("#history-detail")).to_contain_text(NOTE)
    views.check(page, role, "history")


def escalation_views(page: Page, role: str, views: Views) -> None:
    page.get_by_test_id("view-escalations").click()
    item = page.get_by_test_id("escalation-list").get_by_test_id("escalation-item").first
    expect(item).to_be_visible()
    views.check(page, role, "escalations")
    item.locator("button").click()
    detail = page.get_by_test_id("escalation-detail")
    expect(detail.get_by_test_id("escalation-summary")).to_have_text(SUMMARY)
    views.check(page, role, "escalation-detail")
    if role == "supervisor":
        detail.get_by_test_id("escalation-approve").click()
        expect(detail.get_by_test_id("escalation-detail-state")).to_have_text(
            text("sv", "escalation.console.states.sent")
        )
    if role == "social_services":
        detail.get_by_test_id("escalation-acknowledge").click()
        expect(detail.get_by_test_id("escalation-detail-state")).to_have_text(
            text("sv", "escalation.console.states.acknowledged")
        )
        views.check(page, role, "escalation-acknowledged")


def audit_view(page: Page, role: str, views: Views) -> None:
    page.get_by_test_id("view-audit").click()
    expect(page.get_by_test_id("chat-audit-view").locator("table")).to_be_visible()
    views.check(page, role, "audit")


def knowledge_view(page: Page, role: str, views: Views) -> None:
    """The knowledge bank's editor, with the first article open (its preview and versions)."""
    page.get_by_test_id("view-knowledge").click()
    item = page.get_by_test_id("knowledge-item").first
    expect(item).to_be_visible()
    views.check(page, role, "knowledge")
    item.click()
    expect(page.get_by_test_id("knowledge-version").first).to_be_visible()
    expect(page.frame_locator('[data-testid="knowledge-preview"]').locator("body")).not_to_be_empty()
    views.check(page, role, "knowledge-editor")


def totp_view(page: Page, role: str, views: Views) -> None:
    page.get_by_test_id("view-security").click()
    page.get_by_test_id("totp-start").click()
    expect(page.get_by_test_id("totp-qr")).to_be_visible()
    expect(page.get_by_test_id("totp-secret")).not_to_be_empty()
    views.check(page, role, "totp-enrolment")


def chat_role(
    browser: Browser, server: ServerProcess, problems: PageProblems, role: str, views: Views
) -> Page:
    language = RELATIVE_LANGUAGE[role]
    relative_writes(browser, server, problems, language)
    page = console_page(browser, server, problems, role)
    sign_in(page, ACCOUNTS[role], views, role)
    panel = live_views(page, role, language, views)
    if role != "admin":
        escalation_draft(page, panel, role, views, send=role == "counsellor")
    if role == "counsellor":
        set_availability(page)
    if role == "admin":
        assert page.evaluate(BOOK) == 201
    appointment_views(page, role, views)
    if role != "admin":
        escalation_views(page, role, views)
    if role != "counsellor":
        audit_view(page, role, views)
    if role == "admin":
        knowledge_view(page, role, views)
    history_view(page, panel, role, views)
    totp_view(page, role, views)
    return page


def test_every_console_view_of_every_role_at_1280x800(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(
        env={"KINLINE_CHAT__COUNSELLOR_CAPACITY": "5", "KINLINE_BOOKING__KINDS__PHONE__MIN_NOTICE": "0s"},
        name="console-layout",
    )
    for role, name in ACCOUNTS.items():
        extra = ("--route", ROUTE) if role == "social_services" else ()
        server.add_user(name, role, DEFAULT_PASSWORD, *extra)
    views = Views(artifacts_dir)
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)

    with chromium() as browser:
        for role in ("counsellor", "supervisor", "admin"):
            chat_role(browser, server, problems, role, views).context.close()
        liaison = console_page(browser, server, problems, "social_services")
        sign_in(liaison, ACCOUNTS["social_services"], views, "social_services")
        escalation_views(liaison, "social_services", views)
        totp_view(liaison, "social_services", views)

    assert views.failures == [], "\n\n".join(views.failures)
    assert problems.seen == [], problems.seen
    for role in ("counsellor", "supervisor", "admin", "social_services"):
        assert f"{role} escalations" in views.seen or role == "admin"
        assert f"{role} totp-enrolment" in views.seen


def test_the_enrolment_only_page_of_every_role_at_1280x800(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    """With two-factor sign-in required, an account without it sees only the enrolment page."""
    server = server_factory(env={"KINLINE_AUTH__REQUIRE_TOTP": "true"}, name="console-layout-totp")
    for role, name in ACCOUNTS.items():
        extra = ("--route", ROUTE) if role == "social_services" else ()
        server.add_user(name, role, DEFAULT_PASSWORD, *extra)
    views = Views(artifacts_dir)
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)
    with chromium() as browser:
        for role, name in ACCOUNTS.items():
            page = console_page(browser, server, problems, role)
            sign_in(page, name, views, role)
            expect(page.get_by_test_id("totp-required-notice")).to_be_visible()
            expect(page.locator("#view-switch")).to_be_hidden()
            page.get_by_test_id("totp-start").click()
            expect(page.get_by_test_id("totp-qr")).to_be_visible()
            views.check(page, role, "totp-required")
            page.context.close()
    assert views.failures == [], "\n\n".join(views.failures)
    assert problems.seen == [], problems.seen


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user would."""
    handle = target.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(element) => document.activeElement === element", handle):
            return
    raise AssertionError(f"Tab never reached {target}")


def test_a_counsellor_claims_replies_and_uses_a_canned_answer_with_the_keyboard_only(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(name="console-keyboard")
    server.add_user(ACCOUNTS["counsellor"], "counsellor")
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)
    with chromium() as browser:
        relative = relative_writes(browser, server, problems, "ar")
        page = console_page(browser, server, problems, "counsellor")
        page.goto("/console/")
        expect(page.get_by_test_id("login-username")).to_be_focused()
        page.keyboard.type(ACCOUNTS["counsellor"])
        page.keyboard.press("Tab")
        page.keyboard.type(DEFAULT_PASSWORD)
        page.keyboard.press("Enter")
        claim = queue_item(page, "ar").get_by_test_id("claim")
        expect(claim).to_be_visible()

        tab_to(page, claim)
        page.keyboard.press("Enter")
        panel = page.get_by_test_id("chat-panel")
        expect(panel.get_by_test_id("message-input")).to_be_focused()
        page.keyboard.type(REPLY)
        page.keyboard.press("Enter")
        relative_messages = relative.get_by_test_id("messages")
        expect(relative_messages.locator('[data-sender="counsellor"]', has_text=REPLY)).to_have_count(1)

        select = panel.get_by_test_id("canned-select")
        tab_to(page, select)
        page.keyboard.press("ArrowDown")
        first = next(iter(canned("ar").values()))
        expect(panel.get_by_test_id("canned-preview")).to_have_text(first["text"])
        expect(panel.get_by_test_id("message-input")).to_have_value("")
        tab_to(page, panel.get_by_test_id("canned-insert"))
        page.keyboard.press("Enter")
        expect(panel.get_by_test_id("message-input")).to_be_focused()
        expect(panel.get_by_test_id("message-input")).to_have_value(first["text"])
        page.keyboard.press("Enter")
        sent = relative_messages.locator('[data-sender="counsellor"]', has_text=first["text"])
        expect(sent).to_have_count(1)
    assert problems.seen == [], problems.seen
