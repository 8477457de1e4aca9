"""The job queue on SAQ and Redis, through SAQ's public API only.

Every job is one SAQ job of the function `run_job` whose SAQ key is the job's key. SAQ's
`Queue.enqueue` refuses a key it holds already (queued or running), so two workers never run
the same key at once and a key is queued at most once.

What SAQ cannot take yet waits in one sorted set of our own (`smarter:queue:<name>:due`;
member: the encoded job, score: when it is due; an earlier request lowers the score, a later
one changes nothing):

- a delayed job (SAQ's own scheduling is by whole seconds and cannot be moved earlier);
- a request for a key whose job is running: that job may have read the state before the change
  that asked for it, so the key must run once more after it. (A request for a key that is
  queued and not started is dropped: that job has not read anything yet.)

`pump()` hands the due members to SAQ; each worker calls it right after every job (the job's
key is free then) and about twice a second. A member is removed before it is offered (ZREM
decides which pump takes it) and put back if SAQ still holds its key, so a request is never
lost; at worst a key runs once more than needed, which idempotent jobs allow.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from saq.job import Job as SaqJob
from saq.job import Status
from saq.queue.redis import RedisQueue

from smarter.application.jobs import Job, UnknownJob, decode_job, encode_job
from smarter.application.request_context import with_request_id

RUN_JOB = "run_job"
_PUMP_BATCH = 500


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
        self._due = f"smarter:queue:{queue.name}:due"

    @property
    def queue(self) -> RedisQueue:
        return self._queue

    async def enqueue(self, job: Job, *, delay_seconds: float = 0.0) -> None:
        if delay_seconds > 0:
            await self._remember(job, time.time() + delay_seconds)
            return
        if not await self._offer(job):
            await self._remember(job, time.time())

    async def after_run(self, saq_job: SaqJob) -> None:
        """The worker's `after_process` hook: a run that asked for more time (its result) is
        due again then; what waited for this key is sent now that the key is free."""
        kwargs = saq_job.kwargs or {}
        if saq_job.function != RUN_JOB or "job" not in kwargs:
            return
        if saq_job.status == Status.COMPLETE and isinstance(saq_job.result, int | float):
            await self.enqueue(decode_job(kwargs["job"]), delay_seconds=float(saq_job.result))
        await self.pump()

    async def pump(self) -> int:
        """Offer SAQ the jobs that are due; how many it took."""
        now = time.time()
        due = await self._redis.zrangebyscore(self._due, "-inf", now, start=0, num=_PUMP_BATCH)
        taken = 0
        for member in due:
            score = await self._redis.zscore(self._due, member)
            if score is None or not await self._redis.zrem(self._due, member):
                continue  # another worker's pump took it
            try:
                job = decode_job(msgspec.json.decode(member))
            except (UnknownJob, msgspec.DecodeError):
                continue  # not ours to run (written by another version): dropped
            if await self._offer(job):
                taken += 1
            else:
                await self._remember(job, float(score))
        return taken

    async def pending(self) -> int:
        """How many requests wait in the due set (delayed, or behind a running job)."""
        return int(await self._redis.zcard(self._due))

    # -- inside ---------------------------------------------------------------------------

    @property
    def _redis(self) -> Any:
        return self._queue.redis

    async def _offer(self, job: Job) -> bool:
        """Queue `job` in SAQ; True if SAQ took it, or need not (its key is queued and not
        started, so that run reads the state after this request)."""
        added = await self._queue.enqueue(
            RUN_JOB,
            key=job.key,
            timeout=self._timeout,
            retries=self._retries,
            ttl=self._ttl,
            job=with_request_id(encode_job(job)),
        )
        if added is not None:
            return True
        current = await self._queue.job(job.key)
        # SAQ marks a job active before its function starts: "queued" has read nothing yet.
        return current is not None and current.status == Status.QUEUED

    async def _remember(self, job: Job, due: float) -> None:
        await self._redis.zadd(self._due, {_member(job): due}, lt=True)


def _member(job: Job) -> bytes:
    return msgspec.json.encode(encode_job(job))
