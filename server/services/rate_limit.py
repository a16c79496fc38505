"""A sliding one-minute window per opaque key. Keys are keyed hashes; addresses never arrive here."""

from __future__ import annotations

import math
from collections import deque
from datetime import timedelta

from server.domain.errors import RateLimited
from server.services.ports.clock import Clock

WINDOW = timedelta(minutes=1)
MAX_TRACKED_KEYS = 100_000


class RateLimiter:
    def __init__(self, per_minute: int, clock: Clock) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        """Count one hit for key, or raise RateLimited with the seconds until the oldest hit leaves
        the window. A limit of 0 means unlimited."""
        if self.per_minute == 0:
            return
        now = self.clock().timestamp()
        if len(self._hits) > MAX_TRACKED_KEYS:
            self._forget_idle(now)
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= WINDOW.total_seconds():
            hits.popleft()
        if len(hits) >= self.per_minute:
            raise RateLimited(retry_after=math.ceil(WINDOW.total_seconds() - (now - hits[0])))
        hits.append(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or now - hits[-1] >= 60]:
            del self._hits[key]
