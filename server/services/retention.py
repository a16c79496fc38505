"""Retention with no gaps: open conversations that have not moved for ``chat.auto_close_after``
close as inactive (ChatService.close_inactive), and closed conversations past their retention are
deleted with their messages, notes and tokens (by cascade). Each sweep's counts, never content,
go to the log (one line) and are kept for the console (GET /api/staff/retention)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain import permissions
from server.domain.permissions import Action, Ownership
from server.domain.staff import StaffUser
from server.services.events import EventBus, RetentionPurged
from server.services.ports.clock import Clock
from server.services.ports.retention import Sweep, SweepCounts
from server.services.ports.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

#: How long the counts of each sweep are kept for the console.
SWEEPS_KEPT = timedelta(days=30)


@dataclass(frozen=True)
class RetentionReport:
    """What the console shows: the last sweep, and the totals of the sweeps kept (``since``)."""

    last: Sweep | None
    totals: SweepCounts
    sweeps: int
    since: datetime | None
    chat_retention: timedelta
    auto_close_after: timedelta | None


class RetentionService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        chat_retention: timedelta,
        events: EventBus | None = None,
        close_inactive: Callable[[], Awaitable[int]] | None = None,
        auto_close_after: timedelta | None = None,
    ) -> None:
        """``close_inactive`` (ChatService.close_inactive) runs first in every sweep, so a
        conversation nobody closed still ends and, later, falls under retention; ``events`` hears
        what was purged (counts, for the metrics)."""
        self.uow = uow
        self.clock = clock
        self.chat_retention = chat_retention
        self.events = events
        self.close_inactive = close_inactive
        self.auto_close_after = auto_close_after

    async def sweep(self) -> SweepCounts:
        closed = await self.close_inactive() if self.close_inactive is not None else 0
        now = self.clock()
        async with self.uow.write() as repos:
            purged = await repos.chat.delete_closed_before(now - self.chat_retention)
            tokens = await repos.chat.delete_expired_tokens(now)
            counts = SweepCounts(
                closed_inactive=closed,
                conversations=len(purged.conversation_ids),
                messages=purged.messages,
                notes=purged.notes,
                tokens=tokens,
            )
            await repos.retention.add_sweep(Sweep(now, counts), now - SWEEPS_KEPT)
        if counts.anything:
            log.info(
                "retention sweep: closed %d inactive conversations; purged %d conversations, "
                "%d messages, %d notes, %d expired tokens",
                counts.closed_inactive,
                counts.conversations,
                counts.messages,
                counts.notes,
                counts.tokens,
            )
        if counts.conversations and self.events is not None:
            await self.events.publish(RetentionPurged("conversations", counts.conversations))
        return counts

    async def report(self, reader: StaffUser) -> RetentionReport:
        permissions.require(reader.role, Action.RETENTION_READ, Ownership.NONE)
        async with self.uow.read() as repos:
            sweeps = await repos.retention.sweeps()
        totals = SweepCounts()
        for sweep in sweeps:
            totals += sweep.counts
        return RetentionReport(
            last=sweeps[0] if sweeps else None,
            totals=totals,
            sweeps=len(sweeps),
            since=sweeps[-1].ran_at if sweeps else None,
            chat_retention=self.chat_retention,
            auto_close_after=self.auto_close_after,
        )
