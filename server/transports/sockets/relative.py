"""Socket.IO namespace /relative: one anonymous relative, authenticated by the conversation token."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from server.domain.conversations import Sender
from server.domain.errors import DomainError
from server.services.chat import ChatService
from server.transports import wire
from server.transports.bounds import DbCount, is_db_count
from server.transports.sockets.base import Empty, EventPayload, GuardedNamespace, event, refuse
from server.transports.sockets.rooms import conversation_room

NAMESPACE = "/relative"


class SendMessage(EventPayload):
    client_id: str = Field(min_length=1, max_length=64)
    text: str = Field(max_length=100_000)


class History(EventPayload):
    after_seq: DbCount = 0


def _after_seq(auth: dict[str, Any]) -> int:
    value = auth.get("after_seq", 0)
    if not is_db_count(value):
        raise refuse("invalid_request", "after_seq must be an integer from 0 to 2^63-1")
    return int(value)


class RelativeNamespace(GuardedNamespace):
    def __init__(self, chat: ChatService) -> None:
        super().__init__(NAMESPACE)
        self.chat = chat

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if not isinstance(auth, dict) or not isinstance(auth.get("token"), str):
            raise refuse("invalid_token", "a conversation token is required")
        after_seq = _after_seq(auth)

        async def subscribe(conversation_id: str) -> None:
            await self.enter_room(sid, conversation_room(conversation_id))

        try:
            opened = await self.chat.open_relative(auth["token"], after_seq, subscribe)
        except DomainError as error:
            raise refuse(error.code, error.message) from None  # socketio then drops the sid's rooms
        conversation = opened.conversation
        await self.save_session(sid, {"conversation_id": conversation.id})
        status = opened.status
        await self.emit(
            "status",
            wire.status(status.state.value, status.queue_position, status.estimated_wait_seconds),
            to=sid,
        )
        for message in opened.missed:
            await self.emit("message", wire.message(message), to=sid)
        if conversation.counsellor_read_seq:
            await self.emit("read", {"seq": conversation.counsellor_read_seq}, to=sid)

    async def _conversation_id(self, sid: str) -> str:
        session = await self.get_session(sid)
        return str(session["conversation_id"])

    @event(SendMessage)
    async def on_send_message(self, sid: str, payload: SendMessage) -> dict[str, Any]:
        message = await self.chat.post_message(
            await self._conversation_id(sid), payload.client_id, payload.text, Sender.RELATIVE
        )
        return {"ok": True, "message": wire.message(message)}

    @event(History)
    async def on_history(self, sid: str, payload: History) -> dict[str, Any]:
        messages = await self.chat.history(await self._conversation_id(sid), payload.after_seq)
        return {"ok": True, "messages": [wire.message(m) for m in messages]}

    @event(Empty)
    async def on_typing(self, sid: str, _payload: Empty) -> dict[str, Any]:
        conversation_id = await self._conversation_id(sid)
        await self.chat.relative_typing(conversation_id)
        return {"ok": True}

    @event(Empty)
    async def on_leave(self, sid: str, _payload: Empty) -> dict[str, Any]:
        await self.chat.leave(await self._conversation_id(sid))
        return {"ok": True}
