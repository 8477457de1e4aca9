"""MemoryRateLimiter: fixed-window request counts in one process (the embedded default).

Each key counts the requests of the current window (`window_seconds` long, aligned to the
clock); over the limit, the answer is the time left until the next window. Counters of past
windows are dropped now and then, so memory follows the number of active callers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class MemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.time, sweep_every: int = 10_000) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, int]] = {}  # key → (window number, requests)
        self._sweep_every = sweep_every
        self._since_sweep = 0

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        now = self._clock()
        window = math.floor(now / window_seconds)
        number, count = self._counts.get(key, (window, 0))
        count = count + 1 if number == window else 1
        self._counts[key] = (window, count)
        self._since_sweep += 1
        if self._since_sweep >= self._sweep_every:
            self._sweep(window)
        if count <= limit:
            return None
        return (window + 1) * window_seconds - now

    def _sweep(self, window: int) -> None:
        self._since_sweep = 0
        self._counts = {k: v for k, v in self._counts.items() if v[0] >= window}
