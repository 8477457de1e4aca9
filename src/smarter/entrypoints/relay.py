"""The outbox relay loop: sends committed jobs to the queue, in the worker (and in `serve`
for the embedded default).

It sends a batch whenever a local commit wakes it, or every `poll_seconds` (commits made by
other processes), and keeps going after errors: the rows stay until they were sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from smarter.adapters.sql.outbox import SqlOutboxRelay

logger = logging.getLogger(__name__)


async def relay_outbox(relay: SqlOutboxRelay, *, poll_seconds: float = 0.5) -> None:
    """Run until cancelled."""
    while True:
        relay.committed.clear()
        try:
            sent = await relay.relay_once()
        except Exception:
            logger.exception("outbox relay failed; trying again")
            sent = 0
        if sent >= relay.batch_size:
            continue  # more may be waiting
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(relay.committed.wait(), poll_seconds)
