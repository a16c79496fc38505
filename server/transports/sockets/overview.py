"""Pushes the supervisors' live view (`overview`) to the sockets allowed to see it. A burst of
changes costs one read and one emit: the view is pushed at most once per ``push_interval`` while the
line changes, and refreshed every ``refresh_every`` while anyone in this process watches (alerts
that come from time passing, such as a long wait)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import socketio

from server.services.events import (
    AwayChanged,
    ConversationChanged,
    ConversationStarted,
    EscalationAlert,
    EscalationChanged,
    Event,
    MessagePosted,
)
from server.services.supervision import SupervisionService
from server.transports import wire
from server.transports.sockets.counsellor import NAMESPACE
from server.transports.sockets.rooms import SUPERVISORS_ROOM

log = logging.getLogger(__name__)

CHANGES = (
    ConversationStarted,
    ConversationChanged,
    AwayChanged,
    MessagePosted,
    EscalationChanged,
    EscalationAlert,
)


class OverviewPush:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        supervision: SupervisionService,
        push_interval: timedelta,
        refresh_every: timedelta,
        shared: bool,
    ) -> None:
        """``shared``: several processes share the sockets' rooms (through Redis)."""
        self.sio = sio
        self.shared = shared
        self.supervision = supervision
        self.interval = push_interval.total_seconds()
        self.refresh = refresh_every.total_seconds()
        self._dirty = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._worker = asyncio.create_task(self._push_forever(), name="overview-push")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def on_event(self, event: Event) -> None:
        if isinstance(event, CHANGES):
            self._dirty.set()

    def changed(self) -> None:
        """Something outside the event bus changed the view (a console opened or closed)."""
        self._dirty.set()

    def _watched_here(self) -> bool:
        return bool(self.sio.manager.rooms.get(NAMESPACE, {}).get(SUPERVISORS_ROOM))

    async def _push_forever(self) -> None:
        """With several processes a change is pushed even when nobody watches in this one: the
        supervisor may be connected to another (the emit reaches them through Redis). Alone, a
        process with no supervisor connected reads nothing; one who connects gets the view then."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), timeout=self.refresh)
            changed = self._dirty.is_set()
            self._dirty.clear()
            if (changed and self.shared) or self._watched_here():
                try:
                    await self.push()
                except Exception:
                    log.exception("pushing the live view failed")
            await asyncio.sleep(self.interval)

    async def push(self) -> None:
        overview = await self.supervision.overview()
        await self.sio.emit("overview", wire.overview(overview), room=SUPERVISORS_ROOM, namespace=NAMESPACE)
