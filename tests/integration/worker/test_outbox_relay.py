"""The outbox relay on SQLite and PostgreSQL: committed jobs reach the queue exactly once,
nothing is lost when the queue fails, and two relays at once never send a row twice."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.sql.outbox import SqlOutboxRelay
from smarter.adapters.sql.rows import OutboxRow, utc_now
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.application.jobs import Job, ReconcileClient, VerifyCustomDomain
from smarter.domain.environments import Platform


class RecordingQueue:
    def __init__(self, fail_after: int | None = None, pause: float = 0.0) -> None:
        self.jobs: list[Job] = []
        self._fail_after = fail_after
        self._pause = pause

    async def enqueue(self, job: Job, *, delay_seconds: float = 0.0) -> None:
        if self._fail_after is not None and len(self.jobs) >= self._fail_after:
            raise ConnectionError("redis is down")
        if self._pause:
            await asyncio.sleep(self._pause)
        self.jobs.append(job)


async def _commit(sessions: async_sessionmaker[AsyncSession], *jobs: Job) -> None:
    async with sessions() as session:
        uow = SqlUnitOfWork(session, Platform())
        for job in jobs:
            uow.outbox.add(job)
        await uow.commit()


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxRow)) or 0)


async def test_committed_jobs_are_sent_once_and_their_rows_removed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    queue = RecordingQueue()
    relay = SqlOutboxRelay(sessions, queue)
    await _commit(sessions, ReconcileClient(client_id=1), VerifyCustomDomain(domain_id=2))
    assert await relay.relay_once() == 2
    assert queue.jobs == [ReconcileClient(client_id=1), VerifyCustomDomain(domain_id=2)]
    assert await _rows(sessions) == 0
    assert await relay.relay_once() == 0
    assert len(queue.jobs) == 2


async def test_a_batch_is_sent_at_most_batch_size_rows_at_a_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    queue = RecordingQueue()
    relay = SqlOutboxRelay(sessions, queue, batch_size=4)
    await _commit(sessions, *(ReconcileClient(client_id=i) for i in range(10)))
    assert [await relay.relay_once() for _ in range(4)] == [4, 4, 2, 0]
    assert sorted(job.key for job in queue.jobs) == sorted(f"client:{i}" for i in range(10))


async def test_rows_stay_when_the_queue_fails_and_are_sent_later(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _commit(sessions, *(ReconcileClient(client_id=i) for i in range(3)))
    failing = SqlOutboxRelay(sessions, RecordingQueue(fail_after=1))
    with pytest.raises(ConnectionError):
        await failing.relay_once()
    assert await _rows(sessions) == 3  # the claim was rolled back
    queue = RecordingQueue()
    assert await SqlOutboxRelay(sessions, queue).relay_once() == 3


async def test_a_commit_with_jobs_wakes_the_relay_of_the_same_session_factory(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    relay = SqlOutboxRelay(sessions, RecordingQueue())
    assert not relay.committed.is_set()
    async with sessions() as session:
        uow = SqlUnitOfWork(session, Platform())
        uow.outbox.add(ReconcileClient(client_id=1))
        assert not relay.committed.is_set()
        await uow.commit()
    assert relay.committed.is_set()


async def test_two_relays_at_once_never_send_a_row_twice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _commit(sessions, *(ReconcileClient(client_id=i) for i in range(300)))
    queues = [RecordingQueue(pause=0.001), RecordingQueue(pause=0.001)]
    relays = [SqlOutboxRelay(sessions, queue, batch_size=25) for queue in queues]

    async def drain(relay: SqlOutboxRelay) -> None:
        while await relay.relay_once():
            pass

    await asyncio.gather(*(drain(relay) for relay in relays))
    sent = Counter(job.key for queue in queues for job in queue.jobs)
    assert len(sent) == 300
    assert set(sent.values()) == {1}
    assert await _rows(sessions) == 0


async def test_a_row_no_job_of_this_version_matches_is_dropped_and_the_rest_are_sent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        session.add(OutboxRow(job={"type": "RetiredJob"}, created_at=utc_now(), attempts=0))
        await session.commit()
    await _commit(sessions, ReconcileClient(client_id=1))
    queue = RecordingQueue()
    assert await SqlOutboxRelay(sessions, queue).relay_once() == 2
    assert queue.jobs == [ReconcileClient(client_id=1)]
    assert await _rows(sessions) == 0
