"""The supervision service on the in-memory fakes: the overview's facts and alerts, reading for a
reason (audited with the reason), joining as a colleague (the relative is told; the colleague then
writes and receives as the holder does), leaving, and reassigning."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from server.domain.conversations import Sender, State
from server.domain.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from server.domain.staff import Role, StaffUser
from server.domain.supervision import AlertKind, AlertRules
from server.services.chat import ChatService
from server.services.events import ConversationChanged
from server.services.supervision import JOINED, LEFT, SupervisionPolicy, SupervisionService
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.support.clock import ManualClock
from tests.support.event_bus import RecordingBus

WAIT_ALERT = timedelta(minutes=10)
NOTICES = {"sv": {JOINED: "En kollega har anslutit.", LEFT: "Kollegan har gått."}}
REASONS = ("quality", "danger")


@pytest.fixture
def supervision(
    uow: FakeUnitOfWork, events: RecordingBus, clock: ManualClock, chat: ChatService
) -> SupervisionService:
    policy = SupervisionPolicy(
        AlertRules(WAIT_ALERT, timedelta(hours=1)), timedelta(minutes=3), REASONS, NOTICES
    )
    return SupervisionService(uow, events, clock, chat, policy)


@pytest.fixture
async def sara(uow: FakeUnitOfWork) -> StaffUser:
    return await uow.seed_staff("sara", Role.SUPERVISOR)


def client_id() -> str:
    return str(uuid.uuid4())


async def active_conversation(chat: ChatService, holder: StaffUser) -> str:
    conversation_id = (await chat.start_conversation("sv", None)).conversation.id
    await chat.claim(conversation_id, holder)
    return conversation_id


async def test_the_overview_lists_waiting_and_active_with_counts_and_no_text(
    chat: ChatService, supervision: SupervisionService, alice: StaffUser, sara: StaffUser, clock: ManualClock
) -> None:
    waiting = (await chat.start_conversation("ar", "leaving_myself")).conversation.id
    clock.advance(timedelta(minutes=2))
    active = await active_conversation(chat, alice)
    await chat.post_message(active, client_id(), "hej", Sender.RELATIVE)
    overview = await supervision.overview(sara)
    by_id = {live.conversation.id: live for live in overview.conversations}
    assert set(by_id) == {waiting, active}
    assert by_id[active].conversation.counsellor_id == alice.id
    assert by_id[active].last_message_at == clock()
    assert by_id[waiting].conversation.language == "ar"
    counts = overview.counts
    assert (counts.waiting, counts.active, counts.longest_wait_seconds) == (1, 1, 120)
    assert {c.user.id: c.load for c in overview.counsellors}[alice.id] == 1
    assert all(c.capacity == chat.policy.capacity for c in overview.counsellors)


async def test_a_counsellor_may_not_see_the_overview(
    supervision: SupervisionService, alice: StaffUser
) -> None:
    with pytest.raises(Forbidden):
        await supervision.overview(alice)


async def test_a_long_wait_and_a_danger_word_are_alerts(
    chat: ChatService, supervision: SupervisionService, sara: StaffUser, clock: ManualClock
) -> None:
    waiting = (await chat.start_conversation("sv", None)).conversation.id
    clock.advance(WAIT_ALERT - timedelta(seconds=1))
    assert (await supervision.overview(sara)).alerts == []
    clock.advance(timedelta(seconds=1))
    (alert,) = (await supervision.overview(sara)).alerts
    assert (alert.kind, alert.conversation_id) == (AlertKind.LONG_WAIT, waiting)
    await chat.raise_priority(waiting, "weapon")
    kinds = {alert.kind for alert in (await supervision.overview(sara)).alerts}
    assert kinds == {AlertKind.LONG_WAIT, AlertKind.DANGER_WORD}


async def test_reading_needs_a_configured_reason_and_is_audited_with_it(
    chat: ChatService,
    supervision: SupervisionService,
    uow: FakeUnitOfWork,
    alice: StaffUser,
    sara: StaffUser,
) -> None:
    conversation_id = await active_conversation(chat, alice)
    await chat.post_message(conversation_id, client_id(), "jag är orolig", Sender.RELATIVE)
    with pytest.raises(InvalidInput):
        await supervision.read(conversation_id, sara, "curious")
    _conversation, messages, _notes = await supervision.read(conversation_id, sara, "quality")
    assert messages[-1].text == "jag är orolig"
    audit = [(row.actor_id, row.action, row.detail) for row in uow.tables.audit]
    assert audit[-1] == (sara.id, "supervision.read", "quality")
    with pytest.raises(NotFound):
        await supervision.read("no-such-id", sara, "quality")


async def test_a_counsellor_may_not_read_someone_elses_conversation_this_way(
    chat: ChatService, supervision: SupervisionService, alice: StaffUser, bob: StaffUser
) -> None:
    conversation_id = await active_conversation(chat, alice)
    with pytest.raises(Forbidden):
        await supervision.read(conversation_id, bob, "quality")


async def test_a_joined_colleague_is_announced_writes_and_sees_it_among_their_own(
    chat: ChatService,
    supervision: SupervisionService,
    events: RecordingBus,
    alice: StaffUser,
    sara: StaffUser,
) -> None:
    conversation_id = await active_conversation(chat, alice)
    joined = await supervision.join(conversation_id, sara)
    assert joined.colleague_id == sara.id
    assert joined.staff_ids() == {alice.id, sara.id}
    history = await chat.history(conversation_id, 0)
    assert (history[-1].sender, history[-1].text) == (Sender.SYSTEM, NOTICES["sv"][JOINED])
    assert [c.id for c, _unread in await chat.held_by(sara.id)] == [conversation_id]
    assert events.of(ConversationChanged)[-1].conversation.colleague_id == sara.id
    sent = await chat.post_message(
        conversation_id, client_id(), "Hej, jag läser med", Sender.COUNSELLOR, sara
    )
    assert sent.seq == history[-1].seq + 1
    again = await supervision.join(conversation_id, sara)
    assert again.colleague_id == sara.id
    assert len(await chat.history(conversation_id, 0)) == sent.seq


async def test_one_colleague_at_a_time_and_never_the_holder(
    chat: ChatService, supervision: SupervisionService, uow: FakeUnitOfWork, alice: StaffUser, sara: StaffUser
) -> None:
    conversation_id = await active_conversation(chat, alice)
    other = await uow.seed_staff("olle", Role.SUPERVISOR)
    await supervision.join(conversation_id, sara)
    with pytest.raises(Conflict):
        await supervision.join(conversation_id, other)
    waiting = (await chat.start_conversation("sv", None)).conversation.id
    with pytest.raises(InvalidTransition):
        await supervision.join(waiting, other)
    own = await active_conversation(chat, other)
    with pytest.raises(InvalidInput):
        await supervision.join(own, other)


async def test_leaving_tells_the_relative_and_ends_the_colleagues_part(
    chat: ChatService, supervision: SupervisionService, alice: StaffUser, sara: StaffUser
) -> None:
    conversation_id = await active_conversation(chat, alice)
    await supervision.join(conversation_id, sara)
    left = await supervision.leave(conversation_id, sara)
    assert left.colleague_id is None
    assert (await chat.history(conversation_id, 0))[-1].text == NOTICES["sv"][LEFT]
    with pytest.raises(Forbidden):
        await chat.post_message(conversation_id, client_id(), "still here?", Sender.COUNSELLOR, sara)
    with pytest.raises(InvalidTransition):
        await supervision.leave(conversation_id, sara)


async def test_reassigning_hands_the_conversation_over_and_tells_both(
    chat: ChatService,
    supervision: SupervisionService,
    events: RecordingBus,
    alice: StaffUser,
    bob: StaffUser,
    sara: StaffUser,
) -> None:
    conversation_id = await active_conversation(chat, alice)
    moved = await supervision.reassign(conversation_id, sara, bob.id)
    assert (moved.state, moved.counsellor_id) == (State.ACTIVE, bob.id)
    changed = events.of(ConversationChanged)[-1]
    assert (changed.conversation.counsellor_id, changed.previous_counsellor_id) == (bob.id, alice.id)
    with pytest.raises(Forbidden):
        await supervision.reassign(conversation_id, alice, bob.id)
    with pytest.raises(NotFound):
        await supervision.reassign(conversation_id, sara, 9999)
