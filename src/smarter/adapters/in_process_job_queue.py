"""The job queue of the embedded default: asyncio tasks in the serving process, no Redis.

Jobs of one key never run at once: while a key's job runs, an enqueue of that key is kept
aside and the job runs again once the current run is finished (at the earliest time anyone
asked for). A run that returns a number of seconds is run again after that long. Delays are
event-loop timers; they live in memory only, so a restart forgets them (the outbox and the
periodic sweep bring back anything that still lags).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from smarter.application.jobs import Job

logger = logging.getLogger(__name__)

Runner = Callable[[Job], Awaitable[float | None]]


@dataclass
class _Waiting:
    job: Job
    due: float  # loop time
    timer: asyncio.TimerHandle | None = None


class InProcessJobQueue:
    def __init__(self, concurrency: int = 8) -> None:
        self._runner: Runner | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._waiting: dict[str, _Waiting] = {}  # not started yet (due now or later)
        self._running: dict[str, asyncio.Task[None]] = {}
        self._again: dict[str, _Waiting] = {}  # asked for while that key was running
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False

    def start(self, runner: Runner) -> None:
        """Begin running jobs with `runner` (jobs enqueued before wait until now)."""
        self._runner = runner
        self._stopping = False
        for key in list(self._waiting):
            self._arm(key)

    async def enqueue(self, job: Job, *, delay_seconds: float = 0.0) -> None:
        if self._stopping:
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + max(0.0, delay_seconds)
        key = job.key
        if key in self._running:
            self._again[key] = _earliest(self._again.get(key), job, due)
            return
        waiting = self._waiting.get(key)
        if waiting is not None and waiting.due <= due:
            return  # queued already, to run no later than asked
        self._waiting[key] = _earliest(waiting, job, due)
        self._idle.clear()
        self._arm(key)

    async def drain(self, wait_seconds: float = 10.0) -> None:
        """Wait until no job is waiting or running (delayed ones included); TimeoutError
        after `wait_seconds`."""
        await asyncio.wait_for(self._idle.wait(), wait_seconds)

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Forget waiting jobs, let running ones finish for a while, then cancel them."""
        self._stopping = True
        for waiting in [*self._waiting.values(), *self._again.values()]:
            if waiting.timer is not None:
                waiting.timer.cancel()
        self._waiting.clear()
        self._again.clear()
        running = list(self._running.values())
        if running:
            _done, pending = await asyncio.wait(running, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._running.clear()
        self._idle.set()

    # -- inside ---------------------------------------------------------------------------

    def _arm(self, key: str) -> None:
        waiting = self._waiting[key]
        if waiting.timer is not None:
            waiting.timer.cancel()
            waiting.timer = None
        if self._runner is None:
            return
        loop = asyncio.get_running_loop()
        waiting.timer = loop.call_at(waiting.due, self._launch, key)

    def _launch(self, key: str) -> None:
        waiting = self._waiting.pop(key, None)
        if waiting is None or self._stopping:
            return
        task = asyncio.get_running_loop().create_task(self._run(waiting.job), name=f"job {key}")
        self._running[key] = task

    async def _run(self, job: Job) -> None:
        assert self._runner is not None
        delay: float | None = None
        try:
            async with self._slots:
                delay = await self._runner(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The runner decides about retries; one that raises anyway is reported, not retried
            # here (the periodic sweep finds the work again).
            logger.exception("job %s failed", job.key)
        finally:
            self._running.pop(job.key, None)
        again = self._again.pop(job.key, None)
        if delay is not None:
            await self.enqueue(job, delay_seconds=delay)
        if again is not None:
            now = asyncio.get_running_loop().time()
            await self.enqueue(again.job, delay_seconds=again.due - now)
        if not self._waiting and not self._running:
            self._idle.set()


def _earliest(current: _Waiting | None, job: Job, due: float) -> _Waiting:
    if current is None or due < current.due:
        timer = current.timer if current is not None else None
        return _Waiting(job=job, due=due, timer=timer)
    return current
