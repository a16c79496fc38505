"""python-socketio client managers that know each socket's rooms.

The stock managers find a socket's rooms by scanning (and, on disconnect, copying) every room of
the namespace. Kinline has a room per conversation, so with thousands of relatives connected each
disconnect cost milliseconds and a reconnect storm stalled the event loop. These keep a reverse
index, so a disconnect costs only the rooms of that one socket."""

from __future__ import annotations

from typing import Any

import socketio


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
    """One process."""


class IndexedAsyncRedisManager(RoomIndex, socketio.AsyncRedisManager):  # type: ignore[misc]
    """Several processes sharing Redis."""
