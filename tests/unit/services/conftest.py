"""Fixtures: the services on the in-memory fakes (tests/fakes), a manual clock and a recording bus."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, profiles

from server.domain.staff import StaffUser
from server.services.accounts import AccountPolicy, AccountService
from server.services.auth import AuthService, SessionPolicy
from server.services.chat import ChatService
from tests.fakes.secrets import MarkingSecretBox
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.integration.wiring import ABSOLUTE_TIMEOUT, FAILURES_BEFORE_DELAY, IDLE_TIMEOUT, T0, chat_policy
from tests.support.clock import ManualClock
from tests.support.event_bus import RecordingBus


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def events() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def chat(uow: FakeUnitOfWork, events: RecordingBus, clock: ManualClock) -> ChatService:
    return ChatService(uow, events, clock, chat_policy())


def cheapest_hasher() -> PasswordHasher:
    """argon2id with the library's cheapest parameters, meant for tests: the real hashing is made
    slow on purpose, and unit tests check the rules around it, not its cost."""
    return PasswordHasher.from_parameters(profiles.CHEAPEST)


@pytest.fixture
def auth(uow: FakeUnitOfWork, events: RecordingBus, clock: ManualClock) -> AuthService:
    return AuthService(
        uow,
        events,
        clock,
        SessionPolicy(IDLE_TIMEOUT, ABSOLUTE_TIMEOUT, FAILURES_BEFORE_DELAY),
        MarkingSecretBox(),
        cheapest_hasher(),
    )


@pytest.fixture
async def alice(uow: FakeUnitOfWork) -> StaffUser:
    return await uow.seed_staff("alice")


@pytest.fixture
async def bob(uow: FakeUnitOfWork) -> StaffUser:
    return await uow.seed_staff("bob")


SETUP_LINK_LIFETIME = timedelta(hours=24)
ROUTES = frozenset({"spanga-tensta"})


@pytest.fixture
def accounts(
    uow: FakeUnitOfWork, events: RecordingBus, clock: ManualClock, auth: AuthService
) -> AccountService:
    return AccountService(uow, events, clock, AccountPolicy(SETUP_LINK_LIFETIME, ROUTES), auth.hasher)
