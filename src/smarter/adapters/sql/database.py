"""The engine and the session factory, for PostgreSQL (asyncpg) and SQLite (aiosqlite).

SQLite needs two adjustments to behave like the PostgreSQL we run in production:

- foreign keys are enforced only when each connection asks for it (a connect-time PRAGMA);
- the sqlite3 driver's own transaction handling ignores SAVEPOINT, so a released savepoint
  would commit on its own. We switch the driver's handling off and begin the transaction
  ourselves, with `BEGIN IMMEDIATE`, right before the first statement that writes. Reads
  before that see the latest committed data (like PostgreSQL's READ COMMITTED), and a unit of
  work that reads, waits for an LLM and then writes does not hold the database's write lock
  while it waits, nor fail because another writer committed in the meantime.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_SECONDS = 15.0
_READS = ("SELECT", "PRAGMA")


def make_engine(url: str, *, enforce_foreign_keys: bool = True) -> AsyncEngine:
    """An async engine for `url`; `enforce_foreign_keys=False` is for SQLite migrations only
    (a batch migration recreates tables, which must not cascade deletes)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, enforce_foreign_keys=enforce_foreign_keys)
    return create_async_engine(
        parsed,
        connect_args={"server_settings": {"application_name": "smarter"}},
        pool_size=10,
        max_overflow=20,
        pool_timeout=30,
        pool_recycle=1800,
        pool_pre_ping=True,
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for units of work; objects stay readable after a commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _sqlite_engine(url: URL, *, enforce_foreign_keys: bool) -> AsyncEngine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see above
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enforce_foreign_keys else 'OFF'}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.close()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _begin_before_writing(
        conn: Connection,
        cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if statement.lstrip()[:6].upper() in _READS:
            return
        if not _in_transaction(conn.connection.dbapi_connection):
            cursor.execute("BEGIN IMMEDIATE")

    return engine


def _in_transaction(dbapi_connection: Any) -> bool:
    # SQLAlchemy's aiosqlite adapter wraps aiosqlite's connection, which wraps sqlite3's.
    inner = getattr(dbapi_connection, "_connection", dbapi_connection)
    return bool(inner.in_transaction)
