"""The embedded default's queue: one run per key at a time, delays, re-runs, a clean stop."""

from __future__ import annotations

import asyncio
import time

from smarter.adapters.in_process_job_queue import InProcessJobQueue
from smarter.application.jobs import Job, ReconcileClient


class Recorder:
    """A runner that records (key, start, end) and can be told what to answer."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.runs: list[tuple[str, float, float]] = []
        self.answers: dict[str, list[float | None]] = {}
        self.active: set[str] = set()
        self.overlaps = 0

    async def __call__(self, job: Job) -> float | None:
        if job.key in self.active:
            self.overlaps += 1
        self.active.add(job.key)
        start = time.monotonic()
        await asyncio.sleep(self.seconds)
        self.active.discard(job.key)
        self.runs.append((job.key, start, time.monotonic()))
        answers = self.answers.get(job.key)
        return answers.pop(0) if answers else None

    def count(self, key: str) -> int:
        return sum(1 for run in self.runs if run[0] == key)


async def test_a_queued_job_runs_once_even_when_enqueued_many_times() -> None:
    runner = Recorder()
    queue = InProcessJobQueue()
    queue.start(runner)
    for _ in range(5):
        await queue.enqueue(ReconcileClient(client_id=1))
    await queue.drain()
    assert runner.count("client:1") == 1


async def test_jobs_of_one_key_never_run_at_once_and_a_request_during_a_run_runs_after_it() -> None:
    runner = Recorder(seconds=0.05)
    queue = InProcessJobQueue()
    queue.start(runner)
    await queue.enqueue(ReconcileClient(client_id=1))
    await asyncio.sleep(0.01)  # now running
    await queue.enqueue(ReconcileClient(client_id=1))
    await queue.enqueue(ReconcileClient(client_id=1))
    await queue.drain()
    assert runner.overlaps == 0
    assert runner.count("client:1") == 2  # the run, then one more for the requests during it
    first, second = runner.runs
    assert second[1] >= first[2]


async def test_jobs_of_different_keys_run_concurrently() -> None:
    runner = Recorder(seconds=0.1)
    queue = InProcessJobQueue(concurrency=4)
    queue.start(runner)
    started = time.monotonic()
    for client_id in range(4):
        await queue.enqueue(ReconcileClient(client_id=client_id))
    await queue.drain()
    assert time.monotonic() - started < 0.3
    assert len(runner.runs) == 4


async def test_a_delayed_job_waits_for_its_delay_and_an_earlier_request_moves_it_up() -> None:
    runner = Recorder()
    queue = InProcessJobQueue()
    queue.start(runner)
    started = time.monotonic()
    await queue.enqueue(ReconcileClient(client_id=1), delay_seconds=0.2)
    await queue.enqueue(ReconcileClient(client_id=2), delay_seconds=5.0)
    await queue.enqueue(ReconcileClient(client_id=2), delay_seconds=0.05)
    await queue.drain()
    by_key = {key: start - started for key, start, _end in runner.runs}
    assert 0.19 <= by_key["client:1"] < 0.5
    assert 0.04 <= by_key["client:2"] < 0.2
    assert len(runner.runs) == 2


async def test_a_run_that_asks_for_more_time_runs_again_after_that_long() -> None:
    runner = Recorder()
    runner.answers["client:1"] = [0.1, 0.05, None]
    queue = InProcessJobQueue()
    queue.start(runner)
    await queue.enqueue(ReconcileClient(client_id=1))
    await queue.drain()
    starts = [start for _key, start, _end in runner.runs]
    assert len(starts) == 3
    assert starts[1] - starts[0] >= 0.09
    assert starts[2] - starts[1] >= 0.04


async def test_a_failing_run_does_not_stop_the_queue() -> None:
    calls: list[str] = []

    async def runner(job: Job) -> float | None:
        calls.append(job.key)
        if job.key == "client:1":
            raise RuntimeError("boom")
        return None

    queue = InProcessJobQueue()
    queue.start(runner)
    await queue.enqueue(ReconcileClient(client_id=1))
    await queue.drain()
    await queue.enqueue(ReconcileClient(client_id=2))
    await queue.drain()
    assert calls == ["client:1", "client:2"]


async def test_jobs_enqueued_before_start_run_once_it_starts() -> None:
    runner = Recorder()
    queue = InProcessJobQueue()
    await queue.enqueue(ReconcileClient(client_id=1))
    await asyncio.sleep(0.02)
    assert runner.runs == []
    queue.start(runner)
    await queue.drain()
    assert runner.count("client:1") == 1


async def test_stop_lets_a_running_job_finish_and_forgets_the_delayed_ones() -> None:
    runner = Recorder(seconds=0.05)
    queue = InProcessJobQueue()
    queue.start(runner)
    await queue.enqueue(ReconcileClient(client_id=1))
    await queue.enqueue(ReconcileClient(client_id=2), delay_seconds=0.1)
    await asyncio.sleep(0.01)
    await queue.stop(grace_seconds=1.0)
    await asyncio.sleep(0.15)
    assert [key for key, _s, _e in runner.runs] == ["client:1"]
    await queue.enqueue(ReconcileClient(client_id=3))  # ignored once stopped
    await asyncio.sleep(0.02)
    assert len(runner.runs) == 1


async def test_stop_cancels_a_job_that_outlives_the_grace_period() -> None:
    runner = Recorder(seconds=5.0)
    queue = InProcessJobQueue()
    queue.start(runner)
    await queue.enqueue(ReconcileClient(client_id=1))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    await queue.stop(grace_seconds=0.05)
    assert time.monotonic() - started < 1.0
    assert runner.runs == []
