"""The knowledge bank on a real migrated SQLite file: search through FTS5 in Swedish, Arabic and
Somali, versions and audit rows, publishing, the fallback order, the shipped files' import and
export round trip, and the canned answers and danger words the console and the bot read."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.config.knowledge import read_directory, write_directory
from server.config.paths import config_dir
from server.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.domain.knowledge import Audience, Contact, Draft, Kind, Text
from server.domain.risk import signals_danger
from server.domain.staff import Role, StaffUser
from server.services.auth import AuthService
from server.services.knowledge import KnowledgePolicy, KnowledgeService
from tests.integration.wiring import ManualClock, add_staff

POLICY = KnowledgePolicy(
    ("promotion", "prevention", "support_relatives", "exit"), ("spanga-tensta", "rinkeby-kista")
)


@pytest.fixture
def knowledge(uow: SqlUnitOfWork, clock: ManualClock) -> KnowledgeService:
    return KnowledgeService(uow, clock, POLICY)


@pytest.fixture
async def coordinator(auth: AuthService) -> StaffUser:
    return await add_staff(auth, "cora", Role.COORDINATOR)


@pytest.fixture
async def counsellor(auth: AuthService) -> StaffUser:
    return await add_staff(auth, "cole", Role.COUNSELLOR)


def resource(*texts: Text, districts: tuple[str, ...] = ("all",)) -> Draft:
    return Draft(Kind.RESOURCE, districts=districts, contact=Contact(phone="112"), texts=texts)


async def test_search_finds_words_in_swedish_arabic_and_somali(
    knowledge: KnowledgeService, coordinator: StaffUser, counsellor: StaffUser
) -> None:
    exit_sv = await knowledge.create(
        coordinator,
        resource(Text("sv", "Exitprogram", "Stöd för den som vill lämna en våldsbejakande miljö")),
    )
    migration_ar = await knowledge.create(
        coordinator, resource(Text("ar", "الهجرة والعائلة", "معلومات عن هجرة العائلات"))
    )
    family_so = await knowledge.create(
        coordinator,
        Draft(Kind.ARTICLE, texts=(Text("so", "Sida loo ilaaliyo xiriirka", "", "Qoyska iyo carruurta"),)),
    )
    assert [item.id for item in await knowledge.search(counsellor, "exit")] == [exit_sv.id]
    assert [item.id for item in await knowledge.search(counsellor, "våldsbejakande")] == [exit_sv.id]
    # Without diacritics too (remove_diacritics 2), and by a word's beginning.
    assert [item.id for item in await knowledge.search(counsellor, "lamna")] == [exit_sv.id]
    assert [item.id for item in await knowledge.search(counsellor, "هجرة")] == [migration_ar.id]
    assert [item.id for item in await knowledge.search(counsellor, "xiriir")] == [family_so.id]
    assert await knowledge.search(counsellor, "nothingsuch") == []
    # FTS5 syntax in a query is only text.
    assert await knowledge.search(counsellor, 'exit" OR title:*') == []


async def test_search_follows_edits_and_deletes(
    knowledge: KnowledgeService, coordinator: StaffUser, counsellor: StaffUser
) -> None:
    item = await knowledge.create(coordinator, resource(Text("sv", "Föräldranätverk")))
    await knowledge.update(coordinator, item.id, resource(Text("sv", "Stödgrupp")))
    assert await knowledge.search(counsellor, "föräldranätverk") == []
    assert [found.id for found in await knowledge.search(counsellor, "stödgrupp")] == [item.id]
    await knowledge.delete(coordinator, Kind.RESOURCE, item.id)
    assert await knowledge.search(counsellor, "stödgrupp") == []


async def test_each_changed_text_is_a_version_with_its_author_and_every_edit_is_audited(
    knowledge: KnowledgeService,
    coordinator: StaffUser,
    counsellor: StaffUser,
    clock: ManualClock,
    migrated: Path,
) -> None:
    first = await knowledge.create(coordinator, resource(Text("sv", "Ett"), Text("en", "One")))
    clock.advance(timedelta(minutes=1))
    await knowledge.update(coordinator, first.id, resource(Text("sv", "Två"), Text("en", "One")))
    await knowledge.set_published(coordinator, Kind.RESOURCE, first.id, True)
    versions = await knowledge.versions(counsellor, Kind.RESOURCE, first.id)
    assert [(v.language, v.version, v.title, v.changed_by_name) for v in versions] == [
        ("sv", 2, "Två", "cora"),
        ("en", 1, "One", "cora"),
        ("sv", 1, "Ett", "cora"),
    ]
    with sqlite3.connect(migrated) as raw:
        rows = raw.execute(
            "SELECT actor_id, action, object_type, object_id FROM audit_log ORDER BY id"
        ).fetchall()
    assert rows == [
        (coordinator.id, "knowledge.create", "knowledge", str(first.id)),
        (coordinator.id, "knowledge.update", "knowledge", str(first.id)),
        (coordinator.id, "knowledge.publish", "knowledge", str(first.id)),
    ]


async def test_relatives_see_published_public_items_for_their_district_in_the_fallback_order(
    knowledge: KnowledgeService, coordinator: StaffUser
) -> None:
    somali = await knowledge.create(
        coordinator,
        resource(Text("so", "Caawimaad"), Text("sv", "Hjälp"), districts=("spanga-tensta",)),
        True,
    )
    swedish = await knowledge.create(coordinator, resource(Text("sv", "Bara svenska")), True)
    await knowledge.create(coordinator, resource(Text("so", "Qabyo")), False)
    await knowledge.create(
        coordinator, Draft(Kind.ARTICLE, audience=Audience.INTERNAL, texts=(Text("sv", "Internt"),)), True
    )
    public = await knowledge.create(
        coordinator, Draft(Kind.ARTICLE, audience=Audience.PUBLIC, texts=(Text("en", "Public"),)), True
    )
    found = await knowledge.public_items(Kind.RESOURCE, "so", "spanga-tensta")
    assert [item.id for item in found] == [somali.id, swedish.id]
    assert [item.text_for("so").language for item in found] == ["so", "sv"]
    assert [item.id for item in await knowledge.public_items(Kind.RESOURCE, "so", "rinkeby-kista")] == [
        swedish.id
    ]
    assert [item.id for item in await knowledge.public_items(Kind.ARTICLE, "fa", None)] == [public.id]
    assert public.text_for("fa").language == "en"
    with pytest.raises(InvalidInput):
        await knowledge.public_items(Kind.RESOURCE, "so", "atlantis")
    with pytest.raises(InvalidInput):
        await knowledge.public_items(Kind.RESOURCE, "xx", None)


async def test_only_the_coordinator_and_admins_edit(
    knowledge: KnowledgeService, counsellor: StaffUser, auth: AuthService
) -> None:
    liaison = await add_staff(auth, "sam", Role.SOCIAL_SERVICES)
    with pytest.raises(Forbidden):
        await knowledge.create(counsellor, resource(Text("sv", "Nej")))
    with pytest.raises(Forbidden):
        await knowledge.search(liaison, "exit")


async def test_bad_input_is_refused_with_a_code(knowledge: KnowledgeService, coordinator: StaffUser) -> None:
    bad = [
        Draft(Kind.RESOURCE, texts=()),
        Draft(Kind.RESOURCE, contact=Contact(url="javascript:alert(1)"), texts=(Text("sv", "x"),)),
        Draft(Kind.RESOURCE, contact=Contact(phone="call me"), texts=(Text("sv", "x"),)),
        Draft(Kind.RESOURCE, districts=("atlantis",), texts=(Text("sv", "x"),)),
        Draft(Kind.RESOURCE, texts=(Text("xx", "x"),)),
        Draft(Kind.RESOURCE, texts=(Text("sv", " "),)),
        Draft(Kind.CANNED, texts=(Text("sv", "no key"),)),
    ]
    codes = []
    for draft in bad:
        with pytest.raises(InvalidInput) as refused:
            await knowledge.create(coordinator, draft)
        codes.append(refused.value.code)
    assert codes == [
        "missing_text",
        "invalid_url",
        "invalid_phone",
        "unknown_districts",
        "unknown_language",
        "missing_title",
        "invalid_key",
    ]
    await knowledge.create(coordinator, Draft(Kind.CANNED, key="hello", texts=(Text("sv", "Hej"),)))
    with pytest.raises(Conflict):
        await knowledge.create(coordinator, Draft(Kind.CANNED, key="hello", texts=(Text("en", "Hi"),)))
    with pytest.raises(NotFound):
        await knowledge.update(coordinator, 9999, resource(Text("sv", "x")))


async def test_the_shipped_files_load_into_an_empty_bank_only_and_export_as_they_came(
    knowledge: KnowledgeService, tmp_path: Path
) -> None:
    shipped = read_directory(config_dir() / "knowledge")
    assert await knowledge.import_drafts(shipped) == len(shipped)
    with pytest.raises(Conflict) as refused:
        await knowledge.import_drafts(shipped)
    assert refused.value.code == "knowledge_not_empty"
    assert await knowledge.import_drafts(shipped, only_if_empty=True) == 0
    write_directory(tmp_path / "out", await knowledge.export_items())
    assert read_directory(tmp_path / "out") == shipped


async def test_canned_answers_and_danger_words_come_from_the_bank(
    knowledge: KnowledgeService, coordinator: StaffUser, clock: ManualClock
) -> None:
    await knowledge.import_drafts(read_directory(config_dir() / "knowledge"))
    for language in ("sv", "en", "ar", "so", "fa", "ti"):
        answers = await knowledge.canned(language)
        assert answers and all(answer.language == language for answer in answers), language
    swedish = await knowledge.danger_pattern("so")
    assert signals_danger("han har en kniv", swedish)
    assert not signals_danger("vi ses i morgon", swedish)
    (words,) = [item for item in await knowledge.export_items() if item.kind is Kind.DANGER_WORDS]
    texts = tuple(words.texts[code] for code in words.languages)
    changed = tuple(
        Text(t.language, t.title, t.summary, t.body + ("\nplötsligt ord" if t.language == "sv" else ""))
        for t in texts
    )
    await knowledge.update(coordinator, words.id, Draft(Kind.DANGER_WORDS, key=words.key, texts=changed))
    assert signals_danger("ett plötsligt ord", await knowledge.danger_pattern("ar"))
