"""Rate limits and the sign-in slowdown, counted in this process or, with Redis, shared by every
process (the RateLimit and LoginAttempts ports).

Rate limits are moving one-minute windows of the ``limits`` library, on its memory or Redis
storage. The sign-in slowdown follows server/domain/login_throttle.py; in Redis its state per
username is one hash changed by one Lua script, so attempts sent to different processes at the same
time see each other. When Redis does not answer, each process falls back to counting alone (the
failure is logged and counted in kinline_backend_errors_total): a limit must not take the service
down."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from server.adapters.crypto import load_or_create_key
from server.domain.errors import RateLimited
from server.domain.login_throttle import FORGET_AFTER, TRY_AGAIN_MESSAGE, LoginThrottle
from server.domain.tokens import EphemeralKeyedHash, KeyedHash
from server.services.login_attempts import LocalLoginAttempts
from server.services.ports.counters import LoginAttempts, RateLimit

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

KEY_PREFIX = "kinline"
# An attempt in flight blocks a second one for at most this long, should its process die.
IN_FLIGHT_TTL_S = 30
ErrorHook = Callable[[str], None]


def shared_counter_key(data_key: bytes) -> bytes:
    """The key of the counters' HMACs when processes share Redis: derived from the data key, which
    every process of one service holds, so all of them hash an address to the same bucket."""
    return hmac.new(data_key, b"kinline shared counters v1", hashlib.sha256).digest()


def counter_hash(redis_url: str, data_key: str, data_key_file: Path) -> KeyedHash:
    """Shared processes: the derived key. One process: a key that lives only in its memory."""
    if not redis_url:
        return EphemeralKeyedHash()
    return KeyedHash(shared_counter_key(load_or_create_key(data_key, data_key_file)))


class WindowLimit:
    """The RateLimit port: ``per_minute`` hits per key in any moving minute."""

    def __init__(
        self,
        per_minute: int,
        storage: Storage,
        name: str,
        fallback: WindowLimit | None = None,
        on_error: ErrorHook | None = None,
    ) -> None:
        self.per_minute = per_minute
        self.name = name
        self._item = RateLimitItemPerMinute(max(per_minute, 1))
        self._limiter = MovingWindowRateLimiter(storage)
        self._fallback = fallback
        self._on_error = on_error

    async def check(self, key: str) -> None:
        if self.per_minute == 0:
            return
        try:
            allowed = await self._limiter.hit(self._item, self.name, key)
            if not allowed:
                stats = await self._limiter.get_window_stats(self._item, self.name, key)
                raise RateLimited(retry_after=_retry_after(stats.reset_time))
        except RateLimited:
            raise
        except Exception:
            if self._fallback is None:
                raise
            log.warning("the shared rate limit %s is unavailable; counting in this process", self.name)
            if self._on_error is not None:
                self._on_error("redis")
            await self._fallback.check(key)


def _retry_after(reset_time: float) -> int:
    return max(1, math.ceil(reset_time - time.time()))


# KEYS[1]: the username's hash. ARGV: now (s), in-flight TTL (s), forget after (s), then the delay
# in seconds after the 1st, 2nd, ... attempt (the last one holds for every later attempt).
# Returns {0, retry_after} when refused, {attempts, 0} when counted.
_BEGIN = """
local now = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'attempts', 'blocked_until', 'last', 'in_flight_until')
local attempts = tonumber(state[1]) or 0
local blocked_until = tonumber(state[2]) or 0
local last = tonumber(state[3])
local in_flight_until = tonumber(state[4]) or 0
if in_flight_until > now then return {0, '1'} end
if blocked_until > now then return {0, tostring(blocked_until - now)} end
if last and now - last >= tonumber(ARGV[3]) then attempts = 0 end
attempts = attempts + 1
local delays = #ARGV - 3
local delay = tonumber(ARGV[3 + math.min(attempts, delays)])
redis.call('HSET', KEYS[1], 'attempts', attempts, 'blocked_until', now + delay, 'last', now,
  'in_flight_until', now + tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) + delay))
