"""What a relative's connection opens with (greeting, queue position, missed messages), read in
one go. SQLite runs it as plain sqlite3 in the database thread and PostgreSQL through ChatStore,
so every test runs on both and must give the same answers."""

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
from server.adapters.db.sqlite_hot_paths import WaitingReader
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.conversations import Sender, State
from server.domain.errors import NotAuthenticated
from server.services.chat import ChatService
from server.services.retention import RetentionService
from tests.integration.wiring import T0, TOKEN_LIFETIME, ManualClock, RecordingBus, chat_policy, sqlite_url
from tests.support.clients import named_client_id as cid
from tests.support.services import postgres_server

GREETINGS = {"sv": ("Hej, du skriver anonymt.", "Anonymiteten upphör vid fara för liv."), "en": ("Hello.",)}


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
    yield ChatService(uow, RecordingBus(), ManualClock(T0), replace(chat_policy(), greetings=GREETINGS))
    await uow.close()
    await database.dispose()


async def nothing(_conversation_id: str) -> None:
    return None


async def test_the_greeting_is_stored_with_the_conversation_and_replayed_after_the_given_seq(
    chat: ChatService,
) -> None:
    started = await chat.start_conversation("sv", None)
    opened = await chat.open_relative(started.token, 0, nothing)
    assert [(m.seq, m.sender, m.text) for m in opened.missed] == [
        (1, Sender.BOT, GREETINGS["sv"][0]),
        (2, Sender.BOT, GREETINGS["sv"][1]),
    ]
    later = await chat.open_relative(started.token, 1, nothing)
    assert [m.seq for m in later.missed] == [2]
    english = await chat.start_conversation("en", None)
    assert [m.text for m in (await chat.open_relative(english.token, 0, nothing)).missed] == ["Hello."]
    message = await chat.post_message(started.conversation.id, cid("c1"), "första", Sender.RELATIVE)
    assert message.seq == 3


async def test_positions_on_connect_match_the_order_the_queue_is_served_in(chat: ChatService) -> None:
    clock = chat.clock
    assert isinstance(clock, ManualClock)
    started = []
    for index in range(8):
        started.append(await chat.start_conversation("sv", None))
        if index % 3 == 0:
            clock.advance(timedelta(seconds=1))  # others share a created_at, so the id breaks the tie
    await chat.raise_priority(started[5].conversation.id, "danger")
    await chat.raise_priority(started[7].conversation.id, "danger")
    await chat.leave(started[2].conversation.id)
    expected = chat.queue_positions(await chat.queue())
    assert len(expected) == 7
    for one in started:
        if one.conversation.id == started[2].conversation.id:
            with pytest.raises(NotAuthenticated):  # leaving ended the relative's access
                await chat.open_relative(one.token, 0, nothing)
            continue
        opened = await chat.open_relative(one.token, 0, nothing)
        assert opened.status.state is State.WAITING
        assert opened.status.queue_position == expected[one.conversation.id]
        assert opened.status.estimated_wait_seconds is not None
    assert expected[started[5].conversation.id] == 1 and expected[started[7].conversation.id] == 2


async def test_a_message_posted_while_subscribing_is_in_what_was_missed(chat: ChatService) -> None:
    """Live delivery starts before the read, so nothing falls between the two."""
    started = await chat.start_conversation("sv", None)
    subscribed: list[str] = []

    async def subscribe_while_a_message_arrives(conversation_id: str) -> None:
        subscribed.append(conversation_id)
        await chat.post_message(conversation_id, cid("in-between"), "mellan", Sender.RELATIVE)

    opened = await chat.open_relative(started.token, 2, subscribe_while_a_message_arrives)
    assert subscribed == [started.conversation.id]
    assert [(m.seq, m.text) for m in opened.missed] == [(3, "mellan")]


async def test_unknown_expired_and_deleted_tokens_open_nothing(chat: ChatService) -> None:
    subscribed: list[str] = []

    async def subscribe(conversation_id: str) -> None:
        subscribed.append(conversation_id)

    with pytest.raises(NotAuthenticated):
        await chat.open_relative("not-a-token", 0, subscribe)
    assert subscribed == []

    started = await chat.start_conversation("sv", None)
    await chat.open_relative(started.token, 0, subscribe)  # the service now remembers the token
    await chat.leave(started.conversation.id)
    clock = chat.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(days=200))
    assert (await RetentionService(chat.uow, clock, timedelta(days=180)).sweep()).conversations == 1
    with pytest.raises(NotAuthenticated):
        await chat.open_relative(started.token, 0, subscribe)

    fresh = await chat.start_conversation("sv", None)
    clock.advance(TOKEN_LIFETIME + timedelta(seconds=1))
    with pytest.raises(NotAuthenticated):
        await chat.open_relative(fresh.token, 0, subscribe)


async def test_a_long_queue_reads_in_order_and_shows_each_change(chat: ChatService) -> None:
    """From WaitingReader.LONG rows on, SQLite reads the queue in a thread and reuses the
    conversation of every row that did not change: order and fields must still be the database's."""
    clock = chat.clock
    assert isinstance(clock, ManualClock)
    started = []
    for _ in range(WaitingReader.LONG + 10):
        started.append((await chat.start_conversation("sv", None)).conversation.id)
        clock.advance(timedelta(seconds=1))
    first = await chat.queue()
    assert [c.id for c in first] == started
    raised = started[100]
    await chat.raise_priority(raised, "danger")
    await chat.leave(started[0])
    second = await chat.queue()  # on SQLite, the long read in a thread
    assert second[0].id == raised and second[0].priority > 0
    assert [c.id for c in second[1:]] == [c for c in started[1:] if c != raised]
    as_first_read = {c.id: c for c in first}
    assert all(c == as_first_read[c.id] for c in second[1:])
    await chat.raise_priority(started[200], "danger")
    third = await chat.queue()
    assert [c.id for c in third[:2]] == [raised, started[200]]
