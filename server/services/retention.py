"""Automatic deletion: closed conversations past their retention, with their messages, notes and
tokens (by cascade)."""

from __future__ import annotations

import logging
from datetime import timedelta

from server.services.events import EventBus, RetentionPurged
from server.services.ports.clock import Clock
from server.services.ports.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class RetentionService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, chat_retention: timedelta, events: EventBus | None = None
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.chat_retention = chat_retention
        self.events = events

    async def sweep(self) -> int:
        now = self.clock()
        async with self.uow.write() as repos:
            deleted = await repos.chat.delete_closed_before(now - self.chat_retention)
            await repos.chat.delete_expired_tokens(now)
        if deleted:
            log.info("retention deleted %d closed conversations", len(deleted))
            if self.events is not None:
                await self.events.publish(RetentionPurged("conversations", len(deleted)))
        return len(deleted)
