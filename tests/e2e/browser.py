"""Real Chromium through Playwright's sync API: Debian's chromium, one browser context per role, numbered
screenshots under test-artifacts/, and every console error or uncaught exception a page raises."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.support.server import DEFAULT_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageProblems:
    """Console errors and uncaught exceptions, per page; a CSP violation shows up here as a console error.
    ``expected_failures`` lists URL paths whose failed load the test itself provokes (a refused login)."""

    expected_failures: tuple[str, ...] = ()
    seen: list[str] = field(default_factory=list)

    def watch(self, page: Page, role: str) -> None:
        page.on("console", lambda message: self._console(role, message))
        page.on("pageerror", lambda error: self.seen.append(f"{role}: uncaught {error}"))

    def _console(self, role: str, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if (
            message.text.startswith("Failed to load resource")
            and urlsplit(url).path in self.expected_failures
        ):
            return
        self.seen.append(f"{role}: {message.text} ({url})")


def open_page(
    browser: Browser,
    base_url: str,
    problems: PageProblems,
    role: str,
    *,
    phone: bool,
    locale: str = "en-US",
) -> Page:
    """A page in a fresh browser context of its own: no storage or cookies shared with other roles."""
    context = browser.new_context(
        base_url=base_url,
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=1,
        locale=locale,
    )
    page = context.new_page()
    problems.watch(page, role)
    return page


class Screenshots:
    """test-artifacts/browser-NN-<step>.png, numbered in the order they are taken; those of an earlier run
    are removed first, so the set on disk is always one run's."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.taken: list[Path] = []
        for old in directory.glob("browser-*.png"):
            old.unlink()

    def take(self, page: Page, step: str) -> Path:
        name = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.directory / f"browser-{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        self.taken.append(path)
        return path


def submit_sign_in(page: Page, username: str, password: str = DEFAULT_PASSWORD) -> None:
    """Opens the console and submits its sign-in form; the caller waits for what its role sees next."""
    page.goto("/console/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
