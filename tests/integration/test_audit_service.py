"""The chat audit log on a real SQLite file: supervisors and admins read who did what to which
conversation, by display name and never with content; the reading is itself audited."""

from __future__ import annotations

import pytest

from server.adapters.db.unit_of_work import SqlUnitOfWork
from server.domain.errors import Forbidden, InvalidInput
from server.domain.staff import Role, StaffUser
from server.services.audit import AuditService
from server.services.auth import AuthService
from server.services.chat import ChatService
from tests.integration.wiring import PASSWORD, ManualClock
from tests.support.assertions import raises_code

NOTE_TEXT = "a private note that the audit log never shows"


async def staff(auth: AuthService, username: str, role: Role, display_name: str) -> StaffUser:
    user_id = await auth.add_user(username, PASSWORD, role, display_name=display_name)
    async with auth.uow.read() as repos:
        user = await repos.staff.get_user(user_id)
    assert user is not None
    return user


@pytest.fixture
def audit(uow: SqlUnitOfWork, clock: ManualClock) -> AuditService:
    return AuditService(uow, clock)


async def test_a_supervisor_sees_who_did_what_to_a_conversation_newest_first(
    audit: AuditService, chat: ChatService, auth: AuthService
) -> None:
    counsellor = await staff(auth, "ada", Role.COUNSELLOR, "Ada Andersson")
    supervisor = await staff(auth, "sune", Role.SUPERVISOR, "Sune Svensson")
    conversation_id = (await chat.start_conversation("sv", None)).conversation.id
    other_id = (await chat.start_conversation("sv", None)).conversation.id
    await chat.claim(conversation_id, counsellor)
    await chat.add_note(conversation_id, counsellor, NOTE_TEXT)
    await chat.claim(other_id, counsellor)

    entries = await audit.entries(supervisor, "conversation", conversation_id, 50)

    assert [(e.actor, e.action, e.object_id) for e in entries] == [
        ("Ada Andersson", "note.add", conversation_id),
        ("Ada Andersson", "conversation.claim", conversation_id),
    ]
    assert all(NOTE_TEXT not in repr(entry) for entry in entries)


async def test_reading_the_log_is_audited_and_shows_in_the_next_reading(
    audit: AuditService, chat: ChatService, auth: AuthService
) -> None:
    admin = await staff(auth, "adam", Role.ADMIN, "Adam Admin")
    conversation_id = (await chat.start_conversation("sv", None)).conversation.id

    assert await audit.entries(admin, "conversation", conversation_id, 50) == []
    await audit.entries(admin, "conversation", None, 50)

    about_one = await audit.entries(admin, "conversation", conversation_id, 50)
    assert [(e.actor, e.action, e.object_id) for e in about_one] == [
        ("Adam Admin", "audit.read", conversation_id)
    ]
    everything = await audit.entries(admin, "conversation", None, 50)
    assert [(e.action, e.object_id) for e in everything][:3] == [
        ("audit.read", conversation_id),
        ("audit.read", "*"),
        ("audit.read", conversation_id),
    ]


async def test_the_limit_keeps_the_newest(audit: AuditService, chat: ChatService, auth: AuthService) -> None:
    counsellor = await staff(auth, "ada", Role.COUNSELLOR, "Ada")
    supervisor = await staff(auth, "sune", Role.SUPERVISOR, "Sune")
    conversation_id = (await chat.start_conversation("sv", None)).conversation.id
    await chat.claim(conversation_id, counsellor)
    await chat.add_note(conversation_id, counsellor, NOTE_TEXT)

    (newest,) = await audit.entries(supervisor, "conversation", conversation_id, 1)
    assert newest.action == "note.add"


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.SOCIAL_SERVICES])
async def test_other_roles_may_not_read_it_and_leave_no_row(
    audit: AuditService, auth: AuthService, role: Role
) -> None:
    reader = await staff(auth, "reader", role, "Reader")
    with raises_code(Forbidden, "forbidden"):
        await audit.entries(reader, "conversation", None, 50)
    async with auth.uow.read() as repos:
        assert await repos.staff.audit_entries("conversation") == []


@pytest.mark.parametrize(
    ("object_type", "object_id", "limit"),
    [
        ("escalation", None, 50),
        ("conversation", "x" * 65, 50),
        ("conversation", None, 0),
        ("conversation", None, 501),
    ],
)
async def test_nonsense_is_refused(
    audit: AuditService, auth: AuthService, object_type: str, object_id: str | None, limit: int
) -> None:
    supervisor = await staff(auth, "sune", Role.SUPERVISOR, "Sune")
    with raises_code(InvalidInput, "invalid_request"):
        await audit.entries(supervisor, object_type, object_id, limit)
