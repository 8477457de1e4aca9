"""The outbox: jobs for the worker, stored in the transaction of the change that caused them.

The relay moves them to the job queue: in one transaction it claims a batch of rows, enqueues
each job and deletes the rows. A crash after the enqueue and before the commit sends the batch
again, which is harmless (jobs are keyed and idempotent); a row is never lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.sql.rows import OutboxRow, utc_now
from smarter.application.infrastructure import JobQueue
from smarter.application.ports import Job

# A session whose `info` holds a callable under this key calls it after each commit of jobs,
# so a relay in the same process can send them at once instead of at its next poll.
OUTBOX_COMMITTED = "smarter.outbox_committed"


def encode_job(job: Job) -> dict[str, Any]:
    """The job as JSON data: the same document as `msgspec.json.encode(job)`, tag included."""
    document: dict[str, Any] = msgspec.to_builtins(job)
    return document


def decode_job(document: dict[str, Any]) -> Job:
    """The job a stored document describes (any subclass of Job, found by its tag)."""
    kinds = tuple(_job_classes(Job))
    result: Job = msgspec.convert(document, type=kinds[0] if len(kinds) == 1 else _union(kinds))
    return result


def _job_classes(base: type[Job]) -> list[type[Job]]:
    found: list[type[Job]] = []
    for cls in base.__subclasses__():
        found.append(cls)
        found.extend(_job_classes(cls))
    return found


def _union(kinds: tuple[type[Job], ...]) -> Any:
    union: Any = kinds[0]
    for kind in kinds[1:]:
        union = union | kind
    return union


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._hooked = False

    def add(self, job: Job) -> None:
        """Queue `job`; the row is written with the unit of work's next flush or commit."""
        self._session.add(OutboxRow(job=encode_job(job), created_at=utc_now(), attempts=0))
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
            jobs = [decode_job(document) for document in claimed.scalars()]
            for job in jobs:
                await self._queue.enqueue(job)
            await session.commit()
            return len(jobs)
