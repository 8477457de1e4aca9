"""SAQ on the real Redis (127.0.0.1:6379): a queue with a name unique to the test, and workers
running as asyncio tasks of the test.

- `saq_queue`: a `SaqJobQueue` on a fresh queue; its Redis keys are deleted afterwards.
- `start_worker(runner, ...)`: a SAQ worker (the production `saq_worker`) on its own
  connection to that queue, running `runner` for every job; stopped at the end of the test.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from saq.queue.redis import RedisQueue

from smarter.adapters.in_process_job_queue import Runner
from smarter.adapters.saq_job_queue import SaqJobQueue
from smarter.entrypoints.worker import saq_worker

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_TIMEOUT_SECONDS = 5

StartWorker = Callable[..., Awaitable[Any]]


async def _delete_keys(queue: RedisQueue) -> None:
    patterns = (f"saq:{queue.name}:*", f"saq:job:{queue.name}:*", f"smarter:queue:{queue.name}:*")
    for pattern in patterns:
        keys = [key async for key in queue.redis.scan_iter(match=pattern, count=500)]
        if keys:
            await queue.redis.delete(*keys)


@pytest.fixture
async def saq_queue() -> AsyncIterator[SaqJobQueue]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    queue = RedisQueue.from_url(REDIS_URL, name=name)
    await queue.connect()
    yield SaqJobQueue(queue, timeout_seconds=TEST_TIMEOUT_SECONDS)
    await _delete_keys(queue)
    await queue.disconnect()


@pytest.fixture
async def start_worker(saq_queue: SaqJobQueue) -> AsyncIterator[StartWorker]:
    running: list[tuple[Any, asyncio.Task[None], RedisQueue]] = []

    async def start(runner: Runner, *, concurrency: int = 4) -> Any:
        own = RedisQueue.from_url(REDIS_URL, name=saq_queue.queue.name)
        await own.connect()
        queue = SaqJobQueue(own, timeout_seconds=TEST_TIMEOUT_SECONDS)
        worker = saq_worker(
            queue,
            runner,
            concurrency=concurrency,
            timeout_seconds=TEST_TIMEOUT_SECONDS,
            grace_seconds=1,
        )
        worker.SIGNALS = []  # the test's event loop keeps its own signal handling
        task = asyncio.create_task(worker.start())
        running.append((worker, task, own))
        return worker

    yield start
    for worker, task, own in running:
        await worker.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await own.disconnect()
