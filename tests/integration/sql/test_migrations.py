"""The migrations build, from an empty database, exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect
from sqlalchemy.engine import Connection

from smarter.adapters.sql.database import make_engine
from smarter.adapters.sql.migrations import (
    alembic_config,
    script_location,
    upgrade_to_head,
    upgrade_to_head_async,
)
from smarter.adapters.sql.rows import Base

from ..conftest import DIALECTS, fresh_database, run_in_thread


async def _schema_differences(url: str, metadata: MetaData) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_an_empty_database_upgraded_to_head_matches_the_models(
    dialect: str, tmp_path: Path
) -> None:
    with fresh_database(dialect, tmp_path, migrate=False) as url:
        assert await _tables(url) == set()

        await upgrade_to_head_async(url)

        assert await _schema_differences(url, Base.metadata) == []
        assert await _tables(url) == {*Base.metadata.tables, "alembic_version"}


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_schema_check_notices_a_table_the_migrations_lack(
    dialect: str, tmp_path: Path
) -> None:
    with fresh_database(dialect, tmp_path) as url:
        metadata = MetaData()
        for table in Base.metadata.tables.values():
            table.to_metadata(metadata)
        Table("not_migrated", metadata, Column("id", Integer, primary_key=True))

        differences = await _schema_differences(url, metadata)

    assert [d[0] for d in differences] == ["add_table"]


async def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision()
            )
    finally:
        await engine.dispose()


async def test_upgrading_an_up_to_date_database_changes_nothing(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        head = await _revision(url)
        await upgrade_to_head_async(url)

        assert await _revision(url) == head is not None
        assert await _schema_differences(url, Base.metadata) == []


BROKEN_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = {head!r}


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("extra", sa.String(), nullable=True))
    raise RuntimeError("the migration fails half way")
"""


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_failing_migration_leaves_the_schema_as_it_was(
    dialect: str, tmp_path: Path
) -> None:
    scripts = tmp_path / "alembic"
    shutil.copytree(script_location(), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    with fresh_database(dialect, tmp_path) as url:
        head = await _revision(url)
        (scripts / "versions" / "9999_broken.py").write_text(BROKEN_MIGRATION.format(head=head))
        config = alembic_config(url)
        config.set_main_option("script_location", str(scripts))

        with pytest.raises(RuntimeError, match="half way"):
            await asyncio.to_thread(command.upgrade, config, "head")

        assert await _revision(url) == head
        assert await _schema_differences(url, Base.metadata) == []


def test_upgrading_creates_the_folder_of_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "deeper" / "smarter.db"

    run_in_thread(upgrade_to_head, f"sqlite+aiosqlite:///{path}")

    assert path.is_file()
