"""Presence of the relative, waiting places per address and danger priority per address, in the
service on a real database, SQLite and PostgreSQL alike (issue 9, finding 4)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.migrate import upgrade
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.conversations import ABANDONED, DANGER_PRIORITY, State
from server.domain.errors import RateLimited
from server.services.chat import ChatService
from server.services.events import ConversationChanged
from tests.integration.wiring import T0, ManualClock, RecordingBus, chat_policy, sqlite_url
from tests.support.services import postgres_server

ABANDON_AFTER = timedelta(minutes=15)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    url = sqlite_url(tmp_path / "kinline.db")
    upgrade(url)
    return url


@pytest.fixture
async def chat(database_url: str) -> AsyncIterator[ChatService]:
    database = Database(database_url)
    uow = SqlUnitOfWork(database, DataCiphers.from_key(os.urandom(32)))
    async with uow.write() as repos:
        await repos.connection.exec_driver_sql("DELETE FROM conversations")
    policy = replace(chat_policy(), waiting_per_address=2, abandon_after=ABANDON_AFTER)
    yield ChatService(uow, RecordingBus(), ManualClock(T0), policy)
    await uow.close()
    await database.dispose()


async def nothing(_conversation_id: str) -> None:
    return None


async def connect(chat: ChatService, token: str) -> None:
    """A socket opens, and the process's next sweep records it as present."""
    await chat.record_presence([(await chat.open_relative(token, 0, nothing)).conversation.id], {})


async def disconnect(chat: ChatService, conversation_id: str) -> None:
    """The last socket closes now, and the process's next sweep records the time."""
    await chat.record_presence((), {conversation_id: chat.clock()})


def advance(chat: ChatService, delta: timedelta) -> None:
    clock = chat.clock
    assert isinstance(clock, ManualClock)
    clock.advance(delta)


async def states(chat: ChatService, *ids: str) -> list[tuple[State, str | None]]:
    async with chat.uow.read() as repos:
        found = [await repos.chat.get(conversation_id) for conversation_id in ids]
    return [(c.state, c.outcome) for c in found if c is not None]


async def test_a_relative_gone_for_abandon_after_is_closed_as_abandoned(chat: ChatService) -> None:
    never_came = await chat.start_conversation("sv", None)
    present = await chat.start_conversation("sv", None)
    went_later = await chat.start_conversation("sv", None)
    await connect(chat, present.token)
    await connect(chat, went_later.token)
    advance(chat, timedelta(minutes=5))
    await disconnect(chat, went_later.conversation.id)

    advance(chat, ABANDON_AFTER - timedelta(minutes=5))
    assert await chat.sweep_presence([]) == 1
    ids = (never_came.conversation.id, present.conversation.id, went_later.conversation.id)
    assert await states(chat, *ids) == [
        (State.CLOSED, ABANDONED),
        (State.WAITING, None),
        (State.WAITING, None),
    ]
    advance(chat, timedelta(minutes=5))
    assert await chat.sweep_presence([]) == 1
    assert (await states(chat, went_later.conversation.id)) == [(State.CLOSED, ABANDONED)]
    events = chat.events
    assert isinstance(events, RecordingBus)
    closed = [e.conversation for e in events.of(ConversationChanged) if e.conversation.state is State.CLOSED]
    assert [(c.id, c.outcome) for c in closed] == [
        (never_came.conversation.id, ABANDONED),
        (went_later.conversation.id, ABANDONED),
    ]
    assert [c.id for c in await chat.queue()] == [present.conversation.id]


async def test_a_relative_who_comes_back_in_time_keeps_the_place(chat: ChatService) -> None:
    first = await chat.start_conversation("sv", None)
    advance(chat, timedelta(seconds=1))
    second = await chat.start_conversation("sv", None)
    await connect(chat, first.token)
    await connect(chat, second.token)
    await disconnect(chat, first.conversation.id)
    advance(chat, ABANDON_AFTER - timedelta(seconds=1))
    await connect(chat, first.token)
    advance(chat, ABANDON_AFTER)
    assert await chat.sweep_presence([]) == 0
    assert [c.id for c in await chat.queue()] == [first.conversation.id, second.conversation.id]


async def test_a_socket_in_another_process_counts_as_present(chat: ChatService) -> None:
    """A disconnect in one process marks the relative gone; the process still holding a socket
    of theirs clears it again in its sweep."""
    started = await chat.start_conversation("sv", None)
    await connect(chat, started.token)
    await disconnect(chat, started.conversation.id)
    assert await chat.sweep_presence([started.conversation.id]) == 0
    advance(chat, ABANDON_AFTER * 2)
    assert await chat.sweep_presence([]) == 0
    assert await states(chat, started.conversation.id) == [(State.WAITING, None)]


async def test_one_address_holds_at_most_the_waiting_places_it_is_allowed(chat: ChatService) -> None:
    first = await chat.start_conversation("sv", None, "key-a")
    await chat.start_conversation("sv", None, "key-a")
    with pytest.raises(RateLimited) as refused:
        await chat.start_conversation("sv", None, "key-a")
    assert refused.value.code == "too_many_waiting"
    await chat.start_conversation("sv", None, "key-b")
    await chat.leave(first.conversation.id)
    await chat.start_conversation("sv", None, "key-a")


async def test_danger_priority_counts_once_per_address(chat: ChatService) -> None:
    real = await chat.start_conversation("sv", None, "real")
    flood = []
    for _ in range(2):
        advance(chat, timedelta(seconds=1))
        flood.append(await chat.start_conversation("sv", None, "flood"))
    for started in flood:
        assert await chat.raise_priority(started.conversation.id, "danger_words") is not None
    queue = await chat.queue()
    assert [(c.id, c.priority, c.priority_reason) for c in queue] == [
        (flood[0].conversation.id, DANGER_PRIORITY, "danger_words"),
        (real.conversation.id, 0, None),
        (flood[1].conversation.id, 0, "danger_words"),
    ]
    assert await chat.raise_priority(real.conversation.id, "danger_words") is not None  # its own address

    await chat.leave(flood[0].conversation.id)  # the holder no longer waits: the address may again
    assert await chat.raise_priority(flood[1].conversation.id, "danger_words") is None  # already flagged
    later = await chat.start_conversation("sv", None, "flood")
    raised = await chat.raise_priority(later.conversation.id, "danger_words")
    assert raised is not None and raised.priority == DANGER_PRIORITY


async def test_danger_priority_counts_once_per_address_without_a_waiting_limit(chat: ChatService) -> None:
    chat.policy = replace(chat.policy, waiting_per_address=0)
    flood = []
    for _ in range(3):
        advance(chat, timedelta(seconds=1))
        flood.append(await chat.start_conversation("sv", None, "flood"))
    for started in flood:
        assert await chat.raise_priority(started.conversation.id, "danger_words") is not None
    assert [c.priority for c in await chat.queue()] == [DANGER_PRIORITY, 0, 0]
