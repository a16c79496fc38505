"""The fakes keep the transaction rules of the real unit of work that the services count on."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from server.domain import escalation as rules
from server.domain.conversations import Conversation, Sender, State
from server.domain.errors import Conflict
from server.domain.escalation import State as EscalationState
from server.services.ports.chat import NewConversation
from tests.fakes.tables import UniqueViolation
from tests.fakes.unit_of_work import FakeUnitOfWork, ReadOnlyViolation
from tests.integration.wiring import T0
from tests.support.escalation import draft


def waiting(conversation_id: str) -> Conversation:
    return Conversation(conversation_id, "sv", "worried_about_someone", State.WAITING, T0)


async def started(uow: FakeUnitOfWork, conversation_id: str) -> Conversation:
    conversation = waiting(conversation_id)
    await uow.start_conversation(
        NewConversation(conversation, f"resume-{conversation_id}", f"token-{conversation_id}", T0)
    )
    return conversation


async def test_a_write_that_raises_leaves_nothing_behind() -> None:
    uow = FakeUnitOfWork()
    conversation = await started(uow, "c1")
    with pytest.raises(Conflict):
        async with uow.write() as repos:
            await repos.chat.append_message("c1", "m1", Sender.RELATIVE, "hej", T0)
            await repos.chat.save_state(conversation, replace(conversation, state=State.ACTIVE))
            raise Conflict("a rule said no")
    async with uow.read() as repos:
        assert await repos.chat.messages_after("c1", 0) == []
        assert await repos.chat.get("c1") == conversation


async def test_a_reader_sees_only_what_was_committed() -> None:
    uow = FakeUnitOfWork()
    await started(uow, "c1")
    async with uow.write() as writer:
        await writer.chat.append_message("c1", "m1", Sender.RELATIVE, "hej", T0)
        async with uow.read() as reader:
            assert await reader.chat.messages_after("c1", 0) == []
    async with uow.read() as reader:
        assert [m.seq for m in await reader.chat.messages_after("c1", 0)] == [1]


async def test_a_read_transaction_may_not_write() -> None:
    uow = FakeUnitOfWork()
    await started(uow, "c1")
    with pytest.raises(ReadOnlyViolation):
        async with uow.read() as repos:
            await repos.chat.mark_gone({"c1": T0})


async def test_writers_take_turns() -> None:
    uow = FakeUnitOfWork()
    await started(uow, "c1")
    order: list[str] = []

    async def write(name: str) -> None:
        async with uow.write() as repos:
            order.append(f"{name} begins")
            await asyncio.sleep(0)
            await repos.chat.append_message("c1", name, Sender.RELATIVE, name, T0)
            order.append(f"{name} commits")

    await asyncio.gather(write("a"), write("b"))
    assert order == ["a begins", "a commits", "b begins", "b commits"]
    assert uow.tables.conversations["c1"].conversation.last_seq == 2


async def test_a_state_change_from_a_stale_before_is_refused() -> None:
    uow = FakeUnitOfWork()
    conversation = await started(uow, "c1")
    async with uow.write() as repos:
        assert await repos.chat.save_state(
            conversation, replace(conversation, state=State.ACTIVE, counsellor_id=1)
        )
        assert not await repos.chat.save_state(
            conversation, replace(conversation, state=State.ACTIVE, counsellor_id=2)
        )
        assert (await repos.chat.get("c1")) == replace(conversation, state=State.ACTIVE, counsellor_id=1)


async def test_a_client_id_is_stored_once_per_conversation_and_seqs_stay_gap_free() -> None:
    uow = FakeUnitOfWork()
    await started(uow, "c1")
    await started(uow, "c2")
    async with uow.write() as repos:
        assert (await repos.chat.append_message("c1", "m", Sender.RELATIVE, "one", T0)) is not None
        assert (await repos.chat.append_message("c1", "m", Sender.RELATIVE, "again", T0)) is None
        second = await repos.chat.append_message("c1", "n", Sender.RELATIVE, "two", T0)
        other = await repos.chat.append_message("c2", "m", Sender.RELATIVE, "one", T0)
    assert second is not None and second.seq == 2
    assert other is not None and other.seq == 1


async def test_unique_keys_are_kept() -> None:
    uow = FakeUnitOfWork()
    await started(uow, "c1")
    with pytest.raises(UniqueViolation):
        await started(uow, "c1")
    await uow.seed_staff("alice")
    with pytest.raises(UniqueViolation):
        await uow.seed_staff("alice")


async def test_a_token_opens_its_conversation_until_it_expires() -> None:
    uow = FakeUnitOfWork()
    conversation = waiting("c1")
    expires = T0.replace(hour=10)
    await uow.start_conversation(NewConversation(conversation, "resume", "token", expires))
    assert (await uow.relative_view("token", expires.replace(minute=59, hour=9), 0)) is not None
    assert await uow.relative_view("token", expires, 0) is None


async def test_an_escalation_change_from_a_stale_before_is_refused_and_notifications_go_once() -> None:
    uow = FakeUnitOfWork()
    await started(uow, "c1")
    drafter = await uow.seed_staff("alice")
    created = rules.new_escalation("e1", "c1", "sv", drafter.id, draft(), T0)
    async with uow.write() as repos:
        await repos.escalations.insert(created, "resume-c1")
        later = replace(created, updated_at=T0.replace(hour=10))
        assert await repos.escalations.save(created, later)
        assert not await repos.escalations.save(replace(created, state=EscalationState.SENT), later)
        for _ in range(2):
            await repos.escalations.add_notification("e1", "spanga-tensta", "sms", "sent", T0)
        assert len(await repos.escalations.claim_pending_notifications(T0)) == 1
        assert await repos.escalations.claim_pending_notifications(T0) == []
        assert (await repos.escalations.get("e1")) == later
