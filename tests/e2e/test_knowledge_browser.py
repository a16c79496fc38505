"""Real Chromium on the knowledge bank's pages.

- The public page "Information and help" with JavaScript off, in Swedish and Persian (right to
  left): it renders on the server, its quick exit is a plain link to the exit URL, the district
  chooser is a GET form, and every request goes to the server itself. The same page with
  JavaScript on passes axe (WCAG 2.2 A and AA; axe needs JavaScript to run).
  Screenshots: test-artifacts/help-<lang>-nojs.png, and the print view help-<lang>-print.png.
- A coordinator publishes a resource in Somali, a counsellor finds it and sends it into a Somali
  conversation, and the relative's page shows it as a card (test-artifacts/knowledge-card-so.png).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.accessibility import assert_accessible, assert_no_sideways_scroll
from tests.e2e.browser import PageProblems, chromium, open_page, submit_sign_in
from tests.e2e.catalogs import text
from tests.e2e.relative_page import EXIT_URL, conversation_id, phone, phone_server, signed_in_counsellor
from tests.support.clients import Harness, new_client_id
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)

COORDINATOR = "knowledge-coordinator"
DISTRICT = "spanga-tensta"
SOMALI_RESOURCE: dict[str, Any] = {
    "districts": [DISTRICT],
    "contact": {
        "phone": "08-000 00 00",
        "url": "https://example.org/hooyo",
        "address": "",
        "hours": "Isniin",
    },
    "texts": {"so": {"title": "Shabakadda waalidiinta", "summary": "Taageero waalidiinta", "body": ""}},
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def knowledge_server(
    tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path
) -> Iterator[ServerProcess]:
    with phone_server(
        tmp_path_factory.mktemp("knowledge-browser"), artifacts_dir, "knowledge-browser"
    ) as server:
        server.add_user(COORDINATOR, "coordinator")
        yield server


def no_script_page(browser: Browser, server: ServerProcess, requests: list[str]) -> Page:
    context = browser.new_context(
        base_url=server.url, java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    return page


@pytest.mark.parametrize(("language", "direction"), [("sv", "ltr"), ("fa", "rtl")])
def test_the_help_page_works_without_javascript_and_passes_axe(
    browser: Browser, knowledge_server: ServerProcess, artifacts_dir: Path, language: str, direction: str
) -> None:
    requests: list[str] = []
    page = no_script_page(browser, knowledge_server, requests)
    page.goto(f"/help?lang={language}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", direction)
    expect(page.locator("h1")).to_have_text(text(language, "help.title"))
    resources = page.get_by_test_id("help-resource")
    expect(resources).to_have_count(3)
    expect(resources.filter(has_text="112")).to_have_count(1)
    expect(page.get_by_test_id("help-article")).to_have_count(4)
    exit_link = page.get_by_test_id("quick-exit")
    expect(exit_link).to_have_text(text(language, "widget.quick_exit"))
    expect(exit_link).to_have_attribute("href", EXIT_URL)

    page.select_option("#help-district", DISTRICT)
    page.get_by_role("button", name=text(language, "help.choose")).click()
    page.wait_for_url(f"**/help?lang={language}&district={DISTRICT}")
    expect(page.locator("#help-district")).to_have_value(DISTRICT)
    page.screenshot(path=artifacts_dir / f"help-{language}-nojs.png", full_page=True)
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    page.screenshot(path=artifacts_dir / f"help-{language}-print.png", full_page=True)
    page.context.close()
    assert requests and all(url.startswith(knowledge_server.url) for url in requests), requests

    problems = PageProblems()
    scripted = browser.new_context(base_url=knowledge_server.url, viewport={"width": 390, "height": 844})
    live = scripted.new_page()
    problems.watch(live, "relative")
    live.goto(f"/help?lang={language}&district={DISTRICT}")
    expect(live.get_by_test_id("help-resource").first).to_be_visible()
    assert_accessible(live, f"help page in {language}")
    assert_no_sideways_scroll(live, f"help page in {language}")
    scripted.close()
    assert problems.seen == []


def test_a_somali_relative_sees_the_resource_a_counsellor_sends_as_a_card(
    browser: Browser, knowledge_server: ServerProcess, artifacts_dir: Path
) -> None:
    problems = PageProblems()
    with signed_in_counsellor(knowledge_server) as counsellor:

        async def publish() -> int:
            async with Harness(knowledge_server) as h:
                coordinator = await h.sign_in(COORDINATOR, DEFAULT_PASSWORD, connect=False)
                created = await coordinator.api.request("POST", "/api/staff/resources", json=SOMALI_RESOURCE)
                assert created.status == 201, created.body
                item_id = int(created.body["item"]["id"])
                done = await coordinator.api.request("POST", f"/api/staff/resources/{item_id}/publish")
                assert done.status == 200, done.body
                return item_id

        resource_id = counsellor.run(publish())
        page = phone(browser, knowledge_server, problems)
        page.goto("/?lang=so")
        expect(page.get_by_test_id("help-link")).to_have_attribute("href", "/help?lang=so")
        page.get_by_test_id("start-button").click()
        page.get_by_test_id("resume-dismiss").click()
        conversation = conversation_id(page)
        counsellor.claim(conversation)

        async def find_and_send() -> dict[str, Any]:
            found = await counsellor.staff.api.request("GET", "/api/staff/knowledge/search?q=waalidiinta")
            assert [item["id"] for item in found.body["items"]] == [resource_id]
            payload = {
                "conversation_id": conversation,
                "client_id": new_client_id(),
                "resource_id": resource_id,
            }
            return dict(await counsellor.staff.socket.call("send_resource", payload))

        ack = counsellor.run(find_and_send())
        assert ack["ok"], ack
        card = page.get_by_test_id("resource-card")
        expect(card).to_have_count(1)
        expect(card.locator(".resource-title")).to_have_text("Shabakadda waalidiinta")
        expect(card.get_by_role("link", name="08-000 00 00")).to_have_attribute("href", "tel:080000000")
        expect(card.get_by_role("link", name="https://example.org/hooyo")).to_have_attribute(
            "href", "https://example.org/hooyo"
        )
        expect(card.locator("dt").first).to_have_text(text("so", "widget.resource_phone"))
        assert_accessible(page, "a resource card in Somali")
        page.screenshot(path=artifacts_dir / "knowledge-card-so.png", full_page=True)
        page.context.close()
    assert problems.seen == []


def test_the_coordinator_signs_in_to_the_statistics_and_never_the_chat(
    browser: Browser, knowledge_server: ServerProcess, artifacts_dir: Path
) -> None:
    problems = PageProblems(expected_failures=("/api/me",))
    page = open_page(browser, knowledge_server.url, problems, "coordinator", phone=False)
    submit_sign_in(page, COORDINATOR)
    expect(page.get_by_test_id("statistics-view")).to_be_visible()
    expect(page.get_by_test_id("view-statistics")).to_be_visible()
    for hidden in ("live", "history", "escalations", "appointments", "audit"):
        expect(page.locator(f'.view-button[data-view="{hidden}"]')).to_be_hidden()
    assert_accessible(page, "the coordinator's console")
    page.screenshot(path=artifacts_dir / "console-1280-coordinator-statistics.png", full_page=True)
    page.context.close()
    assert problems.seen == []
