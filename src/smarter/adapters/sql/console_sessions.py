"""SqlSessionStore: Litestar's `Store` contract on the database, for console sessions.

Used when no Redis is configured (Redis has Litestar's own RedisStore). Expired rows are
never returned, and are deleted now and then on a write, so the table follows the number of
live sessions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar.stores.base import Store
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.sql.rows import ConsoleSessionRow, utc_now

SWEEP_EVERY_WRITES = 100


def _expiry(expires_in: int | timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    seconds = expires_in if isinstance(expires_in, timedelta) else timedelta(seconds=expires_in)
    return utc_now() + seconds


class SqlSessionStore(Store):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._writes = 0

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode("utf-8") if isinstance(value, str) else value
        async with self._sessions() as session, session.begin():
            await session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.key == key))
            session.add(ConsoleSessionRow(key=key, value=data, expires_at=_expiry(expires_in)))
            self._writes += 1
            if self._writes % SWEEP_EVERY_WRITES == 0:
                await session.execute(
                    delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= utc_now())
                )

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self._sessions() as session, session.begin():
            row = await session.get(ConsoleSessionRow, key)
            if row is None:
                return None
            if row.expires_at is not None and row.expires_at <= utc_now():
                await session.delete(row)
                return None
            if renew_for is not None and row.expires_at is not None:
                row.expires_at = _expiry(renew_for)
            return bytes(row.value)

    async def delete(self, key: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.key == key))

    async def delete_all(self) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(ConsoleSessionRow))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self._sessions() as session:
            expires_at = await session.scalar(
                select(ConsoleSessionRow.expires_at).where(ConsoleSessionRow.key == key)
            )
        if expires_at is None:
            return None
        return max(0, int((expires_at - utc_now()).total_seconds()))
