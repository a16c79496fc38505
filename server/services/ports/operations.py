"""What the operator's views (metrics, readiness) read: a few cheap counts, and probes of the
backends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Counts:
    """Counts read at one moment, never content. ``oldest_due_reminder``: when the oldest reminder
    text that is due and still unsent fell due (None: none is)."""

    waiting: int = 0
    active: int = 0
    texts_by_state: Mapping[str, int] = field(default_factory=dict)
    oldest_due_reminder: datetime | None = None
    escalations_open: Mapping[str, int] = field(default_factory=dict)
    escalations_near_deadline: int = 0
    escalations_deadline_missed: int = 0


class OperationalCounts(Protocol):
    async def counts(self, now: datetime, warn_before: datetime) -> Counts:
        """``warn_before``: an unacknowledged escalation whose deadline falls before it (and not
        before ``now``) is near its deadline."""
        ...


class Probe(Protocol):
    """One backend the service needs (the database, Redis)."""

    name: str

    async def check(self) -> None:
        """Returns when the backend answers a trivial request; raises otherwise."""
        ...
