"""A request's id travels with the jobs it causes: into the outbox row written in its
transaction, through the relay into SAQ, and back into the context while the worker runs the
job (so the job's log lines carry it), and on into the follow-up jobs that job queues."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.saq_job_queue import SaqJobQueue
from smarter.adapters.sql.outbox import SqlOutboxRelay
from smarter.adapters.sql.rows import OutboxRow
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.application.jobs import Job, ReconcileClient, RenewCertificate
from smarter.application.request_context import REQUEST_ID, serving
from smarter.domain.environments import Platform
from tests.integration.worker.conftest import StartWorker


async def test_a_job_runs_with_the_id_of_the_request_that_caused_it_and_passes_it_on(
    sessions: async_sessionmaker[AsyncSession],
    saq_queue: SaqJobQueue,
    start_worker: StartWorker,
) -> None:
    seen: dict[str, str | None] = {}
    done = asyncio.Event()

    async def runner(job: Job) -> float | None:
        seen[job.key] = REQUEST_ID.get()
        if isinstance(job, ReconcileClient):
            await saq_queue.enqueue(RenewCertificate(name="follow-up"))  # a step it queues
        else:
            done.set()
        return None

    with serving("edge-4b1d"):  # what the HTTP layer does for `X-Request-Id: edge-4b1d`
        async with sessions() as session:
            uow = SqlUnitOfWork(session, Platform())
            uow.outbox.add(ReconcileClient(client_id=7))
            await uow.commit()
    async with sessions() as session:
        [document] = (await session.scalars(select(OutboxRow.job))).all()
    await start_worker(runner)
    assert await SqlOutboxRelay(sessions, saq_queue).relay_once() == 1  # outside any request
    await asyncio.wait_for(done.wait(), 10)

    assert document["request_id"] == "edge-4b1d"
    assert seen == {"client:7": "edge-4b1d", "certificate:follow-up": "edge-4b1d"}
    assert REQUEST_ID.get() is None
