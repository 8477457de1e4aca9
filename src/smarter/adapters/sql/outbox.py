"""The outbox: jobs for the worker, stored in the transaction of the change that caused them."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.rows import OutboxRow, utc_now
from smarter.application.ports import Job


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

    def add(self, job: Job) -> None:
        """Queue `job`; the row is written with the unit of work's next flush or commit."""
        self._session.add(OutboxRow(job=encode_job(job), created_at=utc_now(), attempts=0))
