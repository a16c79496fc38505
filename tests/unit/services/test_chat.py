"""ChatService on the in-memory fakes: the rules of tests/integration/test_chat_service.py and more,
without a database."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from server.domain.conversations import DANGER_PRIORITY, Conversation, Sender, State
from server.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
    Unavailable,
)
from server.domain.hours import OpeningHours
from server.domain.staff import Role, StaffUser
from server.services.chat import ChatService
from server.services.events import (
    AwayChanged,
    ConversationChanged,
    ConversationStarted,
    MessagePosted,
    NoteAdded,
    ReadMarked,
    RelativeAccessEnded,
)
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.integration.wiring import TOKEN_LIFETIME, chat_policy
from tests.support.assertions import raises_code
from tests.support.clients import named_client_id as cid
from tests.support.clock import ManualClock
from tests.support.event_bus import RecordingBus


async def new_id(chat: ChatService, address_key: str | None = None) -> str:
    return (await chat.start_conversation("sv", None, address_key)).conversation.id


def stored(uow: FakeUnitOfWork, conversation_id: str) -> Conversation:
    return uow.tables.conversations[conversation_id].conversation


def stored_client_ids(uow: FakeUnitOfWork, conversation_id: str) -> list[str]:
    return [row.message.client_id for row in uow.tables.messages[conversation_id]]


async def no_live_delivery(_conversation_id: str) -> None:
    return None


class TestStart:
    async def test_a_new_conversation_waits_in_the_queue_and_is_announced(
        self, chat: ChatService, events: RecordingBus
    ) -> None:
        started = await chat.start_conversation("ar", None)
        assert started.conversation.state is State.WAITING
        assert started.conversation.topic == "worried_about_someone"
        assert [c.id for c in await chat.queue()] == [started.conversation.id]
        assert [e.conversation.id for e in events.of(ConversationStarted)] == [started.conversation.id]

    async def test_an_unknown_language_or_topic_is_refused_and_nothing_is_stored(
        self, chat: ChatService, uow: FakeUnitOfWork
    ) -> None:
        with raises_code(InvalidInput, "invalid_request"):
            await chat.start_conversation("xx", None)
        with raises_code(InvalidInput, "invalid_request"):
            await chat.start_conversation("sv", "gossip")
        assert uow.tables.conversations == {}

    async def test_a_closed_line_starts_nothing(
        self, uow: FakeUnitOfWork, events: RecordingBus, clock: ManualClock
    ) -> None:
        closed = replace(chat_policy(), hours=OpeningHours(timezone="Europe/Stockholm"))
        with raises_code(Unavailable, "closed"):
            await ChatService(uow, events, clock, closed).start_conversation("sv", None)
        assert events.published == []

    async def test_greetings_are_the_first_messages_of_the_conversation(
        self, uow: FakeUnitOfWork, events: RecordingBus, clock: ManualClock
    ) -> None:
        greeting = replace(chat_policy(), greetings={"sv": ("Hej!", "Vi svarar snart.")})
        started = await ChatService(uow, events, clock, greeting).start_conversation("sv", None)
        view = await ChatService(uow, events, clock, greeting).open_relative(
            started.token, 0, no_live_delivery
        )
        assert [(m.seq, m.sender, m.text, m.client_id) for m in view.missed] == [
            (1, Sender.BOT, "Hej!", "opening-1"),
            (2, Sender.BOT, "Vi svarar snart.", "opening-2"),
        ]

    async def test_the_token_authenticates_until_it_expires(
        self, chat: ChatService, clock: ManualClock
    ) -> None:
        started = await chat.start_conversation("sv", None)
        assert (await chat.authenticate_relative(started.token)).id == started.conversation.id
        clock.advance(TOKEN_LIFETIME)
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

    async def test_one_address_holds_a_bounded_number_of_waiting_conversations(
        self, uow: FakeUnitOfWork, events: RecordingBus, clock: ManualClock, alice: StaffUser
    ) -> None:
        chat = ChatService(uow, events, clock, replace(chat_policy(), waiting_per_address=2))
        first = await new_id(chat, "address-1")
        await new_id(chat, "address-1")
        with raises_code(RateLimited, "too_many_waiting"):
            await new_id(chat, "address-1")
        await new_id(chat, "address-2")
        await chat.claim(first, alice)
        await new_id(chat, "address-1")


class TestOpenRelative:
    async def test_the_connection_gets_its_place_in_the_queue_and_what_it_missed(
        self, chat: ChatService, clock: ManualClock
    ) -> None:
        await new_id(chat)
        clock.advance(timedelta(seconds=1))
        started = await chat.start_conversation("sv", None)
        conversation_id = started.conversation.id
        for name in ("a", "b", "c"):
            await chat.post_message(conversation_id, cid(name), name, Sender.RELATIVE)
        subscribed: list[str] = []

        async def subscribe(conversation_id: str) -> None:
            subscribed.append(conversation_id)

        connection = await chat.open_relative(started.token, 1, subscribe)
        assert subscribed == [conversation_id]
        assert connection.status.queue_position == 2
        assert connection.status.estimated_wait_seconds is not None
        assert [m.text for m in connection.missed] == ["b", "c"]

    async def test_an_unknown_token_opens_nothing(self, chat: ChatService) -> None:
        with raises_code(NotAuthenticated, "invalid_token"):
            await chat.open_relative("not-a-token", 0, no_live_delivery)


class TestSequence:
    async def test_seq_counts_every_sender_from_one(self, chat: ChatService, alice: StaffUser) -> None:
        conversation_id = await new_id(chat)
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
        one, two = await new_id(chat), await new_id(chat)
        await chat.post_message(one, cid("a"), "ett", Sender.RELATIVE)
        await chat.post_message(one, cid("b"), "två", Sender.RELATIVE)
        assert (await chat.post_message(two, cid("a"), "ett", Sender.RELATIVE)).seq == 1

    async def test_the_same_client_id_returns_the_stored_message_and_announces_it_as_a_repeat(
        self, chat: ChatService, events: RecordingBus, uow: FakeUnitOfWork
    ) -> None:
        """A process may have died between storing and announcing: the repeat announces the stored
        message again, marked so it is not counted twice (docs/architecture.md, delivery)."""
        conversation_id = await new_id(chat)
        first = await chat.post_message(conversation_id, cid("same-id"), "original text", Sender.RELATIVE)
        again = await chat.post_message(conversation_id, cid("same-id"), "a different text", Sender.RELATIVE)
        assert again == first
        assert stored_client_ids(uow, conversation_id) == [cid("same-id")]
        announced = events.of(MessagePosted)
        assert [(e.message, e.repeat) for e in announced] == [(first, False), (first, True)]

    async def test_the_announced_conversation_carries_the_new_seq(
        self, chat: ChatService, events: RecordingBus
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.post_message(conversation_id, cid("one"), "ett", Sender.RELATIVE)
        await chat.post_message(conversation_id, cid("two"), "två", Sender.RELATIVE)
        assert [e.conversation.last_seq for e in events.of(MessagePosted)] == [1, 2]

    async def test_concurrent_posts_get_unique_gap_free_seqs(
        self, chat: ChatService, alice: StaffUser
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        posts = [
            chat.post_message(conversation_id, cid(f"r-{index}"), f"relative {index}", Sender.RELATIVE)
            for index in range(20)
        ] + [
            chat.post_message(
                conversation_id, cid(f"c-{index}"), f"counsellor {index}", Sender.COUNSELLOR, alice
            )
            for index in range(20)
        ]
        stored = await asyncio.gather(*posts)
        assert sorted(m.seq for m in stored) == list(range(1, 41))

    async def test_a_refused_post_among_concurrent_ones_fails_alone_and_takes_no_seq(
        self, chat: ChatService, alice: StaffUser, bob: StaffUser, uow: FakeUnitOfWork
    ) -> None:
        conversation_id = await new_id(chat)
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
        assert cid("bob-1") not in stored_client_ids(uow, conversation_id)

    async def test_a_client_id_racing_itself_is_stored_once(
        self, chat: ChatService, uow: FakeUnitOfWork
    ) -> None:
        conversation_id = await new_id(chat)
        resends = [
            chat.post_message(conversation_id, cid("resent"), "hello once", Sender.RELATIVE) for _ in range(6)
        ]
        stored = await asyncio.gather(*resends)
        assert {(m.id, m.seq) for m in stored} == {(stored[0].id, 1)}
        assert (await chat.post_message(conversation_id, cid("next"), "then", Sender.RELATIVE)).seq == 2

    @pytest.mark.parametrize(
        ("client_id", "text", "code"),
        [
            (cid("bad"), "x" * 4001, "text_too_long"),
            (cid("bad"), "  \n ", "empty_text"),
            ("not-a-uuid", "hello", "invalid_client_id"),
        ],
    )
    async def test_a_bad_message_stores_nothing(
        self, chat: ChatService, uow: FakeUnitOfWork, client_id: str, text: str, code: str
    ) -> None:
        conversation_id = await new_id(chat)
        with raises_code(InvalidInput, code):
            await chat.post_message(conversation_id, client_id, text, Sender.RELATIVE)
        assert stored_client_ids(uow, conversation_id) == []

    async def test_a_closed_conversation_takes_no_message_and_no_seq(
        self, chat: ChatService, alice: StaffUser, uow: FakeUnitOfWork
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.post_message(conversation_id, cid("before"), "före", Sender.RELATIVE)
        await chat.claim(conversation_id, alice)
        await chat.close(conversation_id, alice, "supported")
        with raises_code(Conflict, "conversation_closed"):
            await chat.post_message(conversation_id, cid("after"), "efter", Sender.RELATIVE)
        assert await chat.post_bot_message(conversation_id, "bot") is None
        assert stored(uow, conversation_id).last_seq == 1

    async def test_a_message_to_an_unknown_conversation_is_not_found(self, chat: ChatService) -> None:
        with raises_code(NotFound, "not_found"):
            await chat.post_message("no-such-id", cid("x"), "hello", Sender.RELATIVE)


class TestClaim:
    async def test_concurrent_claims_have_exactly_one_winner(
        self, chat: ChatService, uow: FakeUnitOfWork
    ) -> None:
        counsellors = [await uow.seed_staff(f"counsellor{index}") for index in range(6)]
        conversation_id = await new_id(chat)
        results = await asyncio.gather(
            *(chat.claim(conversation_id, counsellor) for counsellor in counsellors), return_exceptions=True
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1
        assert all(isinstance(r, Conflict) and r.code == "already_claimed" for r in losers), losers
        assert stored(uow, conversation_id).counsellor_id == winners[0].counsellor_id

    async def test_the_holder_claiming_again_changes_and_announces_nothing(
        self, chat: ChatService, alice: StaffUser, events: RecordingBus
    ) -> None:
        conversation_id = await new_id(chat)
        first = await chat.claim(conversation_id, alice)
        assert await chat.claim(conversation_id, alice) == first
        assert len(events.of(ConversationChanged)) == 1

    async def test_capacity_stops_a_counsellor_from_holding_more(
        self, chat: ChatService, alice: StaffUser
    ) -> None:
        ids = [await new_id(chat) for _ in range(4)]
        for conversation_id in ids[:3]:
            await chat.claim(conversation_id, alice)
        with raises_code(Conflict, "capacity_reached"):
            await chat.claim(ids[3], alice)
        assert [c.id for c in await chat.queue()] == [ids[3]]

    async def test_close_then_claim_again_is_refused(
        self, chat: ChatService, alice: StaffUser, events: RecordingBus
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        closed = await chat.close(conversation_id, alice, "supported")
        assert closed.state is State.CLOSED and closed.outcome == "supported"
        assert [e.conversation.state for e in events.of(ConversationChanged)] == [State.ACTIVE, State.CLOSED]
        with raises_code(Conflict, "conversation_closed"):
            await chat.claim(conversation_id, alice)

    async def test_an_unknown_outcome_changes_nothing(self, chat: ChatService, alice: StaffUser) -> None:
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        with raises_code(InvalidInput, "unknown_outcome"):
            await chat.close(conversation_id, alice, "vanished")
        assert [c.id for c, _unread in await chat.held_by(alice.id)] == [conversation_id]

    async def test_claims_and_closes_are_audited(
        self, chat: ChatService, alice: StaffUser, uow: FakeUnitOfWork
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        await chat.close(conversation_id, alice, "supported")
        assert [(row.actor_id, row.action, row.object_id) for row in uow.tables.audit] == [
            (alice.id, "conversation.claim", conversation_id),
            (alice.id, "conversation.close", conversation_id),
        ]

    async def test_a_role_that_never_reads_conversations_is_told_there_is_none(
        self, chat: ChatService, uow: FakeUnitOfWork
    ) -> None:
        social_worker = await uow.seed_staff("sam", Role.SOCIAL_SERVICES)
        conversation_id = await new_id(chat)
        with raises_code(NotFound, "not_found"):
            await chat.claim(conversation_id, social_worker)


class TestTransfer:
    async def test_the_holder_hands_over_and_both_are_told(
        self, chat: ChatService, alice: StaffUser, bob: StaffUser, events: RecordingBus
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        moved = await chat.transfer(conversation_id, alice, bob.id)
        assert moved.counsellor_id == bob.id
        last = events.of(ConversationChanged)[-1]
        assert (last.conversation.counsellor_id, last.previous_counsellor_id) == (bob.id, alice.id)
        assert [c.id for c, _ in await chat.held_by(bob.id)] == [conversation_id]
        assert await chat.held_by(alice.id) == []

    async def test_a_disabled_or_unknown_colleague_is_not_found(
        self, chat: ChatService, alice: StaffUser, bob: StaffUser, uow: FakeUnitOfWork
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        async with uow.write() as repos:
            await repos.staff.set_active("bob", False)
        for target in (bob.id, 999):
            with raises_code(NotFound, "not_found"):
                await chat.transfer(conversation_id, alice, target)

    async def test_a_colleague_at_capacity_takes_nothing_more_and_nothing_changes(
        self, chat: ChatService, alice: StaffUser, bob: StaffUser, uow: FakeUnitOfWork
    ) -> None:
        for _ in range(3):
            await chat.claim(await new_id(chat), bob)
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        commits = uow.commits
        with raises_code(Conflict, "capacity_reached"):
            await chat.transfer(conversation_id, alice, bob.id)
        assert uow.commits == commits
        assert stored(uow, conversation_id).counsellor_id == alice.id

    async def test_only_the_holder_transfers(
        self, chat: ChatService, alice: StaffUser, bob: StaffUser
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        with raises_code(Forbidden, "not_holder"):
            await chat.transfer(conversation_id, bob, alice.id)


class TestQueue:
    async def test_raised_priority_first_then_the_longest_wait(
        self, chat: ChatService, clock: ManualClock
    ) -> None:
        ids = []
        for _ in range(3):
            ids.append(await new_id(chat))
            clock.advance(timedelta(seconds=1))
        await chat.raise_priority(ids[2], "danger word")
        assert [c.id for c in await chat.queue()] == [ids[2], ids[0], ids[1]]

    async def test_the_same_instant_is_served_in_id_order(self, chat: ChatService) -> None:
        ids = [await new_id(chat) for _ in range(5)]
        assert [c.id for c in await chat.queue()] == sorted(ids)

    async def test_priority_is_raised_once(self, chat: ChatService, events: RecordingBus) -> None:
        conversation_id = await new_id(chat)
        raised = await chat.raise_priority(conversation_id, "danger word")
        assert raised is not None and raised.priority == DANGER_PRIORITY
        assert raised.priority_reason == "danger word"
        assert await chat.raise_priority(conversation_id, "again") is None
        assert len(events.of(ConversationChanged)) == 1

    async def test_one_address_jumps_the_queue_with_one_conversation_at_a_time(
        self, chat: ChatService, clock: ManualClock
    ) -> None:
        other = await new_id(chat)
        clock.advance(timedelta(seconds=1))
        first = await new_id(chat, "flooder")
        second = await new_id(chat, "flooder")
        assert (await chat.raise_priority(first, "danger")) is not None
        flagged = await chat.raise_priority(second, "danger")
        assert flagged is not None
        assert (flagged.priority, flagged.priority_reason) == (0, "danger")
        assert [c.id for c in await chat.queue()] == [first, other, second]

    async def test_claim_due_waiting_updates_claims_each_once_with_its_place(
        self, chat: ChatService, clock: ManualClock
    ) -> None:
        first, second = await new_id(chat), await new_id(chat)
        assert await chat.claim_due_waiting_updates(timedelta(minutes=1)) == []
        clock.advance(timedelta(minutes=2))
        due = await chat.claim_due_waiting_updates(timedelta(minutes=1))
        served = {conversation_id: place for place, conversation_id in enumerate(sorted([first, second]), 1)}
        assert {c.id: place for c, place in due} == served
        assert await chat.claim_due_waiting_updates(timedelta(minutes=1)) == []


class TestNotesAndReading:
    async def test_a_note_is_announced_read_back_with_its_author_and_audited(
        self, chat: ChatService, alice: StaffUser, events: RecordingBus, uow: FakeUnitOfWork
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        note = await chat.add_note(conversation_id, alice, "  ringer tillbaka  ")
        assert (note.author, note.text) == ("Alice", "ringer tillbaka")
        assert [e.note for e in events.of(NoteAdded)] == [note]
        assert await chat.notes(conversation_id, alice) == [note]
        assert [row.action for row in uow.tables.audit][-2:] == ["note.add", "note.read"]

    async def test_the_read_mark_only_rises_and_stops_at_the_last_message(
        self, chat: ChatService, alice: StaffUser, events: RecordingBus, uow: FakeUnitOfWork
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        for name in ("a", "b", "c"):
            await chat.post_message(conversation_id, cid(name), name, Sender.RELATIVE)
        assert await chat.held_by(alice.id) == [(stored(uow, conversation_id), 3)]
        assert await chat.mark_read(conversation_id, alice, 2) == 2
        assert await chat.mark_read(conversation_id, alice, 1) == 2
        assert await chat.mark_read(conversation_id, alice, 99) == 3
        assert [e.seq for e in events.of(ReadMarked)] == [2, 2, 3]
        assert [unread for _c, unread in await chat.held_by(alice.id)] == [0]

    async def test_reading_someone_elses_conversation_is_refused_for_a_counsellor(
        self, chat: ChatService, alice: StaffUser, bob: StaffUser
    ) -> None:
        conversation_id = await new_id(chat)
        await chat.claim(conversation_id, alice)
        with pytest.raises(Forbidden):
            await chat.staff_history(conversation_id, 0, bob)


class TestLeaving:
    async def test_leaving_closes_and_ends_every_way_back_in(
        self, chat: ChatService, alice: StaffUser, events: RecordingBus
    ) -> None:
        started = await chat.start_conversation("sv", None)
        conversation_id = started.conversation.id
        await chat.claim(conversation_id, alice)
        await chat.leave_with_token(started.token)
        changed = events.of(ConversationChanged)[-1]
        assert (changed.conversation.state, changed.conversation.outcome) == (
            State.CLOSED,
            "left_by_relative",
        )
        assert changed.previous_counsellor_id == alice.id
        assert events.of(RelativeAccessEnded) == [RelativeAccessEnded(conversation_id)]
        with raises_code(NotAuthenticated, "invalid_token"):
            await chat.authenticate_relative(started.token)
        with raises_code(NotFound, "not_found"):
            await chat.resume(started.resume_code)

    async def test_leaving_a_closed_conversation_only_ends_access(
        self, chat: ChatService, alice: StaffUser, events: RecordingBus
    ) -> None:
        started = await chat.start_conversation("sv", None)
        await chat.claim(started.conversation.id, alice)
        await chat.close(started.conversation.id, alice, "supported")
        changes = len(events.of(ConversationChanged))
        await chat.leave(started.conversation.id)
        assert len(events.of(ConversationChanged)) == changes
        assert events.of(RelativeAccessEnded) == [RelativeAccessEnded(started.conversation.id)]


class TestPresence:
    async def test_a_waiting_conversation_whose_relative_stays_gone_is_abandoned(
        self, chat: ChatService, clock: ManualClock, uow: FakeUnitOfWork
    ) -> None:
        gone, present = await new_id(chat), await new_id(chat)
        await chat.record_presence([present], {})
        clock.advance(chat.policy.abandon_after - timedelta(seconds=1))
        assert await chat.sweep_presence([present]) == 0
        clock.advance(timedelta(seconds=1))
        assert await chat.sweep_presence([present]) == 1
        assert [c.id for c in await chat.queue()] == [present]
        closed = stored(uow, gone)
        assert (closed.state, closed.outcome) == (State.CLOSED, "abandoned")

    async def test_a_relative_who_comes_back_is_not_abandoned(
        self, chat: ChatService, clock: ManualClock
    ) -> None:
        conversation_id = await new_id(chat)
        clock.advance(chat.policy.abandon_after)
        await chat.record_presence([conversation_id], {})
        assert await chat.sweep_presence([]) == 0
        await chat.record_presence([], {conversation_id: clock()})
        clock.advance(chat.policy.abandon_after)
        assert await chat.sweep_presence([]) == 1

    async def test_a_relative_gone_for_away_after_is_announced_away_once_and_back_when_present(
        self, chat: ChatService, clock: ManualClock, events: RecordingBus, uow: FakeUnitOfWork
    ) -> None:
        gone = await new_id(chat)
        clock.advance(timedelta(seconds=1))
        present = await new_id(chat)
        await chat.sweep_presence([present])
        clock.advance(chat.policy.away_after - timedelta(seconds=2))
        await chat.sweep_presence([present])
        assert events.of(AwayChanged) == []
        assert not chat.is_away(stored(uow, gone))
        clock.advance(timedelta(seconds=1))
        await chat.sweep_presence([present])
        await chat.sweep_presence([present])
        assert events.of(AwayChanged) == [AwayChanged(frozenset({gone}))]
        assert chat.is_away(stored(uow, gone)) and not chat.is_away(stored(uow, present))
        await chat.sweep_presence([gone, present])
        assert events.of(AwayChanged)[1:] == [AwayChanged(frozenset())]
        assert [c.id for c in await chat.queue()] == [gone, present]

    async def test_a_claimed_conversation_is_no_longer_away(
        self, chat: ChatService, clock: ManualClock, events: RecordingBus, alice: StaffUser
    ) -> None:
        conversation_id = await new_id(chat)
        clock.advance(chat.policy.away_after)
        await chat.sweep_presence([])
        claimed = await chat.claim(conversation_id, alice)
        await chat.sweep_presence([])
        assert not chat.is_away(claimed)
        assert events.of(AwayChanged) == [AwayChanged(frozenset({conversation_id})), AwayChanged(frozenset())]
