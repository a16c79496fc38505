"""What the retention sweep keeps about itself: the counts of each sweep (never content), so the
console can show that retention runs and what it removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SweepCounts:
    """One sweep: conversations closed as inactive, then what the purge deleted."""

    closed_inactive: int = 0
    conversations: int = 0
    messages: int = 0
    notes: int = 0
    tokens: int = 0

    def __add__(self, other: SweepCounts) -> SweepCounts:
        return SweepCounts(
            self.closed_inactive + other.closed_inactive,
            self.conversations + other.conversations,
            self.messages + other.messages,
            self.notes + other.notes,
            self.tokens + other.tokens,
        )

    @property
    def anything(self) -> bool:
        return self != SweepCounts()


@dataclass(frozen=True)
class Sweep:
    ran_at: datetime
    counts: SweepCounts


class RetentionRepository(Protocol):
    async def add_sweep(self, sweep: Sweep, forget_before: datetime) -> None:
        """Keep ``sweep``, and forget the sweeps that ran before ``forget_before``."""
        ...

    async def sweeps(self) -> list[Sweep]:
        """Every sweep kept, the latest first."""
        ...
