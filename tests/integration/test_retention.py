"""Retention with no gaps, on a real SQLite file (issue 14): open conversations that have not moved
for ``auto_close_after`` close as inactive (once, with several sweepers), each sweep's counts are
logged and kept for the console, and a purged message's bytes are gone from the database file."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.conversations import Sender, State
from server.domain.errors import Forbidden
from server.domain.staff import Role, StaffUser
from server.services.auth import AuthService
from server.services.chat import ChatService
from server.services.events import ConversationChanged
from server.services.retention import SWEEPS_KEPT, RetentionService
from tests.integration.wiring import ManualClock, RecordingBus, add_staff, chat_policy, sqlite_url
from tests.support.clients import named_client_id as cid

AUTO_CLOSE = timedelta(hours=24)
CHAT_RETENTION = timedelta(days=180)


@pytest.fixture
def chat(uow: SqlUnitOfWork, events: RecordingBus, clock: ManualClock) -> ChatService:
    return ChatService(uow, events, clock, replace(chat_policy(), auto_close_after=AUTO_CLOSE))


@pytest.fixture
def retention(uow: SqlUnitOfWork, clock: ManualClock, chat: ChatService) -> RetentionService:
    return RetentionService(
        uow, clock, CHAT_RETENTION, close_inactive=chat.close_inactive, auto_close_after=AUTO_CLOSE
    )


@pytest.fixture
async def alice(auth: AuthService) -> StaffUser:
    return await add_staff(auth, "alice")


@pytest.fixture
async def second_chat(
    migrated: Path, data_key: bytes, events: RecordingBus, clock: ManualClock
) -> AsyncIterator[ChatService]:
    """A second process's service on its own engine, on the same file."""
    database = Database(sqlite_url(migrated))
    uow = SqlUnitOfWork(database, DataCiphers.from_key(data_key))
    yield ChatService(uow, events, clock, replace(chat_policy(), auto_close_after=AUTO_CLOSE))
    await uow.close()
    await database.dispose()


def outcomes(raw: sqlite3.Connection) -> dict[str, tuple[str, str | None]]:
    return {row[0]: (row[1], row[2]) for row in raw.execute("SELECT id, state, outcome FROM conversations")}


class TestInactiveClose:
    async def test_open_conversations_without_a_message_for_auto_close_after_close_as_inactive(
        self,
        chat: ChatService,
        retention: RetentionService,
        clock: ManualClock,
        alice: StaffUser,
        events: RecordingBus,
        raw: sqlite3.Connection,
    ) -> None:
        waiting = (await chat.start_conversation("sv", None)).conversation.id
        active = (await chat.start_conversation("ar", None)).conversation.id
        await chat.claim(active, alice)
        talking = (await chat.start_conversation("so", None)).conversation.id
        await chat.claim(talking, alice)
        bot_only = (await chat.start_conversation("fa", None)).conversation.id

        clock.advance(AUTO_CLOSE - timedelta(minutes=1))
        await chat.post_message(talking, cid("late"), "fortfarande här", Sender.RELATIVE)
        await chat.post_bot_message(bot_only, "du är nummer 1 i kön")
        assert (await retention.sweep()).closed_inactive == 0
        clock.advance(timedelta(minutes=1))

        counts = await retention.sweep()

        assert counts.closed_inactive == 3
        assert outcomes(raw) == {
            waiting: ("closed", "inactive"),
            active: ("closed", "inactive"),
            bot_only: ("closed", "inactive"),
            talking: ("active", None),
        }
        changed = {e.conversation.id: e for e in events.of(ConversationChanged) if e.conversation.outcome}
        assert changed[active].previous_counsellor_id == alice.id
        assert set(changed) == {waiting, active, bot_only}
        records = raw.execute("SELECT outcome, count(*) FROM contact_records GROUP BY outcome").fetchall()
        assert records == [("inactive", 3)]
        assert (await retention.sweep()).closed_inactive == 0

    async def test_the_relative_is_told_why_when_they_come_back(
        self, chat: ChatService, retention: RetentionService, clock: ManualClock
    ) -> None:
        started = await chat.start_conversation("ti", None)
        clock.advance(AUTO_CLOSE)
        await retention.sweep()

        async def no_live_delivery(_conversation_id: str) -> None:
            return None

        status = (await chat.open_relative(started.token, 0, no_live_delivery)).status
        assert (status.state, status.closed_reason) == (State.CLOSED, "inactive")

    async def test_a_message_that_wins_the_race_keeps_the_conversation_open(
        self, chat: ChatService, clock: ManualClock, uow: SqlUnitOfWork, raw: sqlite3.Connection
    ) -> None:
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        clock.advance(AUTO_CLOSE)
        async with uow.read() as repos:
            (seen,) = await repos.chat.inactive_open(clock() - AUTO_CLOSE)
        await chat.post_message(conversation_id, cid("just in time"), "hej", Sender.RELATIVE)
        closed = replace(seen, state=State.CLOSED, closed_at=clock(), outcome="inactive")
        async with uow.write() as repos:
            assert not await repos.chat.close_inactive(seen, closed)
        assert outcomes(raw)[conversation_id] == ("waiting", None)

    async def test_two_processes_sweeping_at_once_close_each_conversation_once(
        self,
        chat: ChatService,
        second_chat: ChatService,
        clock: ManualClock,
        events: RecordingBus,
        raw: sqlite3.Connection,
    ) -> None:
        ids = [(await chat.start_conversation("sv", None)).conversation.id for _ in range(6)]
        clock.advance(AUTO_CLOSE)
        closed = await asyncio.gather(chat.close_inactive(), second_chat.close_inactive())
        assert sum(closed) == len(ids)
        announced = [e.conversation.id for e in events.of(ConversationChanged) if e.conversation.outcome]
        assert sorted(announced) == sorted(ids)
        assert raw.execute("SELECT count(*) FROM contact_records").fetchone() == (len(ids),)


