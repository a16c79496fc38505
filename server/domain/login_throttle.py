"""The sign-in slowdown per username, kept in memory by each server process.

An attempt is counted when it starts, before the password is checked, so attempts sent in
parallel see each other. One attempt per username may be in flight; another one at the same time
is refused at once. From the ``free``-th attempt without a success on, each attempt blocks the
username for ``base`` doubled per attempt, up to ``cap``: after ``free`` failures the next attempt
waits ``base``. A refused attempt is not counted, so the
block ends when its time has passed: the user under attack signs in once the attack stops. A
success forgets the username, and so does a quiet spell of ``FORGET_AFTER``.

Usernames are kept only as keyed hashes with a key that lives in memory."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain.errors import RateLimited
from server.domain.tokens import EphemeralKeyedHash

FORGET_AFTER = timedelta(minutes=15)
MAX_TRACKED_USERNAMES = 10_000
TRY_AGAIN_MESSAGE = "too many sign-in attempts; try again later"


@dataclass
class _Username:
    attempts: int = 0
    blocked_until: datetime | None = None
    last_attempt: datetime | None = None
    in_flight: bool = False


class LoginThrottle:
    def __init__(
        self,
        free: int,
        base: timedelta,
        cap: timedelta,
        keyed: Callable[[str], str] | None = None,
    ) -> None:
        self.free = free
        self.base = base
        self.cap = cap
        self.keyed = keyed or EphemeralKeyedHash()
        self._usernames: dict[str, _Username] = {}

    def delay_after(self, attempts: int) -> timedelta:
        """How long the username is blocked after its ``attempts``-th attempt without a success."""
        over = attempts - self.free
        if over < 0:
            return timedelta(0)
        seconds = self.base.total_seconds() * 2.0 ** min(over, 64)
        return min(timedelta(seconds=min(seconds, self.cap.total_seconds())), self.cap)

    def begin(self, username: str, now: datetime) -> str:
        """Counts an attempt and marks it in flight; returns the key to ``finish`` it with. Raises
        RateLimited, without counting, while the username is blocked or has an attempt in flight."""
        key = self.keyed(username)
        entry = self._usernames.get(key)
        if entry is None:
            if len(self._usernames) >= MAX_TRACKED_USERNAMES:
                self._forget_idle(now)
            entry = self._usernames[key] = _Username()
        if entry.in_flight:
            raise RateLimited(TRY_AGAIN_MESSAGE, retry_after=1)
        if entry.blocked_until is not None and now < entry.blocked_until:
            raise RateLimited(TRY_AGAIN_MESSAGE, retry_after=_seconds_until(entry.blocked_until, now))
        if entry.last_attempt is not None and now - entry.last_attempt >= FORGET_AFTER:
            entry.attempts = 0
        entry.attempts += 1
        entry.last_attempt = now
        entry.blocked_until = now + self.delay_after(entry.attempts)
        entry.in_flight = True
        return key

    def finish(self, key: str, succeeded: bool) -> None:
        """Ends the attempt in flight; a success forgets the username."""
        if succeeded:
            self._usernames.pop(key, None)
            return
        entry = self._usernames.get(key)
        if entry is not None:
            entry.in_flight = False

    def _forget_idle(self, now: datetime) -> None:
        """Bounds the memory a spray of usernames can take: first the quiet ones go, then, if
        that is not enough, every one that is neither blocked nor in flight."""
        for key, entry in list(self._usernames.items()):
            if not entry.in_flight and (
                entry.last_attempt is None or now - entry.last_attempt >= FORGET_AFTER
            ):
                del self._usernames[key]
        if len(self._usernames) >= MAX_TRACKED_USERNAMES:
            for key, entry in list(self._usernames.items()):
                if not entry.in_flight and (entry.blocked_until is None or entry.blocked_until <= now):
                    del self._usernames[key]


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))
