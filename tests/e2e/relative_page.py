"""The relative's page as the phone browser tests drive it: a phone whose quick exit lands on a stand-in
for the neutral site, a signed-in counsellor on an event loop of its own (Playwright's sync API holds the
test's thread), and keyboard steps."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.browser import PageProblems
from tests.e2e.escalation_helpers import draft_body
from tests.support.booking import BookingClient
from tests.support.clients import Harness, Staff
from tests.support.server import ServerProcess

LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti")
WIDTHS = (320, 360)
PHONE_HEIGHT = 640
COUNSELLOR = "phone-counsellor"
EXIT_URL = "https://exit.example.org/"
SERVER_ENV = {
    "KINLINE_CHAT__COUNSELLOR_CAPACITY": "50",
    "KINLINE_BOOKING__KINDS__PHONE__MIN_NOTICE": "0s",
    "KINLINE_BOOKING__BOOKINGS_PER_MINUTE": "0",
    "KINLINE_PRIVACY__EXIT_URL": EXIT_URL,
}


class Counsellor:
    """A signed-in counsellor (real HTTP session and /counsellor socket) on an event loop in a thread."""

    def __init__(self, server: ServerProcess) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.harness = Harness(server)
        self.staff: Staff = self.run(self.harness.sign_in(COUNSELLOR))
        self.booking: BookingClient = self.run(self._open_all_week())

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=60)

    async def _open_all_week(self) -> BookingClient:
        booking = BookingClient(self.staff.api, self.harness.api())
        await booking.open_all_week(LANGUAGES)
        return booking

    def claim(self, conversation_id: str) -> None:
        ack = self.run(self.staff.socket.claim(conversation_id))
        assert ack["ok"], ack

    def say(self, conversation_id: str, message: str) -> None:
        ack = self.run(self.staff.socket.send(conversation_id, message))
        assert ack["ok"], ack

    def escalate(self, conversation_id: str) -> None:
        """Imminent danger goes to social services at once, without a supervisor."""
        body = draft_body(conversation_id, "imminent_danger")
        result = self.run(self.staff.api.request("POST", "/api/escalations", json=body))
        assert result.status == 201 and result.body["state"] == "sent", result.body

    def manage_code(self, language: str) -> str:
        """A booked phone call in ``language``: its manage code."""

        async def book() -> str:
            slots = await self.booking.slots(language=language, hours=72)
            assert slots, f"no free time in {language}"
            return str((await self.booking.book(slots[0]["start"], language=language))["manage_code"])

        return str(self.run(book()))

    def close(self) -> None:
        self.run(self.harness.__aexit__())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def phone(browser: Browser, server: ServerProcess, problems: PageProblems, *, touch: bool = True) -> Page:
    """A fresh phone (320 px wide) whose quick exit lands on a stand-in for the neutral site."""
    context = browser.new_context(
        base_url=server.url,
        viewport={"width": WIDTHS[0], "height": PHONE_HEIGHT},
        is_mobile=touch,
        has_touch=touch,
        device_scale_factor=1,
        locale="en-US",
    )
    route_exit(context)
    page = context.new_page()
    problems.watch(page, "relative")
    return page


def route_exit(context: BrowserContext) -> None:
    context.route(
        f"{EXIT_URL}**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<title>Weather</title>"),
    )


def conversation_id(page: Page) -> str:
    stored = page.evaluate("() => JSON.parse(sessionStorage.getItem('kinline.conversation'))")
    return str(stored["conversation_id"])


def press_tab_until(page: Page, test_id: str, limit: int = 80) -> None:
    """Tab (forwards) until the element with ``test_id`` has the focus."""
    for _ in range(limit):
        if page.evaluate("(id) => document.activeElement?.dataset?.testid === id", test_id):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{test_id} never got the focus by Tab")


@contextmanager
def phone_server(workdir: Path, artifacts_dir: Path, name: str) -> Iterator[ServerProcess]:
    """A server with ``SERVER_ENV`` and the counsellor's account; its log is kept as
    test-artifacts/server-logs/<name>.log."""
    server = ServerProcess(workdir, SERVER_ENV)
    server.add_user(COUNSELLOR, "counsellor")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        logs = artifacts_dir / "server-logs"
        logs.mkdir(exist_ok=True)
        shutil.copyfile(server.log_path, logs / f"{name}.log")


@contextmanager
def signed_in_counsellor(server: ServerProcess) -> Iterator[Counsellor]:
    staff = Counsellor(server)
    try:
        yield staff
    finally:
        staff.close()
