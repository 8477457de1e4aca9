"""Request budgets: token buckets that pace calls to a provider (Route 53, the Kubernetes API).

A budget hands out tokens at `rate` per second with up to `burst` saved up. Taking tokens is a
reservation (the generic cell rate algorithm): a caller books its tokens and learns how long
to wait before using them, so callers queue up in order instead of retrying in a loop. In any
interval of `t` seconds at most `burst + rate * t` tokens are used.

The booking is made at the last moment before the call it pays for: `take` blocks the calling
thread (the thread that then sends the request), because a booking made earlier on the event
loop can be held back by a busy loop and then sent together with later ones, which the
provider sees as a burst beyond the budget.

- `LocalRequestBudget`: one process (the Kubernetes client-side rate, `reserve` on the event
  loop; Route 53 without Redis).
- `RedisRequestBudget`: every process on one Redis shares it (Route 53's limits are per AWS
  account, however many workers call it). The booking is one Lua script on Redis's own clock.

`penalize(seconds)` pushes the whole budget back, for every process sharing it: a provider
that answered "throttled" is the authority on its own rate.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class RequestBudget(Protocol):
    def take(self, cost: float = 1.0) -> None:
        """Block the calling thread until `cost` tokens may be used."""
        ...

    def penalize(self, seconds: float) -> None:
        """Hand out nothing more for `seconds` beyond what is booked already."""
        ...


def _check(rate: float, burst: float) -> None:
    if rate <= 0 or burst < 1:
        raise ValueError("a request budget needs a positive rate and a burst of at least 1")


class LocalRequestBudget:
    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check(rate, burst)
        self._rate, self._burst, self._clock, self._sleep = rate, burst, clock, sleep
        self._booked_until = 0.0  # when every token booked so far is paid for
        self._lock = threading.Lock()

    def book(self, cost: float = 1.0) -> float:
        """Book `cost` tokens; the seconds to wait before using them (0 when available)."""
        with self._lock:
            now = self._clock()
            self._booked_until = max(self._booked_until, now) + cost / self._rate
            return max(0.0, self._booked_until - self._burst / self._rate - now)

    def take(self, cost: float = 1.0) -> None:
        wait = self.book(cost)
        if wait > 0:
            self._sleep(wait)

    async def reserve(self, cost: float = 1.0) -> None:
        """`take` for the event loop (waits with asyncio, blocks nothing)."""
        wait = self.book(cost)
        if wait > 0:
            await asyncio.sleep(wait)

    def penalize(self, seconds: float) -> None:
        with self._lock:
            self._booked_until = max(self._booked_until, self._clock()) + seconds


# KEYS[1]: the budget. ARGV: rate, burst, cost, penalty (seconds). Returns the wait as a
# string (a Lua number leaves Redis as an integer).
_BOOK = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local booked = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
booked = booked + tonumber(ARGV[3]) / rate + tonumber(ARGV[4])
redis.call('SET', KEYS[1], string.format('%.6f', booked), 'EX', math.ceil(booked - now) + 60)
return string.format('%.6f', math.max(0, booked - burst / rate - now))
"""


class RedisRequestBudget:
    """On a synchronous Redis client (`redis.Redis`): it runs in the thread that calls."""

    def __init__(
        self,
        redis: Any,
        key: str,
        rate: float,
        burst: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check(rate, burst)
        self._key, self._rate, self._burst, self._sleep = key, rate, burst, sleep
        self._book = redis.register_script(_BOOK)

    def book(self, cost: float = 1.0) -> float:
        return float(self._book(keys=[self._key], args=[self._rate, self._burst, cost, 0]))

    def take(self, cost: float = 1.0) -> None:
        wait = self.book(cost)
        if wait > 0:
            self._sleep(wait)

    def penalize(self, seconds: float) -> None:
        self._book(keys=[self._key], args=[self._rate, self._burst, 0, seconds])