return {attempts, '0'}
"""


class RedisLoginAttempts:
    """The LoginAttempts port in Redis, with the rules of the domain's LoginThrottle."""

    def __init__(
        self, redis: Redis, throttle: LoginThrottle, fallback: LoginAttempts, on_error: ErrorHook
    ) -> None:
        self._redis = redis
        self._throttle = throttle
        self._script = redis.register_script(_BEGIN)
        self._delays = _delay_table(throttle)
        self._fallback = fallback
        self._on_error = on_error
        self._local: set[str] = set()

    def _key(self, username: str) -> str:
        return f"{KEY_PREFIX}:login:{self._throttle.keyed(username)}"

    async def begin(self, username: str, now: datetime) -> str:
        key = self._key(username)
        args = [now.timestamp(), IN_FLIGHT_TTL_S, FORGET_AFTER.total_seconds(), *self._delays]
        try:
            attempts, retry_after = await self._script(keys=[key], args=args)
        except Exception:
            log.warning("the shared sign-in slowdown is unavailable; counting in this process")
            self._on_error("redis")
            local = await self._fallback.begin(username, now)
            self._local.add(local)
            return local
        if int(attempts) == 0:
            raise RateLimited(TRY_AGAIN_MESSAGE, retry_after=max(1, math.ceil(float(retry_after))))
        return key

    async def finish(self, key: str, succeeded: bool) -> None:
        if key in self._local:
            self._local.discard(key)
            await self._fallback.finish(key, succeeded)
            return
        try:
            if succeeded:
                await self._redis.delete(key)
            else:
                await self._redis.hset(key, "in_flight_until", 0)
        except Exception:
            log.warning("could not end a sign-in attempt in Redis; it ends by itself")
            self._on_error("redis")


def _delay_table(throttle: LoginThrottle) -> list[float]:
    """The delay after the 1st, 2nd, ... attempt, up to the first that reaches the cap."""
    delays: list[float] = []
    attempts = 1
    while True:
        delay = throttle.delay_after(attempts).total_seconds()
        delays.append(delay)
        if delay >= throttle.cap.total_seconds() or attempts > throttle.free + 64:
            return delays
        attempts += 1


class Counters:
    """Makes the rate limits and the sign-in slowdown of one app: in memory, or in Redis with an
    in-memory fallback. ``close()`` releases the Redis connections."""

    def __init__(self, redis_url: str, keyed: KeyedHash, on_error: ErrorHook) -> None:
        self.redis_url = redis_url
        self.keyed = keyed
        self._on_error = on_error
        self._memory = MemoryStorage()
        self._shared: Storage | None = None
        self._redis: Redis | None = None
        if redis_url:
            from redis.asyncio import Redis

            self._shared = RedisStorage(
                _limits_uri(redis_url), implementation="redispy", key_prefix=f"{KEY_PREFIX}:limits"
            )
            self._redis = Redis.from_url(redis_url)

    @property
    def redis(self) -> Redis | None:
        """The Redis client (for the readiness probe), when counting is shared."""
        return self._redis

    def rate_limit(self, name: str, per_minute: int) -> RateLimit:
        local = WindowLimit(per_minute, self._memory, name)
        if self._shared is None:
            return local
        return WindowLimit(per_minute, self._shared, name, fallback=local, on_error=self._on_error)

    def login_attempts(self, throttle: LoginThrottle) -> LoginAttempts:
        local = LocalLoginAttempts(throttle)
        if self._redis is None:
            return local
        return RedisLoginAttempts(self._redis, throttle, local, self._on_error)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def _limits_uri(redis_url: str) -> str:
    """``limits`` names its asyncio Redis storage ``async+redis://`` (``rediss`` with TLS)."""
    scheme, _, rest = redis_url.partition("://")
    return f"async+{scheme}://{rest}"
