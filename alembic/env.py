"""Alembic's environment for Smarter: async engines, SQLite and PostgreSQL.

The database URL comes, in this order, from the caller (`upgrade_to_head` sets the
`database_url` attribute), from `alembic -x url=...`, from `sqlalchemy.url` in the
configuration, and otherwise from the settings (`SMARTER_DATABASE_URL`).
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from smarter.adapters.sql.database import make_engine
from smarter.adapters.sql.rows import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None:
    # Only when run as `alembic ...` with alembic.ini; upgrade_to_head passes no file, so
    # the application's logging is left alone.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = (
        config.attributes.get("database_url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
    )
    if url:
        return str(url)
    from smarter.entrypoints.settings import load_settings

    return load_settings().database_url


def _options(dialect_name: str) -> dict[str, Any]:
    sqlite = dialect_name == "sqlite"
    return {
        "target_metadata": target_metadata,
        # SQLite alters tables by copying them; batch mode does that for us.
        "render_as_batch": sqlite,
        # Our SQLite engine begins real transactions (see adapters/sql/database.py), so an
        # upgrade is all or nothing there as on PostgreSQL.
        "transactional_ddl": True,
        "compare_type": True,
    }


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL instead of running it."""
    url = database_url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_options(url.split(":", 1)[0].split("+", 1)[0]),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    # Foreign keys off on SQLite: a batch migration drops and recreates tables, and with
    # enforcement on, dropping a parent table would cascade-delete its children's rows.
    engine = make_engine(database_url(), enforce_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
