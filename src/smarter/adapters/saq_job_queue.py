"""The job queue on SAQ and Redis.

Every job is one SAQ job of the function `run_job` whose SAQ key is the job's key, so SAQ keeps
at most one job per key queued, scheduled or running: two workers never run the same key at
once.

SAQ drops an enqueue whose key is queued, scheduled or running already. The first two are fine
(that job has not read anything yet, so it sees the change that asked for it; a scheduled one
is moved earlier when asked). A running job may have read the state before the change, so the
request is then kept in a "run again" set (the encoded job, scored by when it is due):

- the worker's `after_process` hook (`run_again`) takes its job's requests out of the set and
  enqueues them once SAQ has marked the job finished (the fast path);
- `pump()`, which the worker calls every second, enqueues whatever is left in the set, such as
  requests for a job SAQ's sweep is aborting, or for one whose worker was killed.

A request is written to the set before checking again that its job is still running, so a
job finishing meanwhile never loses it; at worst a key runs once more than needed, which the
idempotent jobs allow. A worker killed in the middle of a job leaves it "active" in Redis until
SAQ's sweep finds it past its timeout and retries it.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from saq.job import ABORT_ID_PREFIX, TERMINAL_STATUSES, Status
from saq.job import Job as SaqJob
from saq.queue.redis import RedisQueue

from smarter.adapters.sql.outbox import decode_job, encode_job
from smarter.application.ports import Job

RUN_JOB = "run_job"
_ATTEMPTS = 3
_PUMP_BATCH = 500
# How long SAQ's sweep waits for the worker of a job past its timeout to confirm the abort
# before retrying the job (SAQ: 5 s). A live worker cancels such a job itself and confirms
# within its one-second abort check; a dead one never does.
SWEEP_ABORT_WAIT_SECONDS = 2.0


class SweepingRedisQueue(RedisQueue):
    """SAQ's Redis queue, retrying a dead worker's jobs sooner (see above)."""

    async def sweep(self, lock: int = 60, abort: float = SWEEP_ABORT_WAIT_SECONDS) -> list[str]:
        return await super().sweep(lock, abort)


class SaqJobQueue:
    def __init__(
        self,
        queue: RedisQueue,
        *,
        timeout_seconds: int = 60,
        retries: int = 5,
        ttl_seconds: int = 300,
    ) -> None:
        self._queue = queue
        self._timeout = timeout_seconds
        self._retries = retries
        self._ttl = ttl_seconds
        self._again = queue.namespace("smarter:again")
        self._incomplete = queue.namespace("incomplete")

    @property
    def queue(self) -> RedisQueue:
        return self._queue

    async def enqueue(self, job: Job, *, delay_seconds: float = 0.0) -> None:
        due = time.time() + max(0.0, delay_seconds)
        for _ in range(_ATTEMPTS):
            if await self._add(job, due):
                return
            current = await self._queue.job(job.key)
            if current is None or current.status in TERMINAL_STATUSES:
                # Finished in between, or an abort mark of a finished job still blocks the key.
                await self._redis.delete(f"{ABORT_ID_PREFIX}{job.key}")
                continue
            if current.status == Status.QUEUED:
                await self._pull_earlier(job.key, due)
                return
            # Running (or being aborted): ask for another run, then make sure it still runs.
            await self._remember(job, due)
            if await self._is_incomplete(job.key):
                return
        await self._remember(job, due)  # still racing: `pump` sends it

    async def run_again(self, saq_job: SaqJob) -> None:
        """The `after_process` hook: queue the finished job's key again if a run was asked
        for while it ran, or if the run itself asked for more time (its result)."""
        kwargs = saq_job.kwargs or {}
        if saq_job.function != RUN_JOB or "job" not in kwargs:
            return
        job = decode_job(kwargs["job"])
        if saq_job.status == Status.COMPLETE and isinstance(saq_job.result, int | float):
            await self.enqueue(job, delay_seconds=float(saq_job.result))
        member = _member(job)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zscore(self._again, member)
            pipe.zrem(self._again, member)
            due, _removed = await pipe.execute()
        if due is not None:
            await self.enqueue(job, delay_seconds=float(due) - time.time())

    async def pump(self) -> int:
        """Enqueue the requests left in the "run again" set; how many there were."""
        taken = await self._redis.zpopmin(self._again, _PUMP_BATCH)
        for member, due in taken:
            job = decode_job(msgspec.json.decode(member))
            await self.enqueue(job, delay_seconds=float(due) - time.time())
        return len(taken)

    # -- inside ---------------------------------------------------------------------------

    @property
    def _redis(self) -> Any:
        return self._queue.redis

    async def _add(self, job: Job, due: float) -> bool:
        scheduled = int(due) + 1 if due > time.time() + 0.5 else 0
        added = await self._queue.enqueue(
            RUN_JOB,
            key=job.key,
            scheduled=scheduled,
            timeout=self._timeout,
            retries=self._retries,
            ttl=self._ttl,
            job=encode_job(job),
        )
        return added is not None

    async def _remember(self, job: Job, due: float) -> None:
        # LT: a new request, or an earlier one, is written; a later one changes nothing.
        await self._redis.zadd(self._again, {_member(job): due}, lt=True)

    async def _pull_earlier(self, key: str, due: float) -> None:
        # Queued jobs have score 0 and scheduled ones their time: LT moves only a later one,
        # XX never brings back one that finished meanwhile.
        job_id = self._queue.job_id(key)
        await self._redis.zadd(self._incomplete, {job_id: max(1, int(due))}, xx=True, lt=True)

    async def _is_incomplete(self, key: str) -> bool:
        return await self._redis.zscore(self._incomplete, self._queue.job_id(key)) is not None


def _member(job: Job) -> bytes:
    return msgspec.json.encode(encode_job(job))
