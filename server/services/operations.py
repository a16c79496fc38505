"""The operator's view of a running service: the counts behind the metrics, and readiness."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from server.services.ports.chat import CounsellorsOnline
from server.services.ports.clock import Clock
from server.services.ports.operations import OperationalCounts, Probe

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Snapshot:
    waiting: int
    active: int
    counsellors_online: int
    texts_by_state: dict[str, int] = field(default_factory=dict)
    reminder_lag: timedelta = timedelta(0)
    escalations_open: dict[str, int] = field(default_factory=dict)
    escalations_near_deadline: int = 0
    escalations_deadline_missed: int = 0


class OperationsService:
    def __init__(
        self,
        counts: OperationalCounts,
        online: CounsellorsOnline,
        clock: Clock,
        deadline_warning: timedelta,
        probes: Sequence[Probe] = (),
    ) -> None:
        self.counts = counts
        self.online = online
        self.clock = clock
        self.deadline_warning = deadline_warning
        self.probes = tuple(probes)

    async def snapshot(self) -> Snapshot:
        now = self.clock()
        counts = await self.counts.counts(now, now + self.deadline_warning)
        due = counts.oldest_due_reminder
        return Snapshot(
            waiting=counts.waiting,
            active=counts.active,
            counsellors_online=len(self.online.language_sets()),
            texts_by_state=dict(counts.texts_by_state),
            reminder_lag=max(now - due, timedelta(0)) if due is not None else timedelta(0),
            escalations_open=dict(counts.escalations_open),
            escalations_near_deadline=counts.escalations_near_deadline,
            escalations_deadline_missed=counts.escalations_deadline_missed,
        )

    async def unready(self) -> list[str]:
        """The names of the backends that do not answer (empty: ready). Probes run together,
        each for at most PROBE_TIMEOUT_S."""
        results = await asyncio.gather(*(self._answers(probe) for probe in self.probes))
        return [probe.name for probe, answers in zip(self.probes, results, strict=True) if not answers]

    @staticmethod
    async def _answers(probe: Probe) -> bool:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                await probe.check()
        except Exception as error:
            log.warning("readiness: %s does not answer (%s)", probe.name, type(error).__name__)
            return False
        return True
