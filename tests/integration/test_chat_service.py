"""The chat use-cases on a real SQLite file: ordering, idempotence, races, encryption, retention."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from server.adapters.crypto import DataCiphers, FieldCipher
from server.adapters.db.engine import Database
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.conversations import Sender, State
from server.domain.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from server.domain.staff import StaffUser
from server.services.auth import AuthService
from server.services.chat import ChatService, RelativeStatus, StartedConversation
from server.services.events import ConversationChanged, ConversationStarted, MessagePosted
from server.services.retention import RetentionService
from tests.integration.wiring import (
    PASSWORD,
    TOKEN_LIFETIME,
    ManualClock,
    RecordingBus,
    add_staff,
    chat_policy,
    sqlite_url,
)
from tests.support.assertions import raises_code
from tests.support.clients import named_client_id as cid


async def status_of(chat: ChatService, started: StartedConversation) -> RelativeStatus:
    """What the relative's socket is told on connect."""

    async def no_live_delivery(_conversation_id: str) -> None:
        return None

    return (await chat.open_relative(started.token, 0, no_live_delivery)).status


def message_rows(raw: sqlite3.Connection, conversation_id: str) -> list[tuple[int, str, str]]:
    return raw.execute(
        "SELECT seq, client_id, sender FROM messages WHERE conversation_id = ? ORDER BY seq",
        (conversation_id,),
    ).fetchall()


@pytest.fixture
async def alice(auth: AuthService) -> StaffUser:
    return await add_staff(auth, "alice")


@pytest.fixture
async def second_chat(
    migrated: Path, data_key: bytes, events: RecordingBus, clock: ManualClock
) -> AsyncIterator[ChatService]:
    """A second service on its own engine, as a second server process on the same file would be."""
    database = Database(sqlite_url(migrated))
    uow = SqlUnitOfWork(database, DataCiphers.from_key(data_key))
    yield ChatService(uow, events, clock, chat_policy())
    await uow.close()
    await database.dispose()


class TestStart:
    async def test_a_new_conversation_waits_in_the_queue(
        self, chat: ChatService, events: RecordingBus
    ) -> None:
        started = await chat.start_conversation("ar", None)
        assert started.conversation.state is State.WAITING
        assert started.conversation.topic == "worried_about_someone"
        assert [c.id for c in await chat.queue()] == [started.conversation.id]
        assert [e.conversation.id for e in events.of(ConversationStarted)] == [started.conversation.id]

    async def test_the_token_and_resume_code_are_stored_only_as_hashes(
        self, chat: ChatService, raw: sqlite3.Connection
    ) -> None:
        started = await chat.start_conversation("sv", None)
        dump = "\n".join(raw.iterdump())
        assert started.token not in dump
        assert started.resume_code not in dump
        assert started.resume_code.replace("-", "") not in dump

    async def test_the_token_authenticates_until_it_expires(
        self, chat: ChatService, clock: ManualClock
    ) -> None:
        started = await chat.start_conversation("sv", None)
        assert (await chat.authenticate_relative(started.token)).id == started.conversation.id
        clock.advance(TOKEN_LIFETIME + timedelta(seconds=1))
        with raises_code(NotAuthenticated, "invalid_token"):
            await chat.authenticate_relative(started.token)

    async def test_resume_gives_a_new_token_for_the_same_conversation(self, chat: ChatService) -> None:
        started = await chat.start_conversation("sv", None)
        conversation, token = await chat.resume(started.resume_code.lower().replace("-", " "))
        assert conversation.id == started.conversation.id
        assert token != started.token
        assert (await chat.authenticate_relative(token)).id == started.conversation.id

    async def test_a_wrong_resume_code_is_not_found(self, chat: ChatService) -> None:
        await chat.start_conversation("sv", None)
        with raises_code(NotFound, "not_found"):
            await chat.resume("AAAA-BBBB-CCCC-DDDD")


