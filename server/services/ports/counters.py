"""Counters that several server processes may share: rate limits per client and the sign-in
slowdown per username. Keys are keyed hashes; addresses and usernames never reach a counter."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class RateLimit(Protocol):
    """A moving one-minute window per key."""

    async def check(self, key: str) -> None:
        """Counts one hit for ``key``, or raises RateLimited (with ``retry_after``) when the key has
        used its allowance. An allowance of 0 means unlimited."""
        ...


class LoginAttempts(Protocol):
    """The sign-in slowdown per username (the rules are server/domain/login_throttle.py)."""

    async def begin(self, username: str, now: datetime) -> str:
        """Counts an attempt and marks it in flight; returns the key to ``finish`` it with. Raises
        RateLimited, without counting, while the username is slowed down or has an attempt in
        flight."""
        ...

    async def finish(self, key: str, succeeded: bool) -> None:
        """Ends the attempt in flight; a success forgets the username."""
        ...