class TestSweepReport:
    async def test_each_sweep_logs_one_line_of_counts_and_the_report_sums_them(
        self,
        chat: ChatService,
        retention: RetentionService,
        clock: ManualClock,
        alice: StaffUser,
        auth: AuthService,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        secret = "ett hemligt meddelande"
        started = await chat.start_conversation("sv", None)
        await chat.post_message(started.conversation.id, cid("m1"), secret, Sender.RELATIVE)
        await chat.claim(started.conversation.id, alice)
        await chat.post_message(started.conversation.id, cid("m2"), "svar", Sender.COUNSELLOR, alice)
        await chat.add_note(started.conversation.id, alice, "anteckning")
        clock.advance(AUTO_CLOSE)
        first = await retention.sweep()
        clock.advance(CHAT_RETENTION + timedelta(days=1))
        with caplog.at_level(logging.INFO, logger="server.services.retention"):
            second = await retention.sweep()

        assert first.closed_inactive == 1 and first.conversations == 0
        assert (second.conversations, second.messages, second.notes) == (1, 2, 1)
        assert second.tokens == 0, "the conversation's token went with it, not as expired"
        lines = [r.getMessage() for r in caplog.records if r.name == "server.services.retention"]
        assert lines == [
            "retention sweep: closed 0 inactive conversations; purged 1 conversations, "
            "2 messages, 1 notes, 0 expired tokens"
        ]
        assert secret not in caplog.text and started.conversation.id not in caplog.text

        admin = await add_staff(auth, "root", Role.ADMIN)
        report = await retention.report(admin)
        assert report.last is not None and report.last.counts == second
        assert report.sweeps == 1, "sweeps older than SWEEPS_KEPT are forgotten"
        clock.advance(SWEEPS_KEPT - timedelta(days=1))
        await retention.sweep()
        report = await retention.report(admin)
        assert report.sweeps == 2
        assert report.totals == second

    async def test_only_admins_read_the_report(
        self, retention: RetentionService, alice: StaffUser, auth: AuthService
    ) -> None:
        supervisor = await add_staff(auth, "sam", Role.SUPERVISOR)
        for reader in (alice, supervisor):
            with pytest.raises(Forbidden):
                await retention.report(reader)


class TestSecureDelete:
    async def test_a_purged_message_leaves_no_bytes_in_the_database_file(
        self,
        chat: ChatService,
        retention: RetentionService,
        clock: ManualClock,
        alice: StaffUser,
        raw: sqlite3.Connection,
        migrated: Path,
    ) -> None:
        """Message text is stored encrypted, so the test looks for the stored ciphertext (random
        nonce + tag: unique to this row) in the file's bytes. Without ``secure_delete`` SQLite leaves
        a deleted row's bytes in the page's free space and this fails."""
        started = await chat.start_conversation("sv", None)
        conversation_id = started.conversation.id
        await chat.post_message(conversation_id, cid("m1"), "känsligt " * 20, Sender.RELATIVE)
        await chat.claim(conversation_id, alice)
        kept = (await chat.start_conversation("sv", None)).conversation.id
        await chat.post_message(kept, cid("m1"), "kvar " * 20, Sender.RELATIVE)
        (body,) = raw.execute(
            "SELECT body FROM messages WHERE conversation_id = ? AND sender = 'relative'", (conversation_id,)
        ).fetchone()
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert bytes(body) in migrated.read_bytes()

        await chat.close(conversation_id, alice, "supported")
        clock.advance(CHAT_RETENTION + timedelta(days=1))
        await chat.post_message(kept, cid("m2"), "fortfarande", Sender.RELATIVE)
        assert (await retention.sweep()).messages == 1
        assert raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0

        wal = migrated.with_name(migrated.name + "-wal")
        stored = migrated.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert bytes(body) not in stored
