"""Pushes committed changes to the right sockets. The queue and waiting positions are pushed in
coalesced rounds: a burst of changes costs one database read and one emit per moved relative."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import socketio

from server.domain.conversations import Sender, State, relative_closed_reason
from server.services.chat import ChatService
from server.services.events import (
    AwayChanged,
    ConversationChanged,
    ConversationStarted,
    Event,
    MessagePosted,
    NoteAdded,
    ReadMarked,
    RelativeAccessEnded,
    Typing,
)
from server.transports import wire
from server.transports.sockets.counsellor import NAMESPACE as COUNSELLOR
from server.transports.sockets.counsellor import CounsellorNamespace
from server.transports.sockets.relative import NAMESPACE as RELATIVE
from server.transports.sockets.rooms import conversation_room, user_room

log = logging.getLogger(__name__)


class Broadcaster:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        chat: ChatService,
        counsellors: CounsellorNamespace,
        queue_push_delay: timedelta,
    ) -> None:
        self.sio = sio
        self.chat = chat
        self.counsellors = counsellors
        self.delay = queue_push_delay.total_seconds()
        self._sent_statuses: dict[str, dict[str, Any]] = {}
        self._left_queue: set[str] = set()
        self._queue_dirty = asyncio.Event()
        self._mine_due: set[int] = set()
        self._mine_dirty = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._push_queue_forever(), name="queue-push"),
            asyncio.create_task(self._push_mine_forever(), name="mine-push"),
        ]

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def on_event(self, event: Event) -> None:
        if isinstance(event, MessagePosted):
            await self._message(event)
        elif isinstance(event, ConversationStarted | AwayChanged):
            self._queue_dirty.set()
        elif isinstance(event, ConversationChanged):
            await self._changed(event)
        elif isinstance(event, Typing):
            await self._typing(event)
        elif isinstance(event, ReadMarked):
            await self.sio.emit(
                "read", {"seq": event.seq}, room=conversation_room(event.conversation.id), namespace=RELATIVE
            )
        elif isinstance(event, NoteAdded) and event.conversation.counsellor_id is not None:
            await self.sio.emit(
                "note",
                wire.note(event.note),
                room=user_room(event.conversation.counsellor_id),
                namespace=COUNSELLOR,
            )
        elif isinstance(event, RelativeAccessEnded):
            await self.sio.manager.disconnect_room(RELATIVE, conversation_room(event.conversation_id))

    def queue_changed(self) -> None:
        """Something outside the database changed the queue's views or statuses (a console
        opened or closed): push a round."""
        self._queue_dirty.set()

    async def _message(self, event: MessagePosted) -> None:
        payload = wire.message(event.message)
        conversation = event.conversation
        await self.sio.emit("message", payload, room=conversation_room(conversation.id), namespace=RELATIVE)
        if conversation.state is State.ACTIVE and conversation.counsellor_id is not None:
            await self.sio.emit(
                "message", payload, room=user_room(conversation.counsellor_id), namespace=COUNSELLOR
            )

    async def _changed(self, event: ConversationChanged) -> None:
        conversation = event.conversation
        if conversation.state is not State.WAITING:
            self._sent_statuses.pop(conversation.id, None)
            self._left_queue.add(conversation.id)
            await self.sio.emit(
                "status",
                wire.status(conversation.state.value, None, None, relative_closed_reason(conversation)),
                room=conversation_room(conversation.id),
                namespace=RELATIVE,
            )
        for user_id in {conversation.counsellor_id, event.previous_counsellor_id} - {None}:
            assert user_id is not None
            self._mine_due.add(user_id)
        self._mine_dirty.set()
        self._queue_dirty.set()

    async def _typing(self, event: Typing) -> None:
        conversation = event.conversation
        if event.by_relative and conversation.counsellor_id is not None:
            await self.sio.emit(
                "typing",
                {"conversation_id": conversation.id},
                room=user_room(conversation.counsellor_id),
                namespace=COUNSELLOR,
            )
        elif not event.by_relative:
            await self.sio.emit(
                "typing",
                {"sender": Sender.COUNSELLOR.value},
                room=conversation_room(conversation.id),
                namespace=RELATIVE,
            )

    async def _push_mine_forever(self) -> None:
        """A counsellor's own list is pushed once per round however many of their conversations
        changed in it: a burst of claims costs one read per counsellor, not one per claim."""
        while True:
            await self._mine_dirty.wait()
            await asyncio.sleep(0)
            self._mine_dirty.clear()
            due, self._mine_due = self._mine_due, set()
            for user_id in due:
                try:
                    await self._push_mine(user_id)
                except Exception:
                    log.exception("pushing a counsellor's conversations failed")

    async def _push_mine(self, user_id: int) -> None:
        await self.sio.emit(
            "mine",
            await self.counsellors.mine_payload(user_id),
            room=user_room(user_id),
            namespace=COUNSELLOR,
        )

    async def _push_queue_forever(self) -> None:
        """A round starts no sooner after the previous one ended than half the time that round
        took, so a long queue under heavy churn costs the event loop at most two thirds of its
        time, while a change after a quiet spell (the common case) is pushed at once."""
        loop = asyncio.get_running_loop()
        next_allowed = loop.time()
        while True:
            await self._queue_dirty.wait()
            await asyncio.sleep(max(self.delay, next_allowed - loop.time()))
            self._queue_dirty.clear()
            started = loop.time()
            try:
                await self.push_queue()
            except Exception:
                log.exception("queue push failed")
            ended = loop.time()
            next_allowed = ended + (ended - started) / 2

    async def push_queue(self) -> None:
        """Each set of languages spoken by chat staff gets its own view of the queue (to those
        staff's user rooms, in every process); each waiting relative whose status changed gets it."""
        self._left_queue.clear()
        waiting, basis = await self.chat.waiting_with_estimates()
        for view in await self.chat.queue_views(waiting):
            await self.sio.emit(
                "queue",
                wire.queue(view.conversations, view.languages, self.chat.is_away),
                room=[user_room(user_id) for user_id in view.user_ids],
                namespace=COUNSELLOR,
            )
        sent: dict[str, dict[str, Any]] = {}
        moved: list[tuple[str, dict[str, Any]]] = []
        for conversation_id, relative_status in self.chat.waiting_statuses(waiting, basis).items():
            status = wire.relative_status(relative_status)
            sent[conversation_id] = status
            if self._sent_statuses.get(conversation_id) != status:
                moved.append((conversation_id, status))

        def still_waiting() -> Iterator[tuple[str, dict[str, Any]]]:
            """Read as the round goes: a conversation claimed or closed meanwhile has been told
            its new state and must not get a waiting position after it."""
            for conversation_id, status in moved:
                if conversation_id not in self._left_queue:
                    yield conversation_room(conversation_id), status

        await self.sio.manager.emit_each("status", RELATIVE, still_waiting())
        self._sent_statuses = {k: v for k, v in sent.items() if k not in self._left_queue}
