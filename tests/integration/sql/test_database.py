"""The engine's SQLite adjustments: foreign keys enforced, times read back in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from smarter.adapters.sql.database import make_engine
from smarter.adapters.sql.rows import AccountRow, UserRow
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork

from .factories import NUMBER, an_account


async def test_foreign_keys_are_enforced(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        with pytest.raises(IntegrityError):
            await connection.execute(
                UserRow.__table__.insert().values(  # type: ignore[attr-defined]
                    account_id=424242,
                    username="ghost",
                    is_account_admin=False,
                    email="",
                    created_at=datetime.now(UTC),
                )
            )


async def test_times_in_any_zone_read_back_as_the_same_instant_in_utc(
    uow: SqlUnitOfWork,
) -> None:
    in_tokyo = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=9)))
    account = await an_account(uow)
    row = await uow.session.get(AccountRow, account.id)
    assert row is not None
    row.created_at = in_tokyo
    await uow.commit()
    uow.session.expunge_all()

    stored = await uow.session.scalar(select(AccountRow.created_at))
    loaded = await uow.accounts.get(NUMBER)

    assert stored == in_tokyo and stored is not None and stored.utcoffset() == timedelta(0)
    assert loaded.created_at == in_tokyo and loaded.created_at.tzinfo is not None


async def test_a_sqlite_file_gets_its_folder_and_write_ahead_logging(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "smarter.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as connection:
            mode = await connection.scalar(text("PRAGMA journal_mode"))
            keys = await connection.scalar(text("PRAGMA foreign_keys"))
    finally:
        await engine.dispose()

    assert path.is_file()
    assert (mode, keys) == ("wal", 1)


async def test_an_in_memory_sqlite_database_works_too() -> None:
    engine = make_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
            assert await connection.scalar(text("SELECT x FROM t")) == 1
    finally:
        await engine.dispose()
