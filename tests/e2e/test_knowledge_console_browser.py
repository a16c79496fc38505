"""Real Chromium on the console's knowledge bank (docs/knowledge.md).

The coordinator signs in, opens the Knowledge bank, writes a resource with a Somali text (Somali and
Swedish fields run left to right, Arabic and Persian right to left), sees the server's sanitised
preview in its sandboxed frame, saves, publishes and changes it, and reads the version history. A
counsellor claims a Somali conversation that a relative's page started at /?lang=so, finds the
resource in the conversation's side panel (first among the district's resources, then by search),
reads it and sends it; the transcript shows the card and so does the relative's page. axe finds no
WCAG 2.2 A/AA violation in the editor or the panel. Screenshots: test-artifacts/knowledge-editor-*.png,
knowledge-panel-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.accessibility import assert_accessible
from tests.e2e.browser import PageProblems, chromium, open_page, submit_sign_in
from tests.e2e.catalogs import text
from tests.e2e.relative_page import COUNSELLOR, phone, phone_server
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)

COORDINATOR = "editor-coordinator"
COORDINATOR_NAME = "Koordinatorn"
DISTRICT = "spanga-tensta"
TITLE = "Shabakadda waalidiinta Tensta"
SUMMARY = "Taageero waalidiinta"
CHANGED_SUMMARY = "Taageero iyo talo waalidiinta"
BODY = "Waxaan caawinnaa **waalidiinta**.\n\n<script>alert(1)</script>\n\n[Bogga](https://example.org/hooyo)"
PHONE = "08-000 00 00"
URL = "https://example.org/hooyo"
HOURS = "Isniin 10-16"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[ServerProcess]:
    with phone_server(
        tmp_path_factory.mktemp("knowledge-console"), artifacts_dir, "knowledge-console-browser"
    ) as started:
        started.add_user(COORDINATOR, "coordinator", DEFAULT_PASSWORD, "--display-name", COORDINATOR_NAME)
        yield started


def write_resource(page: Page, artifacts_dir: Path) -> None:
    """As the coordinator: the Somali resource, saved as a draft, previewed, published and changed once."""
    sv = "sv"
    expect(page.get_by_test_id("view-knowledge")).to_be_visible()
    page.get_by_test_id("view-knowledge").click()
    view = page.get_by_test_id("knowledge-view")
    expect(view.get_by_role("heading", name=text(sv, "console.knowledge.heading"))).to_be_visible()
    expect(view.get_by_test_id("knowledge-item").first).to_be_visible()
    page.get_by_test_id("knowledge-kind-resources").click()
    expect(page.get_by_test_id("knowledge-kind-resources")).to_have_attribute("aria-pressed", "true")
    expect(view.get_by_test_id("knowledge-item").filter(has_text="112")).to_have_count(1)
    page.get_by_test_id("knowledge-new").click()
    editor = page.get_by_test_id("knowledge-editor")
    expect(editor).to_be_visible()
    expect(page.get_by_test_id("knowledge-title-ar")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("knowledge-title-fa")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("knowledge-title-sv")).to_have_attribute("dir", "ltr")

    page.get_by_test_id("knowledge-lang-so").click()
    expect(page.get_by_test_id("knowledge-lang-so")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("knowledge-title-sv")).to_be_hidden()
    page.get_by_test_id("knowledge-title-so").fill(TITLE)
    page.get_by_test_id("knowledge-summary-so").fill(SUMMARY)
    page.get_by_test_id("knowledge-body-so").fill(BODY)
    page.get_by_test_id("knowledge-district-all").uncheck()
    page.get_by_test_id(f"knowledge-district-{DISTRICT}").check()
    page.get_by_test_id("knowledge-perspective-support_relatives").check()
    page.get_by_test_id("knowledge-phone").fill(PHONE)
    page.get_by_test_id("knowledge-url").fill(URL)
    page.get_by_test_id("knowledge-hours").fill(HOURS)

    preview = page.frame_locator('[data-testid="knowledge-preview"]')
    expect(preview.locator("strong")).to_have_text("waalidiinta")
    expect(preview.locator("html")).to_have_attribute("lang", "so")
    expect(preview.locator("body")).to_contain_text("<script>alert(1)</script>")
    expect(preview.locator("script")).to_have_count(0)
    expect(preview.get_by_role("link", name="Bogga")).to_have_attribute("href", URL)
    assert page.get_by_test_id("knowledge-preview").get_attribute("sandbox") == ""

    page.get_by_test_id("knowledge-save").click()
    expect(page.get_by_test_id("knowledge-status")).to_have_text(text(sv, "console.knowledge.saved"))
    expect(page.get_by_test_id("knowledge-state")).to_have_text(text(sv, "console.knowledge.draft"))
    page.get_by_test_id("knowledge-publish").click()
    expect(page.get_by_test_id("knowledge-state")).to_have_text(text(sv, "console.knowledge.published"))
    expect(page.get_by_test_id("knowledge-publish")).to_have_text(text(sv, "console.knowledge.unpublish"))

    page.get_by_test_id("knowledge-summary-so").fill(CHANGED_SUMMARY)
    page.get_by_test_id("knowledge-save").click()
    versions = page.get_by_test_id("knowledge-version")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text(COORDINATOR_NAME)
    expect(versions.first.locator("details p").nth(1)).to_have_text(CHANGED_SUMMARY, use_inner_text=False)
    expect(versions.nth(1).locator("details p").nth(1)).to_have_text(SUMMARY, use_inner_text=False)
    versions.nth(1).locator("summary").click()
    expect(versions.nth(1).locator("details p").nth(1)).to_be_visible()
    expect(view.get_by_test_id("knowledge-item").filter(has_text=TITLE)).to_have_count(1)

    page.get_by_test_id("knowledge-search").fill("waalidiinta")
    page.get_by_test_id("knowledge-search").press("Enter")
    expect(view.get_by_test_id("knowledge-item")).to_have_count(1)
    expect(view.get_by_test_id("knowledge-item")).to_contain_text(TITLE)
    assert_accessible(page, "the knowledge editor with a Somali resource")
    page.screenshot(path=artifacts_dir / "knowledge-editor-somali-resource.png", full_page=True)


def test_a_coordinator_publishes_a_somali_resource_a_counsellor_sends_it_and_the_relative_sees_it(
    browser: Browser, server: ServerProcess, artifacts_dir: Path
) -> None:
    problems = PageProblems(expected_failures=("/api/me",))
    coordinator = open_page(browser, server.url, problems, "coordinator", phone=False)
    submit_sign_in(coordinator, COORDINATOR)
    expect(coordinator.get_by_test_id("statistics-view")).to_be_visible()
    expect(coordinator.locator('.view-button[data-view="live"]')).to_be_hidden()
    write_resource(coordinator, artifacts_dir)
    coordinator.context.close()

    relative = phone(browser, server, problems)
    relative.goto("/?lang=so")
    relative.get_by_test_id("start-button").click()
    relative.get_by_test_id("resume-dismiss").click()
    expect(relative.get_by_test_id("conversation-state")).to_have_attribute("data-state", "waiting")

    console = open_page(browser, server.url, problems, "counsellor", phone=False)
    submit_sign_in(console, COUNSELLOR)
    expect(console.get_by_test_id("connection-state")).to_have_attribute("data-state", "connected")
    expect(console.get_by_test_id("view-knowledge")).to_be_hidden()
    item = console.get_by_test_id("queue").locator('[data-testid="queue-item"][data-language="so"]')
    expect(item).to_have_count(1)
    item.get_by_test_id("claim").click()
    panel = console.get_by_test_id("chat-panel")
    expect(panel).to_be_visible()
    side = panel.get_by_test_id("knowledge-panel")
    entries = side.get_by_test_id("knowledge-panel-entry")
    expect(entries.filter(has_text=TITLE)).to_have_count(1)
    expect(entries.filter(has_text=TITLE).locator(".knowledge-panel__title")).to_have_attribute("lang", "so")

    side.get_by_test_id("knowledge-panel-search").fill("waalidiinta")
    side.get_by_test_id("knowledge-panel-search-button").click()
    expect(entries).to_have_count(1)
    found = entries.first
    expect(found).to_contain_text(TITLE)
    expect(found).to_contain_text(CHANGED_SUMMARY)
    found.get_by_test_id("knowledge-panel-read").click()
    reader = side.frame_locator('[data-testid="knowledge-panel-reader"]')
    expect(reader.locator("strong")).to_have_text("waalidiinta")
    expect(reader.locator("script")).to_have_count(0)
    assert_accessible(console, "the counsellor's knowledge panel with a Somali resource open")
    console.screenshot(path=artifacts_dir / "knowledge-panel-search.png", full_page=True)

    found.get_by_test_id("knowledge-panel-send").click()
    card = panel.get_by_test_id("messages").get_by_test_id("resource-card")
    expect(card).to_have_count(1)
    expect(card.locator(".resource-title")).to_have_text(TITLE)
    expect(card.get_by_role("link", name=PHONE)).to_have_attribute("href", "tel:080000000")
    expect(panel.get_by_test_id("message-pending")).to_have_count(0)
    assert_accessible(console, "the counsellor's transcript with a resource card")
    console.screenshot(path=artifacts_dir / "knowledge-panel-card-sent.png", full_page=True)

    relative_card = relative.get_by_test_id("resource-card")
    expect(relative_card).to_have_count(1)
    expect(relative_card.locator(".resource-title")).to_have_text(TITLE)
    expect(relative_card.locator(".resource-summary")).to_have_text(CHANGED_SUMMARY)
    expect(relative_card.get_by_role("link", name=URL)).to_have_attribute("href", URL)
    expect(relative_card.locator("dt").first).to_have_text(text("so", "widget.resource_phone"))
    relative.screenshot(path=artifacts_dir / "knowledge-panel-card-relative-so.png", full_page=True)
    relative.context.close()
    console.context.close()
    assert problems.seen == []
