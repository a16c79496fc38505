"""Socket.IO namespace /counsellor: staff with a valid session cookie."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import Field

from server.domain.conversations import Conversation, Sender
from server.domain.errors import DomainError
from server.domain.staff import StaffUser
from server.services.auth import AuthService
from server.services.chat import ChatService
from server.services.knowledge import KnowledgeService
from server.services.supervision import SupervisionService
from server.transports import wire
from server.transports.bounds import DbCount, DbInt
from server.transports.sockets.base import Empty, EventPayload, event, refuse
from server.transports.sockets.presence import Presence
from server.transports.sockets.rooms import STAFF_ROOM, SUPERVISORS_ROOM, user_room
from server.transports.sockets.session_watch import SessionWatch
from server.transports.sockets.staff_session import StaffNamespace

NAMESPACE = "/counsellor"


class ConversationRef(EventPayload):
    conversation_id: str = Field(min_length=1, max_length=64)


class SendMessage(ConversationRef):
    client_id: str = Field(max_length=64)  # a UUID: server.domain.text.check_client_id
    text: str = Field(max_length=100_000)


class SendResource(ConversationRef):
    client_id: str = Field(max_length=64)  # a UUID, as send_message's
    resource_id: DbCount


class History(ConversationRef):
    after_seq: DbCount = 0


class Close(ConversationRef):
    outcome: str = Field(min_length=1, max_length=64)
    perspective: str | None = Field(default=None, min_length=1, max_length=32)
    milieu: str | None = Field(default=None, min_length=1, max_length=32)


class Read(ConversationRef):
    seq: DbCount


class AddNote(ConversationRef):
    text: str = Field(max_length=100_000)


class Transfer(ConversationRef):
    to_user_id: DbInt


class SuperviseRead(ConversationRef):
    reason: str = Field(min_length=1, max_length=48)


class CounsellorNamespace(StaffNamespace):
    def __init__(
        self,
        chat: ChatService,
        supervision: SupervisionService,
        auth: AuthService,
        cookie_name: str,
        presence: Presence,
        watch: SessionWatch,
        knowledge: KnowledgeService,
        queue_shown: int,
    ) -> None:
        """``queue_shown``: how many of the queue's head a console's `queue` event lists."""
        super().__init__(NAMESPACE, auth, cookie_name, watch)
        self.queue_shown = queue_shown
        self.chat = chat
        self.supervision = supervision
        self.presence = presence
        self.knowledge = knowledge

    def _permit(self, user: StaffUser) -> None:
        try:
            self.chat.permit_console(user)
        except DomainError as error:
            raise refuse(error.code, "this role does not take part in chats") from None

    def queue_payload(self, view: list[Conversation], languages: Collection[str]) -> dict[str, Any]:
        return wire.queue(view, languages, self.chat.is_away, self.queue_shown)

    async def on_connect(self, sid: str, environ: dict[str, Any], _auth: Any = None) -> None:
        session = await self.admit(sid, environ, self._permit)
        for room in (STAFF_ROOM, user_room(session.user.id)):
            await self.enter_room(sid, room)
        self.presence.connected(session.user, sid)
        languages = session.user.languages
        await self.emit("queue", self.queue_payload(await self.chat.queue_for(languages), languages), to=sid)
        await self.emit("mine", await self.mine_payload(session.user.id), to=sid)
        if self.supervision.may_view(session.user):
            await self.enter_room(sid, SUPERVISORS_ROOM)
            await self.emit("overview", wire.overview(await self.supervision.overview(session.user)), to=sid)

    async def on_disconnect(self, sid: str, _reason: Any = None) -> None:
        await super().on_disconnect(sid, _reason)
        self.presence.disconnected(sid)

    async def mine_payload(self, user_id: int) -> dict[str, Any]:
        held = await self.chat.held_by(user_id)
        return {"conversations": [wire.conversation(c, unread) for c, unread in held]}

    @event(ConversationRef)
    async def on_claim(self, sid: str, payload: ConversationRef) -> dict[str, Any]:
        claimed = await self.chat.claim(payload.conversation_id, await self._user(sid))
        return {"ok": True, "conversation": wire.conversation(claimed)}

    @event(SendMessage)
    async def on_send_message(self, sid: str, payload: SendMessage) -> dict[str, Any]:
        message = await self.chat.post_message(
            payload.conversation_id,
            payload.client_id,
            payload.text,
            Sender.COUNSELLOR,
            author=await self._user(sid),
        )
        return {"ok": True, "message": wire.message(message)}

    @event(SendResource)
    async def on_send_resource(self, sid: str, payload: SendResource) -> dict[str, Any]:
        """A published resource as a card (docs/protocol.md); the ack is send_message's."""
        user = await self._user(sid)
        resource = await self.knowledge.resource_for_chat(payload.resource_id)
        message = await self.chat.send_resource(payload.conversation_id, payload.client_id, resource, user)
        return {"ok": True, "message": wire.message(message)}

    @event(History)
    async def on_history(self, sid: str, payload: History) -> dict[str, Any]:
        messages = await self.chat.staff_history(
            payload.conversation_id, payload.after_seq, await self._user(sid)
        )
        return {"ok": True, "messages": [wire.message(m) for m in messages]}

    @event(ConversationRef)
    async def on_typing(self, sid: str, payload: ConversationRef) -> dict[str, Any]:
        await self.chat.counsellor_typing(payload.conversation_id, await self._user(sid))
        return {"ok": True}

    @event(Read)
    async def on_read(self, sid: str, payload: Read) -> dict[str, Any]:
        seq = await self.chat.mark_read(payload.conversation_id, await self._user(sid), payload.seq)
        return {"ok": True, "seq": seq}

    @event(AddNote)
    async def on_add_note(self, sid: str, payload: AddNote) -> dict[str, Any]:
        note = await self.chat.add_note(payload.conversation_id, await self._user(sid), payload.text)
        return {"ok": True, "note": wire.note(note)}

    @event(ConversationRef)
    async def on_notes(self, sid: str, payload: ConversationRef) -> dict[str, Any]:
        notes = await self.chat.notes(payload.conversation_id, await self._user(sid))
        return {"ok": True, "notes": [wire.note(n) for n in notes]}

    @event(Empty)
    async def on_staff(self, sid: str, _payload: Empty) -> dict[str, Any]:
        await self._user(sid)
        loads = await self.chat.staff_loads()
        return {
            "ok": True,
            "staff": [
                {
                    "id": entry.user.id,
                    "display_name": entry.user.display_name,
                    "online": self.presence.is_online(entry.user.id),
                    "load": entry.load,
                    "capacity": self.chat.policy.capacity,
                }
                for entry in loads
            ],
        }

    @event(Transfer)
    async def on_transfer(self, sid: str, payload: Transfer) -> dict[str, Any]:
        await self.chat.transfer(payload.conversation_id, await self._user(sid), payload.to_user_id)
        return {"ok": True}

    @event(Close)
    async def on_close(self, sid: str, payload: Close) -> dict[str, Any]:
        await self.chat.close(
            payload.conversation_id,
            await self._user(sid),
            payload.outcome,
            payload.perspective,
            payload.milieu,
        )
        return {"ok": True}

    # supervision (supervisors and admins: the permission table decides)

    @event(Empty)
    async def on_overview(self, sid: str, _payload: Empty) -> dict[str, Any]:
        overview = await self.supervision.overview(await self._user(sid))
        return {"ok": True, "overview": wire.overview(overview)}

    @event(SuperviseRead)
    async def on_supervise_read(self, sid: str, payload: SuperviseRead) -> dict[str, Any]:
        conversation, messages, notes = await self.supervision.read(
            payload.conversation_id, await self._user(sid), payload.reason
        )
        return {
            "ok": True,
            "conversation": wire.conversation(conversation),
            "messages": [wire.message(m) for m in messages],
            "notes": [wire.note(n) for n in notes],
        }

    @event(ConversationRef)
    async def on_join_conversation(self, sid: str, payload: ConversationRef) -> dict[str, Any]:
        joined = await self.supervision.join(payload.conversation_id, await self._user(sid))
        return {"ok": True, "conversation": wire.conversation(joined)}

    @event(ConversationRef)
    async def on_leave_conversation(self, sid: str, payload: ConversationRef) -> dict[str, Any]:
        await self.supervision.leave(payload.conversation_id, await self._user(sid))
        return {"ok": True}

    @event(Transfer)
    async def on_reassign(self, sid: str, payload: Transfer) -> dict[str, Any]:
        moved = await self.supervision.reassign(
            payload.conversation_id, await self._user(sid), payload.to_user_id
        )
        return {"ok": True, "conversation": wire.conversation(moved)}
