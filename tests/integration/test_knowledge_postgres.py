"""The knowledge bank on a real PostgreSQL: full-text search through to_tsvector('simple', ...)
in Swedish, Arabic and Somali, following edits and deletes; the migration's GIN index exists; and
a message's resource card comes back through the PostgreSQL path of the chat store."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text

from server.adapters.crypto import DataCiphers
from server.adapters.db.engine import Database
from server.adapters.db.migrate import upgrade
from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.config.knowledge import read_directory
from server.config.paths import config_dir
from server.domain.knowledge import Contact, Draft, Kind, Text
from server.domain.staff import Role, StaffUser
from server.services.auth import AuthService, SessionPolicy
from server.services.chat import ChatService
from server.services.knowledge import KnowledgeService
from tests.integration.test_knowledge_service import POLICY
from tests.integration.wiring import T0, ManualClock, RecordingBus, add_staff, chat_policy
from tests.support.clients import new_client_id
from tests.support.services import postgres_server


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        upgrade(url)
        yield url


class World:
    def __init__(self, uow: SqlUnitOfWork, clock: ManualClock) -> None:
        self.uow = uow
        self.knowledge = KnowledgeService(uow, clock, POLICY)
        self.chat = ChatService(uow, RecordingBus(), clock, chat_policy())
        self.auth = AuthService(
            uow, RecordingBus(), clock, SessionPolicy(T0 - T0, T0 - T0, 3), uow.ciphers.totp
        )


@pytest.fixture
async def world(postgres_url: str) -> AsyncIterator[World]:
    database = Database(postgres_url)
    async with database.write() as connection:
        for table in ("knowledge_versions", "knowledge_texts", "knowledge_items"):
            await connection.execute(text(f"DELETE FROM {table}"))
    uow = SqlUnitOfWork(database, DataCiphers.from_key(os.urandom(32)))
    yield World(uow, ManualClock(T0))
    await uow.close()
    await database.dispose()


async def staff(world: World, name: str, role: Role) -> StaffUser:
    return await add_staff(world.auth, f"{name}-{os.urandom(3).hex()}", role)


def resource(*texts: Text) -> Draft:
    return Draft(Kind.RESOURCE, contact=Contact(phone="112"), texts=texts)


async def test_full_text_search_in_swedish_arabic_and_somali(world: World) -> None:
    coordinator = await staff(world, "cora", Role.COORDINATOR)
    counsellor = await staff(world, "cole", Role.COUNSELLOR)
    knowledge = world.knowledge
    exit_sv = await knowledge.create(coordinator, resource(Text("sv", "Exitprogram", "Stöd för avhoppare")))
    arabic = await knowledge.create(
        coordinator, resource(Text("ar", "الهجرة والعائلة", "معلومات عن هجرة العائلات"))
    )
    somali = await knowledge.create(
        coordinator, Draft(Kind.ARTICLE, texts=(Text("so", "Sida loo ilaaliyo xiriirka", "", "Qoyska"),))
    )
    assert [i.id for i in await knowledge.search(counsellor, "exit")] == [exit_sv.id]
    assert [i.id for i in await knowledge.search(counsellor, "avhoppare")] == [exit_sv.id]
    assert [i.id for i in await knowledge.search(counsellor, "هجرة")] == [arabic.id]
    assert [i.id for i in await knowledge.search(counsellor, "xiriir")] == [somali.id]
    # tsquery syntax in a query is only text around the words.
    assert [i.id for i in await knowledge.search(counsellor, "exit & ! | :* ' \\")] == [exit_sv.id]
    await knowledge.update(coordinator, exit_sv.id, resource(Text("sv", "Stödgrupp")))
    assert await knowledge.search(counsellor, "exitprogram") == []
    await knowledge.delete(coordinator, Kind.ARTICLE, somali.id)
    assert await knowledge.search(counsellor, "xiriir") == []
    async with world.uow.read() as repos:
        index = await repos.knowledge.connection.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_knowledge_texts_search'")
        )
    assert index is not None and "to_tsvector('simple'" in index


async def test_the_shipped_files_load_and_a_card_comes_back_from_postgres(world: World) -> None:
    await world.knowledge.import_drafts(read_directory(config_dir() / "knowledge"))
    assert [a.language for a in await world.knowledge.canned("so")] == ["so"] * len(
        await world.knowledge.canned("so")
    )
    counsellor = await staff(world, "cara", Role.COUNSELLOR)
    (emergency,) = [
        item
        for item in await world.knowledge.public_items(Kind.RESOURCE, "so", None)
        if item.key == "emergency-112"
    ]
    started = await world.chat.start_conversation("so", "worried_about_someone")
    await world.chat.claim(started.conversation.id, counsellor)
    sent = await world.chat.send_resource(started.conversation.id, new_client_id(), emergency, counsellor)
    assert sent.card is not None and sent.card.title == "112 – xaalad degdeg ah"
    (stored,) = [m for m in await world.chat.history(started.conversation.id, 0) if m.card]
    assert stored.card == sent.card and stored.text == sent.card.plain()
