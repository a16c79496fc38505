"""Escalation use-cases on a real migrated SQLite file: the flow, audit rows, the relative's notice
and status, notifications sent once (also by two processes), missed deadlines claimed once,
encryption at rest and retention."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.migrate import alembic_config
from server.adapters.db.tables import escalation_notifications, escalations, metadata
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.conversations import Sender
from server.domain.errors import Forbidden, NotFound
from server.domain.escalation import Contact, EscalationConfig, Kind, State
from server.domain.staff import Role, StaffUser
from server.services.chat import ChatService
from server.services.escalation import EscalationPolicy, EscalationService
from server.services.events import EventBus
from server.services.retention import RetentionService
from tests.fakes.outbound import Announced, FakeSms, FakeWebhooks
from tests.integration.wiring import ManualClock, sqlite_url
from tests.support.escalation import CONFIG, PHONE, RELATION, RETENTION, SHIPPED, SUMMARY, draft, with_webhook


@dataclass
class World:
    service: EscalationService
    chat: ChatService
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


def make_service(
    database: Database,
    key: bytes,
    chat: ChatService,
    clock: ManualClock,
    config: EscalationConfig,
    sms: FakeSms,
    webhooks: FakeWebhooks,
    notifier: Announced,
) -> EscalationService:
    events = EventBus()
    events.subscribe(notifier.on_event)
    return EscalationService(
        SqlUnitOfWork(database, DataCiphers.from_key(key)),
        chat,
        events,
        clock,
        EscalationPolicy(config=config, retention=RETENTION, console_url="http://kinline.example/console/"),
        sms=sms,
        webhooks=webhooks,
    )


async def add_user(
    uow: SqlUnitOfWork, clock: ManualClock, name: str, role: Role, route: str | None = None
) -> StaffUser:
    """Accounts straight into the store: these tests never sign in, so no password hashing."""
    async with uow.write() as repos:
        user_id = await repos.staff.add_user(name, name, "not-a-password-hash", role, clock(), route)
        user = await repos.staff.get_user(user_id)
    assert user is not None
    return user


@pytest.fixture
async def world(
    database: Database, data_key: bytes, chat: ChatService, uow: SqlUnitOfWork, clock: ManualClock
) -> AsyncIterator[World]:
    sms, webhooks, notifier = FakeSms(), FakeWebhooks(), Announced()
    service = make_service(database, data_key, chat, clock, CONFIG, sms, webhooks, notifier)
    yield World(
        service,
        chat,
        clock,
        sms,
        webhooks,
        notifier,
        alice=await add_user(uow, clock, "alice", Role.COUNSELLOR),
        carl=await add_user(uow, clock, "carl", Role.COUNSELLOR),
        sam=await add_user(uow, clock, "sam", Role.SUPERVISOR),
        sara=await add_user(uow, clock, "sara", Role.SOCIAL_SERVICES, "spanga-tensta"),
        rita=await add_user(uow, clock, "rita", Role.SOCIAL_SERVICES, "rinkeby-kista"),
        admin=await add_user(uow, clock, "root", Role.ADMIN),
    )
    await service.close()


async def held_conversation(world: World, language: str = "ar", holder: StaffUser | None = None) -> str:
    started = await world.chat.start_conversation(language, None)
    await world.chat.claim(started.conversation.id, holder or world.alice)
    return started.conversation.id


async def started_with_code(world: World) -> tuple[str, str]:
    started = await world.chat.start_conversation("ar", None)
    await world.chat.claim(started.conversation.id, world.alice)
    return started.conversation.id, started.resume_code


def audit(raw: sqlite3.Connection, escalation_id: str) -> list[tuple[int | None, str]]:
    return raw.execute(
        "SELECT actor_id, action FROM audit_log"
        " WHERE object_type = 'escalation' AND object_id = ? ORDER BY id",
        (escalation_id,),
    ).fetchall()


async def drain(world: World) -> None:
    await world.service.close()


class TestFlow:
    async def test_drafted_approved_acknowledged_closed_with_audit_and_a_notice(
        self, world: World, raw: sqlite3.Connection
    ) -> None:
        conversation_id, resume_code = await started_with_code(world)
        escalation = await world.service.draft(world.alice, conversation_id, draft())
        assert escalation.state is State.AWAITING_APPROVAL
        assert await world.service.relative_status(resume_code) == []
        assert world.sms.sent == [] and world.webhooks.posted == []

        sent = await world.service.approve(world.sam, escalation.id)
        await drain(world)
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

        assert audit(raw, escalation.id) == [
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
        await drain(world)
        assert escalation.state is State.SENT
        assert world.notifier.alerts == [(escalation.id, "imminent_danger")]
        assert len(world.sms.sent) == 1
        notices = [m.text for m in await world.chat.history(conversation_id, 0) if m.sender is Sender.SYSTEM]
        assert notices == [CONFIG.kinds[Kind.IMMINENT_DANGER].texts["sv"].relative_notice]
        assert "112" in notices[0]

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


class TestWhoMay:
    async def test_only_the_holder_drafts(self, world: World) -> None:
        conversation_id = await held_conversation(world)
        with pytest.raises(Forbidden):
            await world.service.draft(world.carl, conversation_id, draft())
        with pytest.raises(NotFound):  # social services never read chats: real and unknown ids alike
            await world.service.draft(world.sara, conversation_id, draft())
        with pytest.raises(NotFound):
            await world.service.draft(world.sara, "no-such-conversation", draft())
        with pytest.raises(NotFound):
            await world.service.draft(world.alice, "no-such-conversation", draft())

    async def test_the_drafter_cannot_approve_and_other_routes_do_not_see_it(self, world: World) -> None:
        conversation_id = await held_conversation(world, holder=world.sam)
        escalation = await world.service.draft(world.sam, conversation_id, draft())
        with pytest.raises(Forbidden):
            await world.service.approve(world.sam, escalation.id)
        with pytest.raises(NotFound):
            await world.service.read(world.sara, escalation.id)
        with pytest.raises(NotFound):
            await world.service.read(world.carl, escalation.id)
        assert await world.service.visible_to(world.sara) == []
        assert await world.service.visible_to(world.carl) == []

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


class TestDeadlines:
    async def test_a_missed_deadline_tells_the_backup_route_once_across_two_processes(
        self, world: World, migrated: Path, data_key: bytes, raw: sqlite3.Connection
    ) -> None:
        short = with_webhook(SHIPPED, deadline=timedelta(seconds=90))
        databases = [Database(sqlite_url(migrated)) for _ in range(2)]
        first, second = (
            make_service(
                db, data_key, world.chat, world.clock, short, world.sms, world.webhooks, world.notifier
            )
            for db in databases
        )
        try:
            await self._fire_once(world, raw, short, first, second)
        finally:
            for database in databases:
                await database.dispose()

    async def _fire_once(
        self,
        world: World,
        raw: sqlite3.Connection,
        short: EscalationConfig,
        first: EscalationService,
        second: EscalationService,
    ) -> None:
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
        assert [purpose for _url, purpose in _hooks(world)] == ["escalation.sent", "escalation.backup"]
        assert world.sms.sent == [("+46701740605", short.sms_new)]
        assert world.notifier.alerts.count((escalation.id, "deadline_missed")) == 1
        assert [a for _actor, a in audit(raw, escalation.id)].count("escalation.deadline_missed") == 1

        assert {e.id for e in await first.visible_to(world.rita)} == {escalation.id}
        assert (await second.acknowledge(world.rita, escalation.id)).state is State.ACKNOWLEDGED

    async def test_an_unknown_sms_outcome_is_not_sent_again(
        self, world: World, raw: sqlite3.Connection
    ) -> None:
        world.sms.fail = True
        conversation_id = await held_conversation(world)
        escalation = await world.service.draft(world.alice, conversation_id, draft(Kind.IMMINENT_DANGER))
        await drain(world)
        await world.service.sweep()
        assert len(world.sms.sent) == 1
        states = dict(
            raw.execute(
                "SELECT channel, state FROM escalation_notifications WHERE escalation_id = ?",
                (escalation.id,),
            ).fetchall()
        )
        assert states == {"sms": "unknown", "webhook": "accepted"}


def _hooks(world: World) -> list[tuple[str, str]]:
    return [(url, str(payload["event"])) for url, payload in world.webhooks.posted]


class TestStorage:
    async def test_free_text_and_contact_details_are_encrypted_at_rest(
        self, world: World, raw: sqlite3.Connection
    ) -> None:
        conversation_id = await held_conversation(world)
        escalation = await world.service.draft(world.alice, conversation_id, draft(Kind.CONSENT_REFERRAL))
        await world.service.send_back(world.sam, escalation.id, "canary-reason Smörblomma")
        dump = "\n".join(raw.iterdump())
        for secret in (SUMMARY, RELATION, PHONE, "Smörblomma", "canary"):
            assert secret not in dump
        assert (await world.service.read(world.alice, escalation.id)).draft.contact == Contact(phone=PHONE)

    async def test_escalations_outlive_chat_retention_and_keep_their_own(
        self, world: World, uow: SqlUnitOfWork, raw: sqlite3.Connection
    ) -> None:
        conversation_id, resume_code = await started_with_code(world)
        escalation = await world.service.draft(world.alice, conversation_id, draft(Kind.IMMINENT_DANGER))
        await world.chat.close(conversation_id, world.alice, "referred")
        world.clock.advance(timedelta(days=200))
        assert (await RetentionService(uow, world.clock, timedelta(days=180)).sweep()).conversations == 1
        kept = await world.service.read(world.sam, escalation.id)
        assert kept.conversation_id is None
        assert [s.value for s in await world.service.relative_status(resume_code)] == ["sent"]
        assert await world.service.transcript(world.sam, escalation.id) == []

        world.clock.advance(RETENTION)
        assert await world.service.apply_retention() == 1
        assert raw.execute("SELECT COUNT(*) FROM escalations").fetchone() == (0,)
        assert raw.execute("SELECT COUNT(*) FROM escalation_notifications").fetchone() == (0,)
        with pytest.raises(NotFound):
            await world.service.relative_status(resume_code)

    async def test_an_unknown_resume_code_is_not_found(self, world: World) -> None:
        with pytest.raises(NotFound):
            await world.service.relative_status("ABCD-EFGH-JKMN-PQRS")


def test_the_migration_matches_the_tables(migrated: Path) -> None:
    engine = create_engine(f"sqlite:///{migrated}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
        heads = context.get_current_heads()
    engine.dispose()
    ours = {escalations.name, escalation_notifications.name}
    mine = [d for d in differences if any(name in repr(d) for name in ours)]
    assert mine == []
    scripts = ScriptDirectory.from_config(alembic_config(f"sqlite:///{migrated}"))
    applied = {revision.revision for revision in scripts.iterate_revisions(heads, "base")}
    assert "0003" in applied, "the escalation migration is part of what the database is at"
