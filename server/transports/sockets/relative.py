"""Socket.IO namespace /relative: one anonymous relative, authenticated by the conversation token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from pydantic import Field

from server.domain.conversations import LanguageChoice, Sender, State
from server.domain.errors import DomainError
from server.services.chat import ChatService, RelativeStatus
from server.transports import wire
from server.transports.bounds import DbCount, is_db_count
from server.transports.sockets.base import Empty, EventPayload, GuardedNamespace, event, refuse
from server.transports.sockets.rooms import WAITING_ROOM, conversation_room

NAMESPACE = "/relative"
# A waiting page's status placed by the last queue round (labelled with it for a page that derives
# its position), or None when that round cannot place it.
Labeller = Callable[[str, RelativeStatus, bool], dict[str, Any] | None]


class SendMessage(EventPayload):
    client_id: str = Field(max_length=64)  # a UUID: server.domain.text.check_client_id
    text: str = Field(max_length=100_000)


class History(EventPayload):
    after_seq: DbCount = 0


class ChooseLanguage(EventPayload):
    choice: LanguageChoice


def _after_seq(auth: dict[str, Any]) -> int:
    value = auth.get("after_seq", 0)
    if not is_db_count(value):
        raise refuse("invalid_request", "after_seq must be an integer from 0 to 2^63-1")
    return int(value)


class RelativeNamespace(GuardedNamespace):
    """Counts each conversation's sockets in this process: a few tabs are allowed, not a hundred.
    When the last one goes, the time is noted; ``sweep`` writes what it saw (who is connected here,
    who went when) in one transaction, so a relative back before the next sweep costs no write."""

    def __init__(self, chat: ChatService, sockets_per_conversation: int = 5) -> None:
        super().__init__(NAMESPACE)
        self.chat = chat
        self.sockets_per_conversation = sockets_per_conversation
        self._sids: dict[str, set[str]] = {}
        self._conversation_of: dict[str, str] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._gone_at: dict[str, datetime] = {}
        self._released = False
        # Sockets that derive their queue position from the `queue` broadcast (docs/protocol.md).
        self._deriving: set[str] = set()
        self._new_pages: set[str] = set()
        self._page_listeners: list[Callable[[], None]] = []
        self._labeller: Labeller | None = None

    def on_new_page(self, listener: Callable[[], None], labeller: Labeller) -> None:
        """A page that derives its position connects (or asks after a gap): ``labeller`` gives its
        status labelled with the last round when it can (Broadcaster.label); else ``listener`` runs
        and the broadcaster's next round labels it."""
        self._page_listeners.append(listener)
        self._labeller = labeller

    def deriving(self, conversation_ids: Collection[str]) -> set[str]:
        """Those of the conversations whose sockets here all derive positions from the broadcast."""
        return {
            conversation_id
            for conversation_id in conversation_ids
            if (sids := self._sids.get(conversation_id)) and sids <= self._deriving
        }

    def take_new_pages(self) -> set[str]:
        """Conversations with a page that shows no round yet, since the last call."""
        pages, self._new_pages = self._new_pages, set()
        return pages

    async def left_queue(self, conversation_id: str) -> None:
        """The conversation was claimed or closed: its sockets here stop hearing the broadcast."""
        for sid in self._sids.get(conversation_id, ()):
            if sid in self._deriving:
                await self.leave_room(sid, WAITING_ROOM)

    def _status_for_page(
        self, conversation_id: str, status: RelativeStatus, deriving: bool
    ) -> dict[str, Any] | None:
        """Synchronous from the labelling to the return, so no round can come in between. None: a
        page that does not derive its position, waiting, with no position in ``status`` and none
        from the last round; it must be told after a read of the queue."""
        placed = status.state is not State.WAITING or status.queue_position is not None
        if placed and not deriving:
            return wire.relative_status(status)
        labelled = self._labeller(conversation_id, status, deriving) if self._labeller is not None else None
        if labelled is not None or not deriving:
            return labelled
        self._new_pages.add(conversation_id)
        for listener in self._page_listeners:
            listener()
        return wire.relative_status(status)

    async def sweep(self) -> int:
        """Presence as this process sees it, then the abandon sweep (ChatService.sweep_presence)."""
        gone, self._gone_at = self._gone_at, {}
        try:
            return await self.chat.sweep_presence(list(self._sids), gone)
        except BaseException:
            for conversation_id, since in gone.items():
                if conversation_id not in self._sids:
                    self._gone_at.setdefault(conversation_id, since)
            raise

    async def release_all(self) -> None:
        """At shutdown, before every socket is closed: all relatives here are gone as of now, in
        one write; the disconnects that follow write nothing."""
        self._released = True
        now = self.chat.clock()
        gone = {**self._gone_at, **dict.fromkeys(self._sids, now)}
        self._gone_at = {}
        await self.chat.record_presence((), gone)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if not isinstance(auth, dict) or not isinstance(auth.get("token"), str):
            raise refuse("invalid_token", "a conversation token is required")
        after_seq = _after_seq(auth)

        async def subscribe(conversation_id: str) -> None:
            await self.enter_room(sid, conversation_room(conversation_id))

        wants_queue = auth.get("queue_events") == 1
        try:
            # The position comes from the last queue round (Broadcaster.label) where it can.
            opened = await self.chat.open_relative(
                auth["token"], after_seq, subscribe, with_position=self._labeller is None
            )
        except DomainError as error:
            raise refuse(error.code, error.message) from None  # socketio then drops the sid's rooms
        conversation = opened.conversation
        sids = self._sids.setdefault(conversation.id, set())
        if len(sids) >= self.sockets_per_conversation:
            if not sids:
                del self._sids[conversation.id]
            raise refuse(
                "too_many_sockets",
                f"at most {self.sockets_per_conversation} pages may have this conversation open",
            )
        sids.add(sid)
        self._conversation_of[sid] = conversation.id
        self._gone_at.pop(conversation.id, None)
        try:
            await self.save_session(sid, {"conversation_id": conversation.id})
        except BaseException:
            await self.on_disconnect(sid)
            raise
        deriving = wants_queue and opened.status.state is State.WAITING
        if deriving:
            self._deriving.add(sid)
            await self.enter_room(sid, WAITING_ROOM)
        status = self._status_for_page(conversation.id, opened.status, deriving)
        if status is None:
            status = wire.relative_status(await self.chat.status_of(conversation.id))
        await self.emit("status", status, to=sid)
        for message in opened.missed:
            await self.emit("message", wire.message(message), to=sid)
        if conversation.counsellor_read_seq:
            await self.emit("read", {"seq": conversation.counsellor_read_seq}, to=sid)

    async def on_disconnect(self, sid: str, _reason: Any = None) -> None:
        self._deriving.discard(sid)
        conversation_id = self._conversation_of.pop(sid, None)
        if conversation_id is None:
            return
        sids = self._sids.get(conversation_id)
        if sids is not None:
            sids.discard(sid)
            if sids:
                return
            del self._sids[conversation_id]
        if not self._released:
            self._gone_at[conversation_id] = self.chat.clock()

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

    @event(ChooseLanguage)
    async def on_choose_language(self, sid: str, payload: ChooseLanguage) -> dict[str, Any]:
        status = await self.chat.choose_language(await self._conversation_id(sid), payload.choice)
        return {"ok": True, "status": wire.relative_status(status)}

    @event(Empty)
    async def on_queue_status(self, sid: str, _payload: Empty) -> dict[str, Any]:
        """A page that missed a round (it saw a gap in the numbers) asks again: the answer has no
        round, and a status labelled with the next round follows."""
        conversation_id = await self._conversation_id(sid)
        status = await self.chat.status_of(conversation_id)
        deriving = sid in self._deriving and status.state is State.WAITING
        return {"ok": True, "status": self._status_for_page(conversation_id, status, deriving)}

    @event(Empty)
    async def on_typing(self, sid: str, _payload: Empty) -> dict[str, Any]:
        conversation_id = await self._conversation_id(sid)
        await self.chat.relative_typing(conversation_id)
        return {"ok": True}

    @event(Empty)
    async def on_leave(self, sid: str, _payload: Empty) -> dict[str, Any]:
        """The relative's other sockets are disconnected through the room (in every process);
        this one first hears "closed" and its ack, then is disconnected too."""
        conversation_id = await self._conversation_id(sid)
        await self.leave_room(sid, conversation_room(conversation_id))
        try:
            await self.chat.leave(conversation_id)
        except BaseException:
            await self.enter_room(sid, conversation_room(conversation_id))
            raise
        await self.emit("status", wire.status(State.CLOSED.value, None, None), to=sid)
        task = asyncio.get_running_loop().create_task(self._disconnect_after_ack(sid))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return {"ok": True}

    async def _disconnect_after_ack(self, sid: str) -> None:
        await asyncio.sleep(0)  # the ack is queued when the handler returns; this runs after it
        await self.disconnect(sid)
