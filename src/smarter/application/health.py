"""Readiness: whether this process can serve, as the checks of what it depends on say.

Each check names a dependency (`database`, `redis`) and answers None when it is fine, or what is
wrong. Checks run concurrently, each within its timeout (a hung dependency is "did not answer
within 2 s", not a hung probe), and one answer is shared for a second by every caller, so that
probes and curious clients cost the dependencies at most one round of checks per second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Final, Protocol

import msgspec

CHECK_TIMEOUT_SECONDS: Final = 2.0
REUSE_SECONDS: Final = 1.0
OK: Final = "ok"


class HealthCheck(Protocol):
    name: str

    async def problem(self) -> str | None:
        """None when the dependency is usable, else what is wrong with it."""
        ...


class ReadinessReport(msgspec.Struct, frozen=True, kw_only=True):
    ready: bool
    checks: dict[str, str]  # name -> "ok" or the problem

    @property
    def problems(self) -> str:
        return "; ".join(f"{name}: {state}" for name, state in self.checks.items() if state != OK)


class Readiness:
    def __init__(
        self,
        checks: Sequence[HealthCheck],
        *,
        timeout_seconds: float = CHECK_TIMEOUT_SECONDS,
        reuse_seconds: float = REUSE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = tuple(checks)
        self._timeout = timeout_seconds
        self._reuse = reuse_seconds
        self._monotonic = monotonic
        self._last: tuple[float, ReadinessReport] | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> ReadinessReport:
        async with self._lock:  # callers arriving during a round wait for its answer
            if self._last is not None and self._monotonic() - self._last[0] < self._reuse:
                return self._last[1]
            states = await asyncio.gather(*(self._state(check) for check in self._checks))
            checks = dict(zip((check.name for check in self._checks), states, strict=True))
            report = ReadinessReport(ready=all(s == OK for s in states), checks=checks)
            self._last = (self._monotonic(), report)
            return report

    async def _state(self, check: HealthCheck) -> str:
        try:
            problem = await asyncio.wait_for(check.problem(), self._timeout)
        except TimeoutError:
            return f"did not answer within {self._timeout:g} s"
        except Exception as error:  # a check that fails to run is a failing check
            return f"check failed: {type(error).__name__}: {error}"
        return OK if problem is None else problem
