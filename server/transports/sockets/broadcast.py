"""Pushes committed changes to the right sockets. The queue and waiting positions are pushed in
coalesced rounds: a burst of changes costs one database read, one `queue` broadcast to the pages
that derive their position from it (domain/queue_rounds.py), and a personal `status` only to the
relatives whose page cannot (an older page, a new one, a changed view) or whose status changed in
another way. With several processes (Redis) rounds are numbered per process, so there every
relative whose status changed gets it personally, as before."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import socketio

from server.domain import conversations as rules
from server.domain.conversations import Conversation, Sender, State, relative_closed_reason
from server.domain.queue_rounds import RoundState, plan_round
from server.services.chat import ChatService, RelativeStatus
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
from server.transports.sockets.managers import PACE_EVERY
from server.transports.sockets.pacing import Pacer
from server.transports.sockets.relative import NAMESPACE as RELATIVE
from server.transports.sockets.relative import RelativeNamespace
from server.transports.sockets.rooms import WAITING_ROOM, conversation_room, user_room

log = logging.getLogger(__name__)


class Broadcaster:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        chat: ChatService,
        counsellors: CounsellorNamespace,
        relatives: RelativeNamespace,
        queue_push_delay: timedelta,
        observe_delivery: Callable[[float], None] | None = None,
        shared: bool = False,
    ) -> None:
        """``observe_delivery`` gets, per message, the seconds from its timestamp (taken before
        its commit) to its emit. ``shared``: several processes share the rooms (Redis)."""
        self.sio = sio
        self.relatives = relatives
        self.rounds_enabled = not shared
        self._rounds = RoundState()
        self._per_position: float | None = None
        self._sent_extras: dict[str, tuple[object, ...]] = {}
        self.observe_delivery = observe_delivery
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
        elif isinstance(event, NoteAdded) and event.conversation.staff_ids():
            await self.sio.emit(
                "note", wire.note(event.note), room=_staff_rooms(event.conversation), namespace=COUNSELLOR
            )
        elif isinstance(event, RelativeAccessEnded):
            await self.sio.manager.disconnect_room(RELATIVE, conversation_room(event.conversation_id))

    def label(self, conversation_id: str, status: RelativeStatus, deriving: bool) -> dict[str, Any] | None:
        """A waiting page, as it connects, given the place the last round gave it without reading
        the queue again. A page that derives its position gets it labelled with that round and
        derives from the next broadcast on; an older page gets it as a plain status, remembered as
        sent, so the next round (one is due if anything moved since) tells it any change. None when
        the last round cannot say (the conversation has not been in one yet, or several processes
        share the rooms)."""
        if not self.rounds_enabled or status.state is not State.WAITING:
            return None
        place = self._rounds.label(conversation_id)
        if place is None or self._per_position is None:
            return None
        placed = replace(
            status,
            queue_position=place.position,
            estimated_wait_seconds=rules.estimate_wait_seconds(place.position, self._per_position),
            line=place.line,
        )
        if not deriving:
            self._sent_statuses[conversation_id] = wire.relative_status(placed)
            return self._sent_statuses[conversation_id]
        self._rounds = self._rounds.showing(conversation_id, place)
        self._sent_extras[conversation_id] = _extras(status)
        return wire.relative_status(placed, self._rounds.number)

    def queue_changed(self) -> None:
        """Something outside the database changed the queue's views or statuses (a console
        opened or closed): push a round."""
        self._queue_dirty.set()

    async def _message(self, event: MessagePosted) -> None:
        payload = wire.message(event.message)
        conversation = event.conversation
        await self.sio.emit("message", payload, room=conversation_room(conversation.id), namespace=RELATIVE)
        if conversation.state is State.ACTIVE and conversation.staff_ids():
            await self.sio.emit("message", payload, room=_staff_rooms(conversation), namespace=COUNSELLOR)
        if self.observe_delivery is not None and not event.repeat:
            self.observe_delivery(time.time() - event.message.sent_at.timestamp())

    async def _changed(self, event: ConversationChanged) -> None:
        conversation = event.conversation
        if conversation.state is not State.WAITING:
            self._sent_statuses.pop(conversation.id, None)
            self._sent_extras.pop(conversation.id, None)
            self._left_queue.add(conversation.id)
            await self.relatives.left_queue(conversation.id)
            await self.sio.emit(
                "status",
                wire.status(conversation.state.value, None, None, relative_closed_reason(conversation)),
                room=conversation_room(conversation.id),
                namespace=RELATIVE,
            )
        self._mine_due.update(conversation.staff_ids())
        if event.previous_counsellor_id is not None:
            self._mine_due.add(event.previous_counsellor_id)
        self._mine_dirty.set()
        self._queue_dirty.set()

    async def _typing(self, event: Typing) -> None:
        conversation = event.conversation
        if event.by_relative and conversation.staff_ids():
            await self.sio.emit(
                "typing",
                {"conversation_id": conversation.id},
                room=_staff_rooms(conversation),
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
        staff's user rooms, in every process); each waiting relative whose status changed gets it.
        The round runs in time slices (pacing.Pacer): messages go ahead of it."""
        pacer = Pacer()
        self._left_queue.clear()
        waiting, basis = await self.chat.waiting_with_estimates()
        await pacer.pace()
        for view in await self.chat.queue_views(waiting):
            await self.sio.emit(
                "queue",
                self.counsellors.queue_payload(view.conversations, view.languages),
                room=[user_room(user_id) for user_id in view.user_ids],
                namespace=COUNSELLOR,
            )
            await pacer.pace()
        snapshot = self.chat.queue_snapshot(waiting, basis)
        await pacer.pace()
        per_position = snapshot.per_position
        deriving = self.relatives.deriving(snapshot.places) if self.rounds_enabled else set()
        fresh = self.relatives.take_new_pages()
        if fresh:
            self._rounds = self._rounds.forgetting(fresh)
        plan, self._rounds = plan_round(
            self._rounds, waiting, snapshot.places, deriving, force=per_position != self._per_position
        )
        self._per_position = per_position
        if plan.number is not None and deriving:
            await self.sio.emit(
                "queue", wire.queue_round(plan, per_position), room=WAITING_ROOM, namespace=RELATIVE
            )
            await pacer.pace()
        labelled = self._rounds.number if self.rounds_enabled else None
        sent: dict[str, dict[str, Any]] = {}
        moved: list[tuple[str, dict[str, Any]]] = []
        for count, conversation in enumerate(waiting, 1):
            if count % PACE_EVERY == 0:
                await pacer.pace()
            conversation_id = conversation.id
            if conversation_id in deriving:
                extras = snapshot.extras(conversation)
                if conversation_id in plan.corrections or self._sent_extras.get(conversation_id) != extras:
                    self._sent_extras[conversation_id] = extras
                    status = wire.relative_status(snapshot.status(conversation))
                    moved.append((conversation_id, {**status, "round": labelled}))
                continue
            status = wire.relative_status(snapshot.status(conversation))
            sent[conversation_id] = status
            if self._sent_statuses.get(conversation_id) != status or conversation_id in fresh:
                moved.append((conversation_id, {**status, "round": labelled}))

        def still_waiting() -> Iterator[tuple[str, dict[str, Any]]]:
            """Read as the round goes: a conversation claimed or closed meanwhile has been told
            its new state and must not get a waiting position after it."""
            for conversation_id, status in moved:
                if conversation_id not in self._left_queue:
                    yield conversation_room(conversation_id), status

        await self.sio.manager.emit_each("status", RELATIVE, still_waiting())
        self._sent_statuses = {k: v for k, v in sent.items() if k not in self._left_queue}
        self._sent_extras = {
            k: v for k, v in self._sent_extras.items() if k in snapshot.places and k not in self._left_queue
        }


def _staff_rooms(conversation: Conversation) -> list[str]:
    """The user rooms of the holder and of a colleague who joined."""
    return [user_room(user_id) for user_id in sorted(conversation.staff_ids())]


def _extras(status: RelativeStatus) -> tuple[object, ...]:
    """What a page that derives its position cannot derive: told personally when it changes."""
    return (status.language, status.language_online, status.language_choice)
