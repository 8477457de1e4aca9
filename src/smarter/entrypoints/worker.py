"""`smarter worker`: the provisioning worker on SAQ and Redis, and its in-process twin.

One SAQ function, `run_job`, runs every job: it decodes the job, opens a dishka request scope
(one unit of work per job) and calls `ProvisioningJobs.run`. A run that asks to run again later
is due again through the `after_process` hook once SAQ has marked it finished, and a pump hands
due jobs to SAQ (see `SaqJobQueue`). A SAQ cron job sweeps for lagging work every minute, and
the outbox relay runs beside the jobs. `serve` without Redis uses `EmbeddedProvisioning`
instead: the same runner on the in-process queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from dishka import AsyncContainer
from saq import CronJob, Worker
from saq.types import Context, TimersDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.in_process_job_queue import InProcessJobQueue, Runner
from smarter.adapters.saq_job_queue import RUN_JOB, SaqJobQueue
from smarter.adapters.sql.outbox import SqlOutboxRelay
from smarter.application.infrastructure import (
    Certificates,
    Cluster,
    DnsResolver,
    DnsZones,
    JobQueue,
)
from smarter.application.jobs import Job, SweepProvisioning, UnknownJob, decode_job
from smarter.application.provisioning import ProvisioningJobs, ProvisioningPolicy
from smarter.application.request_context import request_id_in, serving
from smarter.entrypoints.relay import relay_outbox
from smarter.entrypoints.settings import ConfigurationError, Settings
from smarter.entrypoints.webhook_loop import deliver_webhooks
from smarter.entrypoints.worker_metrics import count_client_statuses, record_job, serve_metrics

logger = logging.getLogger(__name__)

SWEEP_CRON = "* * * * *"
SWEEP_SECONDS = 60.0
PUMP_SECONDS = 0.5


def job_runner(container: AsyncContainer, retry_seconds: float) -> Runner:
    """Run one job in its own request scope; a job that raises runs again after a while."""

    async def run(job: Job) -> float | None:
        started, outcome = time.perf_counter(), "failed"
        try:
            async with container() as request:
                jobs = await request.get(ProvisioningJobs)
                again = await jobs.run(job)
            outcome = "done" if again is None else "again"
            return again
        except Exception:
            logger.exception("job %s failed; it runs again in %.0f s", job.key, retry_seconds)
            return retry_seconds
        finally:
            record_job(job, outcome, started)

    return run


# -- SAQ ------------------------------------------------------------------------------------


class WorkerContext(Context, total=False):
    runner: Runner


async def run_job(ctx: WorkerContext, *, job: dict[str, Any]) -> float | None:
    try:
        decoded = decode_job(job)
    except UnknownJob as error:  # queued by another version: retrying cannot help
        logger.error("job dropped: %s", error)
        return None
    with serving(request_id_in(job)):  # the request that caused it, in the job's log lines
        return await ctx["runner"](decoded)


async def sweep_provisioning(ctx: WorkerContext) -> None:
    await ctx["runner"](SweepProvisioning())


def saq_worker(
    queue: SaqJobQueue,
    runner: Runner,
    *,
    concurrency: int = 8,
    timeout_seconds: int = 60,
    grace_seconds: int | None = None,
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
) -> Worker[WorkerContext]:
    """A SAQ worker running `runner` for every job; `background` coroutines (the outbox relay)
    run from its startup to its shutdown. A stop waits up to `grace_seconds` (default: the
    job timeout) for running jobs, then cancels them (SAQ queues them again)."""
    tasks: list[asyncio.Task[None]] = []

    async def startup(ctx: WorkerContext) -> None:
        ctx["runner"] = runner
        tasks.append(asyncio.create_task(_pump_requests(queue)))
        tasks.extend(asyncio.create_task(work()) for work in background)

    async def after_process(ctx: WorkerContext) -> None:
        await queue.after_run(ctx["job"])

    async def shutdown(_ctx: WorkerContext) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    sweep = CronJob(sweep_provisioning, cron=SWEEP_CRON, timeout=timeout_seconds, retries=1)
    return Worker(
        queue.queue,
        functions=[(RUN_JOB, run_job)],
        cron_jobs=[sweep],
        concurrency=concurrency,
        startup=startup,
        shutdown=shutdown,
        after_process=after_process,
        # SAQ's sweep retries the jobs of a worker that died once they are past their timeout.
        timers=TimersDict(
            schedule=1, worker_info=10, sweep=max(1, min(60, timeout_seconds // 3)), abort=1
        ),
        # Idle slots wait for a job at most a second, so a stop does not wait for the grace
        # period when nothing runs; running jobs get up to their timeout to finish.
        dequeue_timeout=1.0,
        shutdown_grace_period_s=timeout_seconds if grace_seconds is None else grace_seconds,
    )


async def _pump_requests(queue: SaqJobQueue) -> None:
    """Hand SAQ the jobs that became due (delays, requests behind a running job)."""
    while True:
        try:
            await queue.pump()
        except Exception:
            logger.exception("sending the pending run requests failed; trying again")
        await asyncio.sleep(PUMP_SECONDS)


async def run_worker(settings: Settings) -> None:
    """Run the SAQ worker until SIGINT or SIGTERM; finished jobs complete, the rest retry."""
    from smarter.entrypoints.wiring import make_container

    container = make_container(settings)
    try:
        queue = await container.get(JobQueue)
        if not isinstance(queue, SaqJobQueue):
            raise ConfigurationError("`smarter worker` needs SMARTER_REDIS_URL (SAQ on Redis)")
        policy = await container.get(ProvisioningPolicy)
        relay = await container.get(SqlOutboxRelay)
        # Build the provider clients now: a bad setting fails here, and the first job does
        # not spend its timeout loading SDKs.
        for port in (DnsZones, DnsResolver, Cluster, Certificates):
            await container.get(port)
        poll = settings.outbox_poll_seconds
        sessions = await container.get(async_sessionmaker[AsyncSession])
        serve_metrics(settings)
        worker = saq_worker(
            queue,
            job_runner(container, min(policy.max_retry_seconds, SWEEP_SECONDS)),
            concurrency=settings.worker_concurrency,
            timeout_seconds=settings.worker_job_timeout_seconds,
            background=[
                lambda: relay_outbox(relay, poll_seconds=poll),
                lambda: count_client_statuses(sessions),
                lambda: deliver_webhooks_of(container, settings),
            ],
        )
        await worker.start()
    finally:
        await container.close()


def deliver_webhooks_of(container: AsyncContainer, settings: Settings) -> Coroutine[Any, Any, None]:
    return deliver_webhooks(
        container,
        poll_seconds=settings.webhook_poll_seconds,
        concurrency=settings.webhook_concurrency,
    )


# -- in-process -----------------------------------------------------------------------------


class EmbeddedProvisioning:
    """The embedded default's worker: the in-process queue, the relay and a periodic sweep,
    all as tasks of the serving process."""

    def __init__(self, container: AsyncContainer, settings: Settings) -> None:
        self._container = container
        self._settings = settings
        self._tasks: list[asyncio.Task[None]] = []
        self._queue: InProcessJobQueue | None = None

    async def start(self, *, sweep: bool = True) -> None:
        queue = await self._container.get(JobQueue)
        if not isinstance(queue, InProcessJobQueue):
            return  # a separate `smarter worker` does the work
        policy = await self._container.get(ProvisioningPolicy)
        queue.start(job_runner(self._container, min(policy.max_retry_seconds, SWEEP_SECONDS)))
        self._queue = queue
        relay = await self._container.get(SqlOutboxRelay)
        poll = self._settings.outbox_poll_seconds
        sessions = await self._container.get(async_sessionmaker[AsyncSession])
        self._tasks = [
            asyncio.create_task(relay_outbox(relay, poll_seconds=poll)),
            asyncio.create_task(count_client_statuses(sessions)),
            asyncio.create_task(deliver_webhooks_of(self._container, self._settings)),
        ]
        if sweep:
            self._tasks.append(asyncio.create_task(self._sweep(queue)))

    async def run_pending(self, wait_seconds: float = 30.0) -> None:
        """Send what the outbox holds and wait until the queue is idle (the demo's first
        start uses this so the demo client is ready before its URL is printed)."""
        relay = await self._container.get(SqlOutboxRelay)
        while await relay.relay_once():
            pass
        if self._queue is not None:
            await self._queue.drain(wait_seconds)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._queue is not None:
            await self._queue.stop()

    async def _sweep(self, queue: InProcessJobQueue) -> None:
        while True:
            with contextlib.suppress(Exception):
                await queue.enqueue(SweepProvisioning())
            await asyncio.sleep(SWEEP_SECONDS)
