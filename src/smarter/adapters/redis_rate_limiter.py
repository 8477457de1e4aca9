"""RedisRateLimiter: the RateLimiter port as a fixed window counted in Redis, in leases.

A window starts at the first request under a key and lasts `window_seconds`: the counter
`<prefix>:rate:<window ms>:<key>` counts what was handed out in it and, when new, gets the
window as its TTL, both inside one Lua script (atomic, no counter left without a TTL).

A process does not ask Redis for every request: it takes a *lease* of a few requests at once
(1% of the limit, at most 100; one below a limit of 200) and hands them out locally until the
lease is used up or the window ends. The trade-off, chosen for the chat hot path (a round trip
per request cost about a tenth of its CPU):

- the limit is never exceeded: Redis grants a lease only from what is left of the window;
- a key may be refused a little early, by the leases other processes hold but have not used
  (at most (processes - 1) x (lease - 1) requests, about 1% of the limit per process); with a
  single web process, or a limit under 200, counting is exact;
- a window's end is Redis's (its TTL), so Retry-After stays exact.

Fixed rather than sliding: one small key per caller; the price is that a caller may fit up to
twice the limit around a window's end, which is fine for abuse control. A key whose window is
used up is refused without asking Redis until the window ends, so a flood from one caller costs
no round trips. When Redis fails, requests are let through (logged): rate limiting must not
take chat down.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_MAX_KEYS: Final = 100_000  # leases remembered; forgotten all at once beyond
_MAX_LEASE: Final = 100

_TAKE: Final = """
local wanted = tonumber(ARGV[3])
local taken = redis.call('INCRBY', KEYS[1], wanted)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local granted = math.min(taken, tonumber(ARGV[2])) - (taken - wanted)
if granted < 0 then
  granted = 0
end
return {granted, ttl}
"""
"""KEYS: the counter; ARGV: window ms, limit, lease wanted. Returns {requests granted (0 when
the window is used up), milliseconds until the window ends}."""


def lease_size(limit: int) -> int:
    """How many requests one round trip takes: 1% of the limit, between 1 and 100."""
    return max(1, min(_MAX_LEASE, limit // 100))


class _Lease:
    __slots__ = ("exhausted", "left", "until")

    def __init__(self, left: int, until: float, exhausted: bool) -> None:
        self.left, self.until, self.exhausted = left, until, exhausted


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str = "smarter") -> None:
        self._prefix = prefix
        self._take = redis.register_script(_TAKE)
        self._leases: dict[str, _Lease] = {}  # counter → what this process holds of its window

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        window_ms = max(1, round(window_seconds * 1000))
        counter = f"{self._prefix}:rate:{window_ms}:{key}"
        lease = self._leases.get(counter)
        if lease is not None:
            now = time.monotonic()
            if lease.until > now:
                if lease.left > 0:
                    lease.left -= 1
                    return None
                if lease.exhausted:
                    return lease.until - now
            else:
                del self._leases[counter]
        wanted = lease_size(limit)
        try:
            granted, wait_ms = await self._take([counter], [window_ms, limit, wanted])
        except RedisError as error:
            logger.warning("rate limiter: Redis failed, letting %s through: %s", key, error)
            return None
        granted, wait = int(granted), max(int(wait_ms), 1) / 1000
        self._keep(counter, granted, time.monotonic() + wait, granted < wanted)
        return None if granted > 0 else wait

    def _keep(self, counter: str, granted: int, until: float, exhausted: bool) -> None:
        """Remember a lease, less the request it was taken for (merged with one taken
        meanwhile by a concurrent request of the same window)."""
        left = max(0, granted - 1)
        lease = self._leases.get(counter)
        if lease is not None and lease.until > time.monotonic():
            lease.left += left
            lease.until = until
            lease.exhausted = lease.exhausted or exhausted
            return
        if len(self._leases) >= _MAX_KEYS:
            self._leases.clear()
        self._leases[counter] = _Lease(left, until, exhausted)
