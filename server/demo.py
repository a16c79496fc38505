"""`kinline demo`: a demonstration on its own database, so that trying Kinline never seeds the real one.

It creates two staff accounts with generated passwords (printed once) and gives the counsellor a weekly
schedule in every language, so that booking shows free times at once; the line is open around the clock."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from server.config.settings import Settings
from server.domain.booking.availability import build_availability
from server.domain.errors import Conflict
from server.domain.staff import Role
from server.services.auth import AuthService
from server.services.ports.clock import Clock
from server.services.ports.unit_of_work import UnitOfWork

DEMO_DATABASE = "sqlite+aiosqlite:///var/demo.db"
DEMO_DATA_KEY_FILE = "var/demo-data.key"
DEMO_ACCOUNTS = (("demo-counsellor", Role.COUNSELLOR), ("demo-supervisor", Role.SUPERVISOR))
EVERY_DAY = range(7)
DEMO_HOURS = ("08:00", "21:00")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    password: str | None
    """None when the account existed already (its password was printed when it was made)."""


def demo_settings(settings: Settings) -> Settings:
    """The same settings on the demo database and key, open around the clock."""
    return settings.model_copy(
        update={
            "database_url": DEMO_DATABASE,
            "hours": settings.hours.model_copy(update={"always_open": True}),
            "security": settings.security.model_copy(update={"data_key_file": DEMO_DATA_KEY_FILE}),
        }
    )


async def seed_demo(
    settings: Settings, auth: AuthService, uow: UnitOfWork, clock: Clock
) -> list[DemoAccount]:
    """The demo accounts, each created once; the counsellor's schedule is (re)written every time."""
    accounts = []
    for username, role in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        try:
            await auth.add_user(username, password, role, None, None)
        except Conflict as error:
            if error.code != "user_exists":
                raise
            accounts.append(DemoAccount(username, role, None))
        else:
            accounts.append(DemoAccount(username, role, password))
    languages = settings.chat.languages
    availability = build_availability(languages, [(day, *DEMO_HOURS) for day in EVERY_DAY], [], languages)
    async with uow.write() as repos:
        found = await repos.staff.credentials(DEMO_ACCOUNTS[0][0])
        assert found is not None
        counsellor, _ = found
        await repos.booking.save_availability(counsellor.id, availability, clock())
    return accounts


def describe(accounts: list[DemoAccount]) -> str:
    lines = [
        "Demo database var/demo.db (your real var/kinline.db is not touched). Staff sign in at /console/:"
    ]
    for account in accounts:
        secret = account.password or "(made earlier; delete var/demo.db to start the demo over)"
        lines.append(f"  {account.role.value:<11} {account.username:<16} {secret}")
    lines.append(
        f"The counsellor takes bookings {DEMO_HOURS[0]}-{DEMO_HOURS[1]} every day, in every language."
    )
    return "\n".join(lines)
