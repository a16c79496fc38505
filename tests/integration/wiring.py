"""How the integration tests wire services: as server/app.py does, with a clock the test moves
by hand and an event bus that records what was announced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.config.settings import LANGUAGE_CODES
from server.domain.hours import OpeningHours
from server.domain.staff import Role, StaffUser
from server.services.auth import AuthService
from server.services.chat import ChatPolicy
from tests.support.clock import ManualClock as ManualClock
from tests.support.event_bus import RecordingBus as RecordingBus

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery-staple"
OUTCOMES = ("supported", "referred", "information", "no_contact", "other")
TOPICS = ("worried_about_someone", "leaving_myself", "affected", "professional")
CAPACITY = 3
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=10)
FAILURES_BEFORE_DELAY = 3
TOKEN_LIFETIME = timedelta(days=30)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def chat_policy(capacity: int = CAPACITY) -> ChatPolicy:
    return ChatPolicy(
        hours=OpeningHours(timezone="Europe/Stockholm", always_open=True),
        languages=LANGUAGE_CODES,
        topics=TOPICS,
        outcomes=OUTCOMES,
        capacity=capacity,
        max_text_length=4000,
        token_lifetime=TOKEN_LIFETIME,
        default_wait=timedelta(minutes=5),
        online_window=timedelta(minutes=30),
    )


async def add_staff(auth: AuthService, username: str, role: Role = Role.COUNSELLOR) -> StaffUser:
    user_id = await auth.add_user(username, PASSWORD, role)
    async with auth.uow.read() as repos:
        user = await repos.staff.get_user(user_id)
    assert user is not None
    return user
