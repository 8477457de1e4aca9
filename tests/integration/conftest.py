"""Real databases for the integration tests: SQLite and PostgreSQL, never skipped.

Each dialect's database is created and migrated to head once per test session (SQLite: a
file in a temporary folder; PostgreSQL: a fresh database on 127.0.0.1:5432, user postgres,
dropped at the end) and emptied before every test that asks for it.

Fixtures for other tests (HTTP, CLI, worker) to reuse:

- `database_url`: the URL of a migrated, emptied database; parametrized over `sqlite` and
  `postgresql`, so a test using it runs once per dialect.
- `engine`, `sessions`: an engine and a session factory on it (made and disposed per test).
- `uow`: a `SqlUnitOfWork` on a fresh session; `new_uow()`: open further ones, e.g. to see
  what another transaction committed.

Helpers (plain functions): `fresh_database(dialect, folder, migrate=...)`,
`empty_database(url)`, `run_in_thread(fn, *args)`.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from smarter.adapters.sql.database import make_engine, make_session_factory
from smarter.adapters.sql.migrations import upgrade_to_head
from smarter.adapters.sql.rows import Base
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.domain.environments import Platform

DIALECTS = ("sqlite", "postgresql")
# The PostgreSQL server the tests use (trust authentication on loopback).
POSTGRES_SERVER = os.environ.get(
    "TEST_POSTGRES_SERVER", "postgresql+asyncpg://postgres@127.0.0.1:5432"
)
PLATFORM = Platform()

T = TypeVar("T")


def run_in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run `fn` in its own thread: it may start its own event loop (Alembic's env.py does)
    without touching the loop pytest-asyncio holds in this one."""
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(fn(*args))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target, name=f"run_in_thread:{fn.__name__}")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


async def _postgres_admin(statement: str) -> None:
    server = make_url(POSTGRES_SERVER)
    connection = await asyncpg.connect(
        host=server.host,
        port=server.port or 5432,
        user=server.username or "postgres",
        password=server.password,
        database="postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database(dialect: str, folder: Path, *, migrate: bool = True) -> Iterator[str]:
    """A new, empty database of `dialect` (migrated to head unless told otherwise); its URL.

    The PostgreSQL database is dropped on exit; the SQLite file lives in `folder`.
    """
    if dialect == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / f'smarter-{uuid.uuid4().hex[:8]}.db'}"
        if migrate:
            run_in_thread(upgrade_to_head, url)
        yield url
        return
    name = f"smarter_test_{uuid.uuid4().hex[:12]}"
    run_in_thread(asyncio.run, _postgres_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = f"{POSTGRES_SERVER}/{name}"
        if migrate:
            run_in_thread(upgrade_to_head, url)
        yield url
    finally:
        run_in_thread(asyncio.run, _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" (FORCE)'))


async def empty_database(url: str) -> None:
    """Delete every row of every table (identities restart on PostgreSQL)."""
    engine = make_engine(url)
    tables = Base.metadata.sorted_tables
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                names = ", ".join(f'"{table.name}"' for table in tables)
                await connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            else:
                for table in reversed(tables):
                    await connection.execute(table.delete())
    finally:
        await engine.dispose()


@pytest.fixture(scope="session", params=DIALECTS)
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated database per dialect for the whole session (shared, not emptied)."""
    with fresh_database(request.param, tmp_path_factory.mktemp("databases")) as url:
        yield url


@pytest.fixture
async def database_url(migrated_database: str) -> str:
    """A migrated database with no rows in it; tests using it run on both dialects."""
    await empty_database(migrated_database)
    return migrated_database


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


@pytest.fixture
def platform() -> Platform:
    return PLATFORM


@pytest.fixture
async def uow(
    sessions: async_sessionmaker[AsyncSession], platform: Platform
) -> AsyncIterator[SqlUnitOfWork]:
    async with sessions() as session:
        yield SqlUnitOfWork(session, platform)


@pytest.fixture
def new_uow(
    sessions: async_sessionmaker[AsyncSession], platform: Platform
) -> Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]:
    """Open another unit of work on the same database: `async with new_uow() as other:`."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[SqlUnitOfWork]:
        async with sessions() as session:
            yield SqlUnitOfWork(session, platform)

    return opened
