"""The sign-in slowdown kept in this process's memory: the default for one process."""

from __future__ import annotations

from datetime import datetime

from server.domain.login_throttle import LoginThrottle


class LocalLoginAttempts:
    """The LoginAttempts port over the domain's in-memory LoginThrottle."""

    def __init__(self, throttle: LoginThrottle) -> None:
        self.throttle = throttle

    async def begin(self, username: str, now: datetime) -> str:
        return self.throttle.begin(username, now)

    async def finish(self, key: str, succeeded: bool) -> None:
        self.throttle.finish(key, succeeded)
