"""RedisRateLimiter: the RateLimiter port as a fixed window counted in Redis, one round trip.

A window starts at the first request under a key and lasts `window_seconds`: the counter
`<prefix>:rate:<window ms>:<key>` is incremented and, when new, given the window as its TTL,
both inside one Lua script (atomic, no counter left without a TTL). Over the limit, the answer is
the counter's remaining TTL: when the window lets the next request in.

Fixed rather than sliding: one small key per caller and an exact Retry-After; the price is that
a caller may fit up to twice the limit around a window's end, which is fine for abuse control.
A refused key is remembered in the process until its window ends, so a flood from one caller
is refused without a Redis round trip each. When Redis fails, requests are let through
(logged): rate limiting must not take chat down.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_MAX_REFUSED: Final = 100_000  # keys remembered as refused; forgotten all at once beyond

_HIT: Final = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if count > tonumber(ARGV[2]) then
  return ttl
end
return -1
"""
"""KEYS: the counter; ARGV: window ms, limit. Returns -1 if allowed, else milliseconds to wait."""


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str = "smarter") -> None:
        self._prefix = prefix
        self._hit = redis.register_script(_HIT)
        self._refused_until: dict[str, float] = {}  # counter → end of its window (monotonic)

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        window_ms = max(1, round(window_seconds * 1000))
        counter = f"{self._prefix}:rate:{window_ms}:{key}"
        refused_until = self._refused_until.get(counter)
        if refused_until is not None:
            wait = refused_until - time.monotonic()
            if wait > 0:
                return wait
            del self._refused_until[counter]
        try:
            wait_ms = int(await self._hit([counter], [window_ms, limit]))
        except RedisError as error:
            logger.warning("rate limiter: Redis failed, letting %s through: %s", key, error)
            return None
        if wait_ms < 0:
            return None
        wait = max(wait_ms, 1) / 1000
        if len(self._refused_until) >= _MAX_REFUSED:
            self._refused_until.clear()
        self._refused_until[counter] = time.monotonic() + wait
        return wait
