"""python-socketio client managers that know each socket's rooms.

The stock managers find a socket's rooms by scanning (and, on disconnect, copying) every room of
the namespace. Kinline has a room per conversation, so with thousands of relatives connected each
disconnect cost milliseconds and a reconnect storm stalled the event loop. These keep a reverse
index, so a disconnect costs only the rooms of that one socket."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

from server.transports.sockets.pacing import SLICE_BUDGET, Pacer

log = logging.getLogger(__name__)
# A long run of sends (a broadcast to the waiting room, a round's statuses) checks its time slice
# (pacing.Pacer) every this many sockets.
PACE_EVERY = 32
# Carried between processes as an emit, so the Redis manager's own message routing delivers it;
# each process disconnects its own sockets in the room instead of sending them anything.
DISCONNECT_ROOM_EVENT = "kinline:disconnect-room"


class RoomIndex:
    """Mixed in before a socketio manager class; every membership change there goes through
    ``basic_enter_room`` and ``basic_leave_room``, which keep the index."""

    rooms: dict[str, dict[Any, Any]]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]

    async def emit_each(self, event: str, namespace: str, payloads: Iterable[tuple[Any, Any]]) -> None:
        """The same event to many rooms, each with its own payload (one emit per room here;
        the one-process manager overrides it with a leaner loop)."""
        for room, data in payloads:
            await self.emit(event, data, namespace, room=room)  # type: ignore[attr-defined]

    async def disconnect_room(self, namespace: str, room: str) -> None:
        """Disconnect every socket in the room, in every process (one process here)."""
        await self._disconnect_local_room(namespace, room)

    async def _disconnect_local_room(self, namespace: str, room: str) -> None:
        for sid, _eio_sid in list(self.get_participants(namespace, room)):  # type: ignore[attr-defined]
            await self.server.disconnect(sid, namespace=namespace, ignore_queue=True)  # type: ignore[attr-defined]

    def basic_disconnect(self, sid: str, namespace: str, **_kwargs: Any) -> None:
        """BaseManager.basic_disconnect without its scan over every room of the namespace."""
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            sids = pending.get(namespace)
            if sids is not None and sid in sids:
                sids.remove(sid)
                if not sids:
                    del pending[namespace]


class IndexedAsyncManager(RoomIndex, socketio.AsyncManager):  # type: ignore[misc]
    """One process. Emits without callbacks go straight to each socket's send queue, in order.

    The stock emit starts an asyncio Task per recipient and then waits for all of them; with the
    one or two sockets a conversation's room holds, that was most of the cost of an emit, paid for
    every message and for each of thousands of queue-position updates.

    ``slice_budget``: the longest stretch of the loop a long run of sends takes (pacing.Pacer)."""

    server: Any

    def __init__(self, *args: Any, slice_budget: float = SLICE_BUDGET, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slice_budget = slice_budget

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        if callback is not None:
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
            )
            return
        if namespace not in self.rooms:
            return
        arguments = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        await self._deliver(namespace, to or room, self._frames(namespace, [event, *arguments]), skipped)

    async def emit_each(self, event: str, namespace: str, payloads: Iterable[tuple[Any, Any]]) -> None:
        """The same event to many rooms, each with its own payload, without an emit call per room.

        Queueing a packet never suspends, so a long run of them would hold the event loop until
        the last one: it runs in time slices (pacing.Pacer), between which the sockets' writers
        send what is queued and messages go ahead."""
        rooms = self.rooms.get(namespace)
        if not rooms:
            return
        pacer = Pacer(self.slice_budget)
        for count, (room, data) in enumerate(payloads, 1):
            if room in rooms:
                await self._deliver(namespace, room, self._frames(namespace, [event, data]), ())
            if count % PACE_EVERY == 0:
                await pacer.pace()

    def _frames(self, namespace: str, data: list[Any]) -> list[eio_packet.Packet]:
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace, data=data).encode()
        return [
            eio_packet.Packet(eio_packet.MESSAGE, part)
            for part in (encoded if isinstance(encoded, list) else [encoded])
        ]

    async def _deliver(
        self, namespace: str, room: Any, frames: list[eio_packet.Packet], skipped: Collection[Any]
    ) -> None:
        """One encoding for every socket in the room. A large room (the waiting relatives' queue
        broadcast) runs in time slices, as ``emit_each`` does; a message's room of one or two
        sockets costs no pacing at all."""
        participants = list(self.get_participants(namespace, room))
        pacer = Pacer(self.slice_budget) if len(participants) > PACE_EVERY else None
        for count, (sid, eio_sid) in enumerate(participants, 1):
            if pacer is not None and count % PACE_EVERY == 0:
                await pacer.pace()
            if sid in skipped:
                continue
            for frame in frames:
                try:
                    await self.server._send_eio_packet(eio_sid, frame)
                except Exception:  # a socket closing meanwhile; the others still get theirs
                    log.debug("an emit found a socket already closing")


class IndexedAsyncRedisManager(RoomIndex, socketio.AsyncRedisManager):  # type: ignore[misc]
    """Several processes sharing Redis."""

    async def disconnect_room(self, namespace: str, room: str) -> None:
        await self.emit(DISCONNECT_ROOM_EVENT, None, namespace, room=room)

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("event") == DISCONNECT_ROOM_EVENT:
            await self._disconnect_local_room(message["namespace"], message["room"])
            return
        await super()._handle_emit(message)
