"""A staff socket lives no longer than the session it was opened with.

Every staff namespace registers its sockets here. Once a check interval the watch asks the
database, in one query for all of this process's staff sockets, which of their sessions are still
live, and closes every socket whose session is gone (logout, an idle or absolute timeout, an account
disabled or its second factor reset, whether in this process, another server process or the CLI)
or whose user now has another role or route than the one it connected with. Within this process
the services' events close the sockets at once. From the moment a session is known to have ended,
its sockets answer every event with ``not_authenticated``, even while the close is on its way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import socketio

from server.domain.staff import StaffUser
from server.services.auth import AuthService, StaffSession
from server.services.events import Event, SessionEnded, StaffOtherSessionsEnded, StaffSessionsEnded

log = logging.getLogger(__name__)

ENDED_MEMORY_SECONDS = 60.0


@dataclass(frozen=True)
class StaffSocket:
    namespace: str
    sid: str
    session_hash: str
    user: StaffUser


class SessionWatch:
    def __init__(self, sio: socketio.AsyncServer, auth: AuthService, interval: timedelta) -> None:
        self.sio = sio
        self.auth = auth
        self.interval = interval.total_seconds()
        self._sockets: dict[tuple[str, str], StaffSocket] = {}
        self._ended: dict[str, float] = {}
        self._used: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def register(self, namespace: str, sid: str, session: StaffSession) -> bool:
        """False when the session is already known to have ended (a close raced the handshake)."""
        if session.session_hash in self._ended:
            return False
        self._sockets[(namespace, sid)] = StaffSocket(namespace, sid, session.session_hash, session.user)
        return True

    def unregister(self, namespace: str, sid: str) -> None:
        self._sockets.pop((namespace, sid), None)

    def user(self, namespace: str, sid: str) -> StaffUser | None:
        """The member behind a socket whose session has not ended; None otherwise."""
        found = self._sockets.get((namespace, sid))
        if found is None or found.session_hash in self._ended:
            return None
        return found.user

    def used(self, namespace: str, sid: str) -> None:
        """An event from this socket: activity that keeps its session alive, as a request does."""
        found = self._sockets.get((namespace, sid))
        if found is not None:
            self._used.add(found.session_hash)

    async def on_event(self, event: Event) -> None:
        if isinstance(event, SessionEnded):
            await self._end({event.session_hash})
        elif isinstance(event, StaffSessionsEnded):
            await self._end({s.session_hash for s in self._sockets.values() if s.user.id == event.user_id})
        elif isinstance(event, StaffOtherSessionsEnded):
            await self._end(
                {
                    s.session_hash
                    for s in self._sockets.values()
                    if s.user.id == event.user_id and s.session_hash != event.kept_session_hash
                }
            )

    async def check(self) -> None:
        """One round: a single query for every session behind this process's staff sockets."""
        self._forget_old_ends()
        hashes = {s.session_hash for s in self._sockets.values()}
        used, self._used = self._used & hashes, set()
        if not hashes:
            return
        live = await self.auth.live_sessions(hashes, used)
        gone = {
            s.session_hash
            for s in self._sockets.values()
            if s.session_hash in hashes and self._outlived(s, live.get(s.session_hash))
        }
        if gone:
            await self._end(gone)

    @staticmethod
    def _outlived(staff_socket: StaffSocket, now_user: StaffUser | None) -> bool:
        """The session is gone, or the member's role or route changed since the handshake (the
        socket's rooms and permissions were chosen for those)."""
        if now_user is None:
            return True
        return (now_user.role, now_user.route) != (staff_socket.user.role, staff_socket.user.route)

    async def _end(self, session_hashes: set[str]) -> None:
        if not session_hashes:
            return
        now = time.monotonic()
        for session_hash in session_hashes:
            self._ended.setdefault(session_hash, now)
        # A socket stays registered until its disconnect handler runs; one still in its handshake
        # cannot be closed here, and refuses itself when the handshake ends.
        closing = [s for s in self._sockets.values() if s.session_hash in session_hashes]
        for staff_socket in closing:
            try:
                await self.sio.disconnect(staff_socket.sid, namespace=staff_socket.namespace)
            except Exception:
                log.exception("closing a staff socket failed")

    def _forget_old_ends(self) -> None:
        """An ended session's sockets are closed long before this; new handshakes with it fail."""
        cutoff = time.monotonic() - ENDED_MEMORY_SECONDS
        self._ended = {h: at for h, at in self._ended.items() if at > cutoff}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="session-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception as error:
                # The type only: a database error's text would carry the session hashes it was given.
                log.error("checking staff sessions failed: %s", type(error).__name__)