class TestSequence:
    async def test_seq_counts_every_sender_from_one(self, chat: ChatService, alice: StaffUser) -> None:
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        first = await chat.post_message(conversation_id, cid("r-1"), "Hej", Sender.RELATIVE)
        await chat.claim(conversation_id, alice)
        second = await chat.post_message(
            conversation_id, cid("c-1"), "Hej, jag heter Alice", Sender.COUNSELLOR, alice
        )
        third = await chat.post_bot_message(conversation_id, "automatiskt")
        assert third is not None
        assert [(m.seq, m.sender) for m in (first, second, third)] == [
            (1, Sender.RELATIVE),
            (2, Sender.COUNSELLOR),
            (3, Sender.BOT),
        ]
        assert [m.seq for m in await chat.history(conversation_id, 0)] == [1, 2, 3]
        assert [m.seq for m in await chat.history(conversation_id, 1)] == [2, 3]

    async def test_each_conversation_has_its_own_sequence(self, chat: ChatService) -> None:
        one = (await chat.start_conversation("sv", None)).conversation.id
        two = (await chat.start_conversation("sv", None)).conversation.id
        await chat.post_message(one, cid("a"), "ett", Sender.RELATIVE)
        await chat.post_message(one, cid("b"), "två", Sender.RELATIVE)
        other = await chat.post_message(two, cid("a"), "ett", Sender.RELATIVE)
        assert other.seq == 1

    async def test_the_same_client_id_returns_the_stored_message_adds_no_row_and_announces_it_again(
        self, chat: ChatService, events: RecordingBus, raw: sqlite3.Connection
    ) -> None:
        """Announced again, marked as a repeat: the process that stored it may have died before
        announcing it (tests/e2e/test_node_loss.py)."""
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        first = await chat.post_message(conversation_id, cid("same-id"), "original text", Sender.RELATIVE)
        again = await chat.post_message(conversation_id, cid("same-id"), "a different text", Sender.RELATIVE)
        assert again == first
        assert again.text == "original text"
        assert message_rows(raw, conversation_id) == [(1, cid("same-id"), "relative")]
        posted = events.of(MessagePosted)
        assert [(event.message, event.repeat) for event in posted] == [(first, False), (first, True)]
        assert posted[1].conversation.id == conversation_id

    async def test_concurrent_posts_get_unique_gap_free_seqs(
        self, chat: ChatService, second_chat: ChatService, alice: StaffUser, raw: sqlite3.Connection
    ) -> None:
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        await chat.claim(conversation_id, alice)
        posts = []
        for index in range(30):
            service = chat if index % 2 else second_chat
            posts.append(
                service.post_message(conversation_id, cid(f"r-{index}"), f"relative {index}", Sender.RELATIVE)
            )
            posts.append(
                service.post_message(
                    conversation_id, cid(f"c-{index}"), f"counsellor {index}", Sender.COUNSELLOR, alice
                )
            )
        stored = await asyncio.gather(*posts)
        assert sorted(m.seq for m in stored) == list(range(1, len(posts) + 1))
        assert [row[0] for row in message_rows(raw, conversation_id)] == list(range(1, len(posts) + 1))
        assert raw.execute(
            "SELECT last_seq FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone() == (len(posts),)

    async def test_a_refused_post_among_concurrent_ones_leaves_the_others_committed(
        self, chat: ChatService, auth: AuthService, alice: StaffUser, raw: sqlite3.Connection
    ) -> None:
        """Posts share commits; one that breaks a rule fails alone and takes no seq."""
        bob = await add_staff(auth, "bob")
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        await chat.claim(conversation_id, alice)
        posts = [
            chat.post_message(conversation_id, cid(f"r-{index}"), f"text {index}", Sender.RELATIVE)
            for index in range(10)
        ]
        posts.insert(5, chat.post_message(conversation_id, cid("bob-1"), "not mine", Sender.COUNSELLOR, bob))
        results = await asyncio.gather(*posts, return_exceptions=True)
        refused = results.pop(5)
        assert isinstance(refused, Forbidden) and refused.code == "not_holder"
        assert sorted(m.seq for m in results) == list(range(1, 11))  # type: ignore[union-attr]
        assert [row[1] for row in message_rows(raw, conversation_id)].count(cid("bob-1")) == 0
        assert len(message_rows(raw, conversation_id)) == 10

    async def test_a_client_id_racing_itself_is_stored_once(
        self, chat: ChatService, second_chat: ChatService, raw: sqlite3.Connection
    ) -> None:
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        resends = [
            service.post_message(conversation_id, cid("resent"), "hello once", Sender.RELATIVE)
            for service in (chat, second_chat) * 5
        ]
        stored = await asyncio.gather(*resends)
        assert {m.id for m in stored} == {stored[0].id}
        assert {m.seq for m in stored} == {1}
        assert message_rows(raw, conversation_id) == [(1, cid("resent"), "relative")]
        following = await chat.post_message(conversation_id, cid("next"), "and then this", Sender.RELATIVE)
        assert following.seq == 2

    @pytest.mark.parametrize(("text", "code"), [("x" * 4001, "text_too_long"), ("  \n ", "empty_text")])
    async def test_bad_text_stores_nothing(
        self, chat: ChatService, raw: sqlite3.Connection, text: str, code: str
    ) -> None:
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        with raises_code(InvalidInput, code):
            await chat.post_message(conversation_id, cid("bad"), text, Sender.RELATIVE)
        assert message_rows(raw, conversation_id) == []

    async def test_4000_characters_are_stored_whole(self, chat: ChatService) -> None:
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        text = "ä" * 4000
        await chat.post_message(conversation_id, cid("long"), text, Sender.RELATIVE)
        assert (await chat.history(conversation_id, 0))[0].text == text


class TestClaim:
    async def test_concurrent_claims_have_exactly_one_winner(
        self, chat: ChatService, second_chat: ChatService, auth: AuthService, raw: sqlite3.Connection
    ) -> None:
        counsellors = [await add_staff(auth, f"counsellor{index}") for index in range(10)]
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        attempts = [
            (chat if index % 2 else second_chat).claim(conversation_id, counsellor)
            for index, counsellor in enumerate(counsellors)
        ]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1
        assert all(isinstance(r, Conflict) and r.code == "already_claimed" for r in losers), losers
        winner_id = winners[0].counsellor_id
        assert raw.execute(
            "SELECT state, counsellor_id FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone() == (
            "active",
            winner_id,
        )

    async def test_capacity_stops_a_counsellor_from_holding_more(
        self, chat: ChatService, alice: StaffUser
    ) -> None:
        ids = [(await chat.start_conversation("sv", None)).conversation.id for _ in range(4)]
        for conversation_id in ids[:3]:
            await chat.claim(conversation_id, alice)
        with raises_code(Conflict, "capacity_reached"):
            await chat.claim(ids[3], alice)
        assert [c.id for c in await chat.queue()] == [ids[3]]

    async def test_close_then_claim_again_is_refused(
        self, chat: ChatService, alice: StaffUser, events: RecordingBus
    ) -> None:
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        await chat.claim(conversation_id, alice)
        closed = await chat.close(conversation_id, alice, "supported")
        assert closed.state is State.CLOSED and closed.outcome == "supported"
        assert [e.conversation.state for e in events.of(ConversationChanged)] == [State.ACTIVE, State.CLOSED]
        with raises_code(Conflict, "conversation_closed"):
            await chat.claim(conversation_id, alice)

    async def test_an_unknown_outcome_changes_nothing(self, chat: ChatService, alice: StaffUser) -> None:
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        await chat.claim(conversation_id, alice)
        with raises_code(InvalidInput, "unknown_outcome"):
            await chat.close(conversation_id, alice, "vanished")
        assert [c.id for c, _unread in await chat.held_by(alice.id)] == [conversation_id]


class TestEncryptionAtRest:
    async def test_message_text_and_notes_are_not_readable_in_the_file(
        self, chat: ChatService, alice: StaffUser, raw: sqlite3.Connection, migrated: Path, data_key: bytes
    ) -> None:
        secret_message = "Min son Kalle Karlsson har slutat prata med oss"
        secret_note = "Anteckning: pappan heter Sven Svensson"
        conversation_id = (await chat.start_conversation("sv", None)).conversation.id
        await chat.post_message(conversation_id, cid("m1"), secret_message, Sender.RELATIVE)
        await chat.claim(conversation_id, alice)
        await chat.add_note(conversation_id, alice, secret_note)

        (message_body,) = raw.execute(
            "SELECT body FROM messages WHERE client_id = ?", (cid("m1"),)
        ).fetchone()
        (note_body,) = raw.execute(
            "SELECT body FROM notes WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
        for secret, body in ((secret_message, message_body), (secret_note, note_body)):
            assert secret.encode() not in body
            assert b"Karlsson" not in body and b"Svensson" not in body
            assert FieldCipher(data_key).decrypt(body) == secret

        files = [path for path in migrated.parent.iterdir() if path.name.startswith(migrated.name)]
        for path in files:
            content = path.read_bytes()
            assert b"Karlsson" not in content, path.name
            assert b"Svensson" not in content, path.name

    async def test_the_service_reads_back_the_plain_text(self, chat: ChatService, alice: StaffUser) -> None:
        conversation_id = (await chat.start_conversation("ar", None)).conversation.id
        await chat.post_message(conversation_id, cid("m1"), "أنا قلق على أخي", Sender.RELATIVE)
        await chat.claim(conversation_id, alice)
        await chat.add_note(conversation_id, alice, "ملاحظة")
        _conversation, messages, notes = await chat.conversation_detail(conversation_id, alice)
        assert [m.text for m in messages] == ["أنا قلق على أخي"]
        assert [n.text for n in notes] == ["ملاحظة"]


class TestRetention:
    async def test_the_sweep_deletes_old_closed_conversations_with_everything_in_them(
        self,
        chat: ChatService,
        uow: SqlUnitOfWork,
        clock: ManualClock,
        alice: StaffUser,
        raw: sqlite3.Connection,
    ) -> None:
        retention = timedelta(days=180)
        old = await chat.start_conversation("sv", None)
        await chat.post_message(old.conversation.id, cid("m1"), "gammalt", Sender.RELATIVE)
        await chat.claim(old.conversation.id, alice)
        await chat.add_note(old.conversation.id, alice, "gammal anteckning")
        await chat.close(old.conversation.id, alice, "supported")

        clock.advance(retention - timedelta(days=1))
        recent = await chat.start_conversation("sv", None)
        await chat.post_message(recent.conversation.id, cid("m1"), "nyare", Sender.RELATIVE)
        await chat.claim(recent.conversation.id, alice)
        await chat.close(recent.conversation.id, alice, "supported")
        still_waiting = await chat.start_conversation("sv", None)

        clock.advance(timedelta(days=2))
        _conversation, late_token = await chat.resume(old.resume_code)
        swept = await RetentionService(uow, clock, retention).sweep()

        assert (swept.conversations, swept.messages, swept.notes) == (1, 1, 1)
        remaining = {row[0] for row in raw.execute("SELECT id FROM conversations")}
        assert remaining == {recent.conversation.id, still_waiting.conversation.id}
        for table in ("messages", "notes", "relative_tokens"):
            count = raw.execute(
                f"SELECT count(*) FROM {table} WHERE conversation_id = ?", (old.conversation.id,)
            )
            assert count.fetchone() == (0,), table
        assert message_rows(raw, recent.conversation.id) == [(1, cid("m1"), "relative")]
        with raises_code(NotAuthenticated, "invalid_token"):
            await chat.authenticate_relative(late_token)
        assert (await chat.authenticate_relative(recent.token)).id == recent.conversation.id

    async def test_a_sweep_with_nothing_due_deletes_nothing(
        self, chat: ChatService, uow: SqlUnitOfWork, clock: ManualClock, raw: sqlite3.Connection
    ) -> None:
        started = await chat.start_conversation("sv", None)
        await chat.leave(started.conversation.id)
        assert (await RetentionService(uow, clock, timedelta(days=180)).sweep()).conversations == 0
        assert raw.execute("SELECT count(*) FROM conversations").fetchone() == (1,)


class TestWaitEstimate:
    async def test_the_estimate_is_shared_by_chat_staff_signed_in_recently(
        self, chat: ChatService, auth: AuthService, clock: ManualClock
    ) -> None:
        first = await chat.start_conversation("sv", None)
        clock.advance(timedelta(seconds=1))
        second = await chat.start_conversation("sv", None)
        nobody = await status_of(chat, second)
        assert nobody.queue_position == 2

        for name in ("alice", "bob"):
            await add_staff(auth, name)
            await auth.login(name, PASSWORD)
        assert (await status_of(chat, second)) == nobody, "read at most every few seconds"
        clock.advance(chat.policy.wait_basis_max_age)
        two_online = await status_of(chat, second)
        assert nobody.estimated_wait_seconds is not None
        assert two_online.estimated_wait_seconds == nobody.estimated_wait_seconds // 2

        clock.advance(timedelta(hours=1))
        gone_idle = await status_of(chat, second)
        assert gone_idle.estimated_wait_seconds == nobody.estimated_wait_seconds
        assert (await status_of(chat, first)).queue_position == 1
