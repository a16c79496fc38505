"""How the chat refuses, on a real SQLite file: a role that may never read conversations cannot
tell a real conversation id from a made-up one; a counsellor who could read it if they held it
hears not_holder."""

from __future__ import annotations

from server.domain.errors import Forbidden, NotFound
from server.domain.staff import Role
from server.services.auth import AuthService
from server.services.chat import ChatService
from tests.integration.wiring import add_staff
from tests.support.assertions import raises_code

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def test_social_services_get_not_found_for_real_and_unknown_ids_alike(
    chat: ChatService, auth: AuthService
) -> None:
    liaison = await add_staff(auth, "liaison", Role.SOCIAL_SERVICES)
    existing = (await chat.start_conversation("sv", None)).conversation.id
    for conversation_id in (existing, UNKNOWN):
        with raises_code(NotFound, "not_found"):
            await chat.conversation_detail(conversation_id, liaison)
        with raises_code(NotFound, "not_found"):
            await chat.notes(conversation_id, liaison)
        with raises_code(NotFound, "not_found"):
            await chat.staff_history(conversation_id, 0, liaison)


async def test_a_counsellor_who_does_not_hold_it_still_hears_not_holder(
    chat: ChatService, auth: AuthService
) -> None:
    holder = await add_staff(auth, "holder")
    other = await add_staff(auth, "other")
    conversation_id = (await chat.start_conversation("sv", None)).conversation.id
    await chat.claim(conversation_id, holder)
    with raises_code(Forbidden, "not_holder"):
        await chat.conversation_detail(conversation_id, other)
    with raises_code(NotFound, "not_found"):
        await chat.conversation_detail(UNKNOWN, other)
