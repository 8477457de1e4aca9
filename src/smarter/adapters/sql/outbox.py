"""The outbox: jobs for the worker, stored in the transaction of the change that caused them.

The relay moves them to the job queue: in one transaction it claims a batch of rows, enqueues
each job and deletes the rows. A crash after the enqueue and before the commit sends the batch
again, which is harmless (jobs are keyed and idempotent); a row is never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.sql.rows import OutboxRow, utc_now
from smarter.application.infrastructure import JobQueue
from smarter.application.jobs import Job, UnknownJob, decode_job, encode_job
from smarter.application.request_context import request_id_in, serving, with_request_id

logger = logging.getLogger(__name__)

# A session whose `info` holds a callable under this key calls it after each commit of jobs,
# so a relay in the same process can send them at once instead of at its next poll.
OUTBOX_COMMITTED = "smarter.outbox_committed"


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._hooked = False

    def add(self, job: Job) -> None:
        """Queue `job`; the row is written with the unit of work's next flush or commit."""
        document = with_request_id(encode_job(job))  # the request that caused it, for logs
        self._session.add(OutboxRow(job=document, created_at=utc_now(), attempts=0))
        committed: Callable[[], None] | None = self._session.info.get(OUTBOX_COMMITTED)
        if committed is not None and not self._hooked:
            self._hooked = True
            event.listen(self._session.sync_session, "after_commit", lambda _s: committed())


class SqlOutboxRelay:
    """Claims outbox rows and hands their jobs to the queue (see the module's docstring).

    `committed` is set whenever a session of `sessions` commits jobs, so a relay loop in the
    same process can wait on it instead of polling only.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], queue: JobQueue, batch_size: int = 100
    ) -> None:
        self._sessions = sessions
        self._queue = queue
        self.batch_size = batch_size
        self.committed = asyncio.Event()
        info = {**sessions.kw.get("info", {}), OUTBOX_COMMITTED: self.committed.set}
        sessions.configure(info=info)

    async def relay_once(self) -> int:
        """Send one batch; the number of rows sent (0 when the outbox was empty)."""
        async with self._sessions() as session:
            # A plain read first: on SQLite the claim below takes the database's write lock.
            if await session.scalar(select(OutboxRow.id).limit(1)) is None:
                return 0
            # PostgreSQL: rows another relay holds are skipped, so no row is sent twice at
            # once. SQLite: the DELETE takes the write lock, which serializes relays.
            batch = (
                select(OutboxRow.id)
                .order_by(OutboxRow.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            )
            claimed = await session.execute(
                delete(OutboxRow).where(OutboxRow.id.in_(batch)).returning(OutboxRow.job)
            )
            documents = list(claimed.scalars())
            for document in documents:
                job = _decoded(document)
                if job is not None:
                    with serving(request_id_in(document)):
                        await self._queue.enqueue(job)
            await session.commit()
            return len(documents)


def _decoded(document: Any) -> Job | None:
    """The job, or None for a row no job of this version matches (written by a newer
    version, or damaged): it is dropped with an error, so it never blocks the rows after it."""
    try:
        return decode_job(document)
    except UnknownJob as error:
        logger.error("outbox row dropped: %s", error)
        return None
