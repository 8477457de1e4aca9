"""SqlSessionStore: Litestar's `Store` contract on the database, for console sessions.

Used when no Redis is configured (Redis has Litestar's own RedisStore). Expired rows are
never returned, and are deleted now and then on a write, so the table follows the number of
live sessions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from litestar.stores.base import Store
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.sql.repositories import ConsoleSessionRows
from smarter.adapters.sql.rows import ConsoleSessionRow, utc_now

SWEEP_EVERY_WRITES = 100


def _expiry(expires_in: int | timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    seconds = expires_in if isinstance(expires_in, timedelta) else timedelta(seconds=expires_in)
    return utc_now() + seconds


class SqlSessionStore(Store):
    """Each call is its own transaction, through advanced-alchemy's repository of the rows.

    (advanced-alchemy's own Litestar store does not fit: its table keeps `expires_at` NOT
    NULL, while the Store contract allows values that never expire, and its model lives on
    advanced-alchemy's declarative base, outside the metadata our migrations describe.)
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._writes = 0

    @asynccontextmanager
    async def _rows(self) -> AsyncIterator[ConsoleSessionRows]:
        async with self._sessions() as session, session.begin():
            yield ConsoleSessionRows(session)

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode("utf-8") if isinstance(value, str) else value
        row = ConsoleSessionRow(key=key, value=data, expires_at=_expiry(expires_in))
        async with self._rows() as rows:
            await rows.upsert(row, match_fields=["key"])
            self._writes += 1
            if self._writes % SWEEP_EVERY_WRITES == 0:
                await rows.delete_where(
                    ConsoleSessionRow.expires_at <= utc_now(), sanity_check=False
                )

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self._rows() as rows:
            row = await rows.get_one_or_none(ConsoleSessionRow.key == key)
            if row is None:
                return None
            if row.expires_at is not None and row.expires_at <= utc_now():
                await rows.delete(key)
                return None
            if renew_for is not None and row.expires_at is not None:
                row.expires_at = _expiry(renew_for)
            return bytes(row.value)

    async def delete(self, key: str) -> None:
        async with self._rows() as rows:
            await rows.delete_where(ConsoleSessionRow.key == key, sanity_check=False)

    async def delete_all(self) -> None:
        async with self._sessions() as session, session.begin():
            # One statement: the repository's delete_where would load every row first.
            await session.execute(delete(ConsoleSessionRow))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self._rows() as rows:
            row = await rows.get_one_or_none(ConsoleSessionRow.key == key)
        if row is None or row.expires_at is None:
            return None
        return max(0, int((row.expires_at - utc_now()).total_seconds()))
