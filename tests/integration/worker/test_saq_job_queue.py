"""SaqJobQueue and the SAQ worker on the real Redis: keyed jobs, delays, one run per key at a
time across workers, and no request lost while a job of its key runs."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

from saq.job import Status

from smarter.adapters.saq_job_queue import SaqJobQueue
from smarter.application.jobs import Job, ReconcileClient
from tests.integration.worker.conftest import StartWorker


class Recorder:
    """A runner recording (key, start, end); `answers` are what runs of a key return."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.runs: list[tuple[str, float, float]] = []
        self.answers: dict[str, list[float | None]] = {}

    async def __call__(self, job: Job) -> float | None:
        start = time.monotonic()
        await asyncio.sleep(self.seconds)
        self.runs.append((job.key, start, time.monotonic()))
        answers = self.answers.get(job.key)
        return answers.pop(0) if answers else None

    def of(self, key: str) -> list[tuple[str, float, float]]:
        return [run for run in self.runs if run[0] == key]


async def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def settle(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_job_enqueued_many_times_is_queued_once_and_runs_once(
    saq_queue: SaqJobQueue, start_worker: StartWorker
) -> None:
    for _ in range(5):
        await saq_queue.enqueue(ReconcileClient(client_id=1))
    assert await saq_queue.queue.count("incomplete") == 1
    runner = Recorder()
    await start_worker(runner)
    await eventually(lambda: len(runner.of("client:1")) == 1)
    await asyncio.sleep(0.3)
    assert len(runner.of("client:1")) == 1


async def test_a_delayed_job_runs_after_its_delay_and_an_earlier_request_moves_it_up(
    saq_queue: SaqJobQueue, start_worker: StartWorker
) -> None:
    runner = Recorder()
    await start_worker(runner)
    started = time.monotonic()
    await saq_queue.enqueue(ReconcileClient(client_id=1), delay_seconds=2.0)
    await saq_queue.enqueue(ReconcileClient(client_id=2), delay_seconds=60.0)
    await saq_queue.enqueue(ReconcileClient(client_id=2), delay_seconds=0.0)
    await eventually(lambda: len(runner.of("client:1")) == 1, 6.0)
    first = runner.of("client:1")[0][1] - started
    assert 1.5 <= first < 4.5  # SAQ schedules by whole seconds
    await eventually(lambda: len(runner.of("client:2")) == 1, 4.0)
    assert runner.of("client:2")[0][1] - started < 3.0


async def test_a_run_that_asks_for_more_time_runs_again(
    saq_queue: SaqJobQueue, start_worker: StartWorker
) -> None:
    runner = Recorder()
    runner.answers["client:1"] = [0.0, 0.0, None]
    await start_worker(runner)
    await saq_queue.enqueue(ReconcileClient(client_id=1))
    await eventually(lambda: len(runner.of("client:1")) == 3)
    await asyncio.sleep(0.3)
    assert len(runner.of("client:1")) == 3


async def test_a_request_while_the_job_of_its_key_runs_gives_one_more_run_after_it(
    saq_queue: SaqJobQueue, start_worker: StartWorker
) -> None:
    runner = Recorder(seconds=0.4)
    await start_worker(runner)
    await saq_queue.enqueue(ReconcileClient(client_id=1))
    await settle(lambda: _is_active(saq_queue, "client:1"))
    asked = time.monotonic()
    await saq_queue.enqueue(ReconcileClient(client_id=1))
    await saq_queue.enqueue(ReconcileClient(client_id=1))
    await eventually(lambda: len(runner.of("client:1")) == 2)
    first, second = runner.of("client:1")
    assert second[1] >= first[2]
    assert second[1] > asked
    await asyncio.sleep(0.6)
    assert len(runner.of("client:1")) == 2


async def test_two_workers_never_run_one_key_at_once_and_lose_no_request(
    saq_queue: SaqJobQueue, start_worker: StartWorker
) -> None:
    runner = Recorder(seconds=0.03)
    await start_worker(runner, concurrency=4)
    await start_worker(runner, concurrency=4)
    keys = 8
    last_asked: dict[str, float] = {}
    for _round in range(15):
        for client_id in range(keys):
            last_asked[f"client:{client_id}"] = time.monotonic()
            await saq_queue.enqueue(ReconcileClient(client_id=client_id))
        await asyncio.sleep(0.02)

    def every_key_ran_after_its_last_request() -> bool:
        return all(
            any(start > asked for _k, start, _e in runner.of(key))
            for key, asked in last_asked.items()
        )

    await eventually(every_key_ran_after_its_last_request, 15.0)
    for key in last_asked:
        runs = sorted(runner.of(key), key=lambda run: run[1])
        for before, after in itertools.pairwise(runs):
            assert after[1] >= before[2], f"{key} ran twice at once"


async def _is_active(queue: SaqJobQueue, key: str) -> bool:
    found = await queue.queue.job(key)
    return found is not None and found.status == "active"


async def test_a_request_for_a_job_whose_worker_died_is_kept_and_sent_once_that_job_ends(
    saq_queue: SaqJobQueue,
) -> None:
    queue = saq_queue.queue
    await saq_queue.enqueue(ReconcileClient(client_id=1))
    taken = await queue.dequeue()  # a worker takes the job, then dies
    assert taken is not None
    await taken.update(status=Status.ACTIVE)
    await saq_queue.enqueue(ReconcileClient(client_id=1))
    assert await saq_queue.pump() == 0  # still running: kept for later
    assert await saq_queue.pending() == 1
    assert await queue.count("queued") == 0
    await queue.finish(taken, Status.ABORTED, error="swept")  # what SAQ's sweep ends with
    assert await saq_queue.pump() == 1
    assert await queue.count("queued") == 1
    assert await saq_queue.pending() == 0
    assert await saq_queue.pump() == 0


async def test_a_request_for_a_queued_job_that_has_not_started_is_not_kept(
    saq_queue: SaqJobQueue,
) -> None:
    await saq_queue.enqueue(ReconcileClient(client_id=1))
    await saq_queue.enqueue(ReconcileClient(client_id=1))
    assert await saq_queue.pending() == 0
    assert await saq_queue.queue.count("queued") == 1


async def test_a_stored_request_of_an_unknown_kind_is_dropped_not_retried_forever(
    saq_queue: SaqJobQueue,
) -> None:
    due = f"smarter:queue:{saq_queue.queue.name}:due"
    await saq_queue.queue.redis.zadd(due, {b'{"type":"RetiredJob"}': 0})
    assert await saq_queue.pump() == 0
    assert await saq_queue.pending() == 0
