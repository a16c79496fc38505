"""EscalationService on the in-memory fakes: the flow, who may do what, audit rows, notifications
queued once and sent after the commit, missed deadlines claimed once, the relative's status and
retention (tests/integration/test_escalation_service.py runs the same on SQLite)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from server.domain.conversations import Sender
from server.domain.errors import Conflict, Forbidden, NotFound
from server.domain.escalation import EscalationConfig, Kind, State
from server.domain.staff import Role, StaffUser
from server.services.chat import ChatService
from server.services.escalation import EscalationPolicy, EscalationService
from server.services.events import EventBus
from server.services.ports.sms import SmsOutcome
from server.services.retention import RetentionService
from tests.fakes.outbound import Announced, FakeSms, FakeWebhooks
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.support.clock import ManualClock
from tests.support.escalation import CONFIG, RETENTION, SHIPPED, SUMMARY, draft, with_webhook


@dataclass
class World:
    service: EscalationService
    chat: ChatService
    uow: FakeUnitOfWork
    clock: ManualClock
    sms: FakeSms
    webhooks: FakeWebhooks
    notifier: Announced
    alice: StaffUser
    carl: StaffUser
    sam: StaffUser
    sara: StaffUser
    rita: StaffUser
    admin: StaffUser

    def escalation_service(self, config: EscalationConfig = CONFIG) -> EscalationService:
        """Another service on the same data, as a second process would be."""
        events = EventBus()
        events.subscribe(self.notifier.on_event)
        return EscalationService(
            self.uow,
            self.chat,
            events,
            self.clock,
            EscalationPolicy(
                config=config, retention=RETENTION, console_url="http://kinline.example/console/"
            ),
            sms=self.sms,
            webhooks=self.webhooks,
        )

    def audit(self, escalation_id: str) -> list[tuple[int | None, str]]:
        return [
            (row.actor_id, row.action)
            for row in self.uow.tables.audit
            if row.object_type == "escalation" and row.object_id == escalation_id
        ]

    def notification_states(self, escalation_id: str) -> dict[str, str]:
        return {n.channel: n.state for n in self.uow.tables.notifications if n.escalation_id == escalation_id}


@pytest.fixture
async def world(chat: ChatService, uow: FakeUnitOfWork, clock: ManualClock) -> AsyncIterator[World]:
    world = World(
        None,  # type: ignore[arg-type]
        chat,
        uow,
        clock,
        FakeSms(),
        FakeWebhooks(),
        Announced(),
        alice=await uow.seed_staff("alice", Role.COUNSELLOR),
        carl=await uow.seed_staff("carl", Role.COUNSELLOR),
        sam=await uow.seed_staff("sam", Role.SUPERVISOR),
        sara=await uow.seed_staff("sara", Role.SOCIAL_SERVICES, "spanga-tensta"),
        rita=await uow.seed_staff("rita", Role.SOCIAL_SERVICES, "rinkeby-kista"),
        admin=await uow.seed_staff("root", Role.ADMIN),
    )
    world.service = world.escalation_service()
    yield world
    await world.service.close()


async def held_conversation(world: World, language: str = "ar", holder: StaffUser | None = None) -> str:
    started = await world.chat.start_conversation(language, None)
    await world.chat.claim(started.conversation.id, holder or world.alice)
    return started.conversation.id


async def started_with_code(world: World) -> tuple[str, str]:
    started = await world.chat.start_conversation("ar", None)
    await world.chat.claim(started.conversation.id, world.alice)
    return started.conversation.id, started.resume_code


class TestFlow:
    async def test_drafted_approved_acknowledged_closed_with_audit_and_a_notice(self, world: World) -> None:
        conversation_id, resume_code = await started_with_code(world)
        escalation = await world.service.draft(world.alice, conversation_id, draft())
        assert escalation.state is State.AWAITING_APPROVAL
        assert await world.service.relative_status(resume_code) == []
        assert world.sms.sent == [] and world.webhooks.posted == []

        sent = await world.service.approve(world.sam, escalation.id)
        await world.service.close()
        assert sent.state is State.SENT and sent.deadline == world.clock.now + timedelta(hours=4)
        assert world.sms.sent == [("+46701740605", CONFIG.sms_new)]
        ((url, payload),) = world.webhooks.posted
        assert url == "https://spanga-tensta.example/hook"
        assert payload == {
            "event": "escalation.sent",
            "escalation_id": escalation.id,
            "route": "spanga-tensta",
            "kind": "child_concern",
            "state": "sent",
            "deadline": sent.deadline.isoformat() if sent.deadline else None,
            "console_url": "http://kinline.example/console/",
        }
        notices = [m for m in await world.chat.history(conversation_id, 0) if m.sender is Sender.SYSTEM]
        assert [m.text for m in notices] == [CONFIG.kinds[Kind.CHILD_CONCERN].texts["ar"].relative_notice]
        assert [s.value for s in await world.service.relative_status(resume_code)] == ["sent"]

        assert [e.id for e in await world.service.visible_to(world.sara)] == [escalation.id]
        assert (await world.service.read(world.sara, escalation.id)).draft.summary == SUMMARY
        await world.service.acknowledge(world.sara, escalation.id)
        await world.service.record_outcome(world.sara, escalation.id, State.RECEIVED, None)
        assert [s.value for s in await world.service.relative_status(resume_code)] == ["received"]
        await world.service.record_outcome(world.sara, escalation.id, State.CLOSED_WITH_FEEDBACK, "Klart")
        assert [s.value for s in await world.service.relative_status(resume_code)] == ["closed"]

        assert world.audit(escalation.id) == [
            (world.alice.id, "escalation.create"),
            (world.sam.id, "escalation.approve"),
            (None, "escalation.notified"),
            (None, "escalation.notified"),
            (None, "escalation.relative_status"),
            (world.sara.id, "escalation.list"),
            (world.sara.id, "escalation.read"),
            (world.sara.id, "escalation.acknowledge"),
            (world.sara.id, "escalation.outcome"),
            (None, "escalation.relative_status"),
            (world.sara.id, "escalation.outcome"),
            (None, "escalation.relative_status"),
        ]
        assert world.notifier.changed_ids.count(escalation.id) == 5

    async def test_imminent_danger_is_delivered_and_alerted_at_once(self, world: World) -> None:
        conversation_id = await held_conversation(world, "sv")
        escalation = await world.service.draft(world.alice, conversation_id, draft(Kind.IMMINENT_DANGER))
        await world.service.close()
        assert escalation.state is State.SENT
        assert world.notifier.alerts == [(escalation.id, "imminent_danger")]
        assert len(world.sms.sent) == 1
        notices = [m.text for m in await world.chat.history(conversation_id, 0) if m.sender is Sender.SYSTEM]
        assert notices == [CONFIG.kinds[Kind.IMMINENT_DANGER].texts["sv"].relative_notice]

    async def test_sent_back_and_resubmitted(self, world: World) -> None:
        conversation_id = await held_conversation(world)
        escalation = await world.service.draft(world.alice, conversation_id, draft())
        back = await world.service.send_back(world.sam, escalation.id, "Vem är i fara?")
        assert back.state is State.SENT_BACK
        assert (await world.service.read(world.alice, escalation.id)).sent_back_reason == "Vem är i fara?"
        again = await world.service.resubmit(world.alice, escalation.id, draft(summary="Tydligare"))
        assert again.state is State.AWAITING_APPROVAL and again.draft.summary == "Tydligare"

    async def test_a_closed_conversation_cannot_take_the_notice_but_the_escalation_is_sent(
        self, world: World
    ) -> None:
        conversation_id = await held_conversation(world)
        escalation = await world.service.draft(world.alice, conversation_id, draft())
        await world.chat.close(conversation_id, world.alice, "referred")
        assert (await world.service.approve(world.sam, escalation.id)).state is State.SENT

    async def test_two_approvals_at_once_send_it_once(self, world: World) -> None:
        conversation_id = await held_conversation(world)
        escalation = await world.service.draft(world.alice, conversation_id, draft())
        other = world.escalation_service()
        results = await asyncio.gather(
            world.service.approve(world.sam, escalation.id),
            other.approve(world.sam, escalation.id),
            return_exceptions=True,
        )
        await world.service.close()
        await other.close()
        assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
        assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
        assert len(world.sms.sent) == 1


class TestWhoMay:
    async def test_only_the_holder_drafts(self, world: World) -> None:
        conversation_id = await held_conversation(world)
        with pytest.raises(Forbidden):
            await world.service.draft(world.carl, conversation_id, draft())
        with pytest.raises(NotFound):
            await world.service.draft(world.sara, conversation_id, draft())
        with pytest.raises(NotFound):
            await world.service.draft(world.alice, "no-such-conversation", draft())
        assert world.uow.tables.escalations == {}

    async def test_the_drafter_cannot_approve_and_other_routes_do_not_see_it(self, world: World) -> None:
        conversation_id = await held_conversation(world, holder=world.sam)
        escalation = await world.service.draft(world.sam, conversation_id, draft())
        with pytest.raises(Forbidden):
            await world.service.approve(world.sam, escalation.id)
        for outsider in (world.sara, world.carl):
            with pytest.raises(NotFound):
                await world.service.read(outsider, escalation.id)
            assert await world.service.visible_to(outsider) == []

    async def test_social_services_see_their_route_only_and_the_transcript_only_with_consent(
        self, world: World
    ) -> None:
        conversation_id = await held_conversation(world)
        plain = await world.service.draft(world.alice, conversation_id, draft(Kind.IMMINENT_DANGER))
        shared = await world.service.draft(
            world.alice, conversation_id, draft(Kind.IMMINENT_DANGER, consent=True, share_transcript=True)
        )
        with pytest.raises(NotFound):
            await world.service.acknowledge(world.rita, plain.id)
        with pytest.raises(Forbidden):
            await world.service.transcript(world.sara, plain.id)
        transcript = await world.service.transcript(world.sara, shared.id)
        assert [m.sender for m in transcript][-2:] == [Sender.SYSTEM, Sender.SYSTEM]
        assert {e.id for e in await world.service.visible_to(world.sara)} == {plain.id, shared.id}
        assert await world.service.visible_to(world.rita) == []
        with pytest.raises(Forbidden):
            await world.service.visible_to(world.admin)
        with pytest.raises(Forbidden):
            await world.service.audit_trail(world.alice, None)

    async def test_a_refused_change_writes_no_audit_row(self, world: World) -> None:
        conversation_id = await held_conversation(world, holder=world.sam)
        escalation = await world.service.draft(world.sam, conversation_id, draft())
        with pytest.raises(Forbidden):
            await world.service.approve(world.sam, escalation.id)
        assert world.audit(escalation.id) == [(world.sam.id, "escalation.create")]


class TestDeadlines:
    async def test_a_missed_deadline_tells_the_backup_route_once_across_two_processes(
        self, world: World
    ) -> None:
        short = with_webhook(SHIPPED, deadline=timedelta(seconds=90))
        first, second = world.escalation_service(short), world.escalation_service(short)
        conversation_id = await held_conversation(world)
        escalation = await first.draft(world.alice, conversation_id, draft(Kind.IMMINENT_DANGER))
        await first.close()
        assert await first.handle_missed_deadlines() == []
        world.clock.advance(timedelta(seconds=91))

        results = await asyncio.gather(*(s.handle_missed_deadlines() for s in (first, second, first, second)))
        missed = [e for found in results for e in found]
        assert [e.id for e in missed] == [escalation.id]
        assert missed[0].backup_route == "rinkeby-kista"
        assert missed[0].deadline == world.clock.now + timedelta(seconds=90)
        for service in (first, second):
            await service.sweep()
        assert [str(payload["event"]) for _url, payload in world.webhooks.posted] == [
            "escalation.sent",
            "escalation.backup",
        ]
        assert world.sms.sent == [("+46701740605", short.sms_new)]
        assert world.notifier.alerts.count((escalation.id, "deadline_missed")) == 1
        assert [action for _actor, action in world.audit(escalation.id)].count(
            "escalation.deadline_missed"
        ) == 1
        assert {e.id for e in await first.visible_to(world.rita)} == {escalation.id}
        assert (await second.acknowledge(world.rita, escalation.id)).state is State.ACKNOWLEDGED

    async def test_an_unknown_sms_outcome_is_not_sent_again(self, world: World) -> None:
        world.sms.fail = True
        conversation_id = await held_conversation(world)
        escalation = await world.service.draft(world.alice, conversation_id, draft(Kind.IMMINENT_DANGER))
        await world.service.close()
        await world.service.sweep()
        assert len(world.sms.sent) == 1
        assert world.notification_states(escalation.id) == {"sms": SmsOutcome.UNKNOWN, "webhook": "accepted"}


class TestRetention:
    async def test_escalations_outlive_chat_retention_and_keep_their_own(self, world: World) -> None:
        conversation_id, resume_code = await started_with_code(world)
        escalation = await world.service.draft(world.alice, conversation_id, draft(Kind.IMMINENT_DANGER))
        await world.service.close()
        await world.chat.close(conversation_id, world.alice, "referred")
        world.clock.advance(timedelta(days=200))
        assert (
            await RetentionService(world.uow, world.clock, timedelta(days=180)).sweep()
        ).conversations == 1
        kept = await world.service.read(world.sam, escalation.id)
        assert kept.conversation_id is None
        assert [s.value for s in await world.service.relative_status(resume_code)] == ["sent"]
        assert await world.service.transcript(world.sam, escalation.id) == []
        world.clock.advance(RETENTION)
        assert await world.service.apply_retention() == 1
        assert world.uow.tables.escalations == {} and world.uow.tables.notifications == []
        with pytest.raises(NotFound):
            await world.service.relative_status(resume_code)

    async def test_an_unknown_resume_code_is_not_found(self, world: World) -> None:
        with pytest.raises(NotFound):
            await world.service.relative_status("ABCD-EFGH-JKMN-PQRS")
