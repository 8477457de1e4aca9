"""SqlChatRecorder: chat turns written off the hot path, in batches, one transaction each.

`record()` only appends to a queue; a background task (started by the first turn) writes what
has queued up as one transaction per batch, with a few multi-row statements (requests, new
conversations, their times, messages) whatever the batch's size. Woken by a turn, the writer
lingers a moment (`linger_seconds`) before taking a batch unless a full one is waiting, so
that a steady trickle of requests is written a few dozen turns per transaction rather than one
transaction per request (each costs the chat process several database round trips and the
CPU to build them). The statements are SQLAlchemy Core, on the session's connection: the ORM's
bulk machinery cost as much CPU as the chat request itself. A batch that fails (e.g. its
client was deleted meanwhile) is written again turn by turn, so one bad turn does not lose
the others. `drain()`
writes everything queued so far; `aclose()` stops the task and drains, and the app calls it on
shutdown, so a normal shutdown loses no record.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from smarter.adapters.prometheus_metrics import HISTORY_FAILURES
from smarter.adapters.sql.history import SqlConversations, SqlRequestHistory
from smarter.adapters.sql.rows import ChatMessageRow, ChatRequestRow, ChatRow, utc_now
from smarter.application.chat_ports import ChatTurn

logger = logging.getLogger(__name__)


class SqlChatRecorder:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        batch_size: int = 500,
        max_queued: int = 100_000,
        linger_seconds: float = 0.2,
    ) -> None:
        self._sessions = sessions
        self._batch_size = batch_size
        self._linger = linger_seconds
        self._queue: collections.deque[ChatTurn] = collections.deque()
        self._max_queued = max_queued
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def record(self, turn: ChatTurn) -> None:
        if len(self._queue) >= self._max_queued:
            dropped = self._queue.popleft()  # the store is down: keep memory bounded
            HISTORY_FAILURES.labels("overflow").inc()
            logger.error("chat history queue full; dropped request %s", dropped.record.request_id)
        self._queue.append(turn)
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="chat-recorder")
        self._wake.set()

    async def drain(self) -> None:
        # Turns are taken off the queue only under the lock, so an empty queue seen under the
        # lock means that no batch is being written either.
        while True:
            async with self._lock:
                if not self._queue:
                    return
                await self._write_next()

    async def aclose(self) -> None:
        """Stop the background writer and store what is still queued."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.drain()

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if len(self._queue) < self._batch_size:
                await asyncio.sleep(self._linger)  # let a batch gather
            self._wake.clear()
            try:
                await self.drain()
            except Exception:  # never let the writer die; the turns stay queued for next time
                logger.exception("writing chat history failed")
                await asyncio.sleep(1.0)

    async def _write_next(self) -> None:
        """Write one batch; the caller holds the lock."""
        batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
        try:
            await self._write_batch(batch)
        except asyncio.CancelledError:
            self._queue.extendleft(reversed(batch))
            raise
        except Exception:
            logger.warning("a chat history batch failed; writing it turn by turn")
            HISTORY_FAILURES.labels("batch").inc()
            for turn in batch:
                try:
                    await self._write([turn])
                except Exception:
                    logger.exception("dropped chat request %s", turn.record.request_id)
                    HISTORY_FAILURES.labels("turn").inc()

    async def _write_batch(self, turns: Sequence[ChatTurn]) -> None:
        """The whole batch in one transaction and a handful of statements."""
        now = utc_now()
        async with self._sessions() as session:
            connection = await session.connection()
            await connection.execute(_INSERT_REQUESTS, [_request_row(t, now) for t in turns])
            talking = [t for t in turns if t.messages]
            if talking:
                times: dict[tuple[int, str], tuple[datetime, datetime]] = {}
                for t in talking:
                    key, at = (t.record.llm_client_id, t.record.session_key), t.record.created_at
                    first, last = times.get(key, (at or now, at or now))
                    times[key] = (min(first, at or now), max(last, at or now))
                chats, created = await _chat_ids(connection, times)
                messages = []
                for t in talking:
                    chat_id = chats[(t.record.llm_client_id, t.record.session_key)]
                    at = t.record.created_at or now
                    messages += [
                        {
                            "chat_id": chat_id,
                            "role": m.role,
                            "content": m.content,
                            "created_at": m.created_at or at,
                        }
                        for m in t.messages
                    ]
                touched = [
                    {"chat": chats[key], "at": last}
                    for key, (_, last) in times.items()
                    if key not in created  # new ones were stored with their last time
                ]
                if touched:
                    await connection.execute(_TOUCH_CHATS, touched)
                await connection.execute(_INSERT_MESSAGES, messages)
            await session.commit()

    async def _write(self, turns: Sequence[ChatTurn]) -> None:
        """Turn by turn, through the repositories (the careful path after a failed batch)."""
        async with self._sessions() as session:
            history, conversations = SqlRequestHistory(session), SqlConversations(session)
            for turn in turns:
                record = turn.record
                await history.add(record)
                if turn.messages:
                    await conversations.append(
                        record.llm_client_id,
                        record.session_key,
                        list(turn.messages),
                        at=record.created_at,
                    )
            await session.commit()


_REQUESTS, _CHATS, _MESSAGES = (
    cast(Table, row.__table__) for row in (ChatRequestRow, ChatRow, ChatMessageRow)
)
_INSERT_REQUESTS = insert(_REQUESTS)
_INSERT_MESSAGES = insert(_MESSAGES)
_TOUCH_CHATS = (
    update(_CHATS).where(_CHATS.c.id == bindparam("chat")).values(updated_at=bindparam("at"))
)
_INSERT_CHATS = insert(_CHATS).returning(_CHATS.c.id, _CHATS.c.llm_client_id, _CHATS.c.session_key)


def _request_row(turn: ChatTurn, now: datetime) -> dict[str, object]:
    record = turn.record
    return {
        "llm_client_id": record.llm_client_id,
        "request_id": record.request_id,
        "session_key": record.session_key,
        "mode": record.mode,
        "status_code": record.status_code,
        "latency_ms": record.latency_ms,
        "request": record.request,
        "response": record.response,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "api_key_id": record.api_key_id,
        "created_at": record.created_at or now,
    }


async def _chat_ids(
    connection: AsyncConnection, times: dict[tuple[int, str], tuple[datetime, datetime]]
) -> tuple[dict[tuple[int, str], int], set[tuple[int, str]]]:
    """The conversation of every (client, session key) with its (first, last) time in the
    batch, created when new; and which ones were created."""
    found = await connection.execute(
        select(_CHATS.c.id, _CHATS.c.llm_client_id, _CHATS.c.session_key).where(
            _CHATS.c.session_key.in_(sorted({key for _, key in times})),
            _CHATS.c.llm_client_id.in_(sorted({client for client, _ in times})),
        )
    )
    ids = {(client, key): chat_id for chat_id, client, key in found.tuples()}
    new = [key for key in times if key not in ids]
    if new:
        created = await connection.execute(
            _INSERT_CHATS,
            [
                {"llm_client_id": c, "session_key": k, "created_at": first, "updated_at": last}
                for c, k in new
                for first, last in [times[c, k]]
            ],
        )
        ids.update({(client, key): chat_id for chat_id, client, key in created.tuples()})
    return ids, set(new)
