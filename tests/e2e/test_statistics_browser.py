"""Real Chromium on /console/: a supervisor opens Statistics over this week's contact records,
written by conversations a counsellor closed through the real server;
the table, the suppressed cells and both plots draw, the page passes axe and does not scroll
sideways at 1280x800, and the CSV download holds the same numbers as the table. A counsellor has
no Statistics entry and is refused the table, the plots and the export.
Screenshot: test-artifacts/statistics-1280.png."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import assert_accessible, assert_no_sideways_scroll
from tests.e2e.browser import PageProblems, chromium, open_page
from tests.e2e.test_statistics_records import close
from tests.support.clients import Harness
from tests.support.server import DEFAULT_PASSWORD, ServerProcess

pytestmark = pytest.mark.browser

COUNSELLOR, SUPERVISOR = "cora-stats", "sam-stats"
# Closed conversations per language. With min_cell 2, Somali (1) is suppressed, and Arabic (2)
# with it, since the total would otherwise give Somali away.
CLOSED = {"sv": 3, "ar": 2, "so": 1}
EXPECTED_FAILED_LOADS = ("/api/me",)

expect.set_options(timeout=15_000)


async def close_conversations(server: ServerProcess) -> None:
    """The records of CLOSED, written by the real flow: relatives start conversations, and the
    counsellor claims and closes each over the /counsellor socket."""
    async with Harness(server) as h:
        counsellor = await h.sign_in(COUNSELLOR)
        for language, count in CLOSED.items():
            for _ in range(count):
                started = await h.start_conversation(language, "worried_about_someone")
                await close(counsellor, started.conversation_id)


def sign_in(page: Page, username: str) -> None:
    page.goto("/console/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(DEFAULT_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("view-escalations")).to_be_visible()


def chart_drawn(page: Page, chart: str) -> None:
    image = page.get_by_test_id(f"statistics-chart-{chart}")
    expect(image).to_be_visible()
    page.wait_for_function(
        "(el) => el.complete && el.naturalWidth > 0", arg=image.element_handle(), timeout=15_000
    )


def test_a_supervisor_reads_plots_and_exports_the_statistics(
    server_factory: Callable[..., ServerProcess], artifacts_dir: Path
) -> None:
    server = server_factory(name="statistics-browser", env={"KINLINE_STATISTICS__MIN_CELL": "2"})
    server.add_user(COUNSELLOR, "counsellor", DEFAULT_PASSWORD)
    server.add_user(SUPERVISOR, "supervisor", DEFAULT_PASSWORD)
    asyncio.run(close_conversations(server))
    problems = PageProblems(expected_failures=EXPECTED_FAILED_LOADS)

    with chromium() as browser:
        page = open_page(browser, server.url, problems, "supervisor", phone=False)
        sign_in(page, SUPERVISOR)
        page.get_by_test_id("view-statistics").click()
        view = page.get_by_test_id("statistics-view")
        expect(view.get_by_test_id("statistics-table")).to_be_visible()

        view.get_by_test_id("statistics-by").select_option("language")
        view.get_by_test_id("statistics-show").click()
        rows = view.get_by_test_id("statistics-row")
        expect(rows).to_have_count(3)
        expect(rows.filter(has_text="svenska")).to_contain_text("3")
        expect(rows.filter(has_text="arabiska")).to_contain_text("<2")
        expect(rows.filter(has_text="somaliska")).to_contain_text("<2")
        expect(view.get_by_test_id("statistics-total")).to_contain_text("6")
        expect(view.get_by_test_id("statistics-note")).to_contain_text("<2")
        chart_drawn(page, "line")
        chart_drawn(page, "bar")
        page.screenshot(path=artifacts_dir / "statistics-1280.png", full_page=True)
        assert_accessible(page, "statistics, one dimension")
        assert_no_sideways_scroll(page, "statistics, one dimension")

        with page.expect_download() as download:
            view.get_by_test_id("statistics-csv").click()
        table = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        assert table[0] == ["language", "count"]
        shown = [row.locator("td").inner_text() for row in rows.all()]
        assert [count for _, count in table[1:-1]] == shown
        assert table[-1] == ["total", "6"]

        view.get_by_test_id("statistics-by2").select_option("topic")
        page.locator("#language-select").select_option("en")
        view.get_by_test_id("statistics-show").click()
        expect(
            view.get_by_role("columnheader", name="I am worried about someone close to me")
        ).to_be_visible()
        chart_drawn(page, "bar")
        assert "lang=en" in (view.get_by_test_id("statistics-chart-bar").get_attribute("src") or "")
        assert_accessible(page, "statistics, cross-tab in English")
        assert_no_sideways_scroll(page, "statistics, cross-tab in English")

        counsellor = open_page(browser, server.url, problems, "counsellor", phone=False)
        sign_in(counsellor, COUNSELLOR)
        expect(counsellor.get_by_test_id("view-statistics")).to_be_hidden()
        query = "from=2020-W01&to=2020-W10&by=language"
        for path in ("/api/stats", "/api/stats.svg", "/api/stats.csv", "/api/stats.json"):
            answer = counsellor.request.get(f"{path}?{query}&chart=bar")
            assert answer.status == 403, (path, answer.status)

    assert not problems.seen, problems.seen
